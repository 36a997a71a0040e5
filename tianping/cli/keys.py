"""``tianping keys`` and ``tianping audit``: API keys of the HTTP service and its audit log."""

from __future__ import annotations

import json
import sys

import click

from tianping.cli.output import emit_json
from tianping.service.records import ServiceRecords

json_option = click.option("--json", "as_json", is_flag=True, help="输出 JSON，供脚本使用。")


@click.group("keys")
def keys() -> None:
    """HTTP 服务的 API 密钥；每个密钥只保存加盐的 SHA-256 值。"""


@keys.command("create")
@click.option("--name", required=True, help="密钥持有人或系统的名称，例如 case-system。")
@json_option
def create_command(name, as_json) -> None:
    """创建密钥并只显示这一次，之后无法再次显示。"""
    record, key = ServiceRecords().create_key(name)
    if as_json:
        emit_json(dict(record.to_dict(), key=key))
        return
    click.echo(key)
    click.echo(f"已创建密钥 {record.name}（编号 {record.key_id}）。密钥只显示这一次，请立即妥善保存。", err=True)


@keys.command("list")
@json_option
def list_command(as_json) -> None:
    """列出密钥及其状态；密钥本身不保存，因此无法列出。"""
    records = [record.to_dict() for record in ServiceRecords().list_keys()]
    if as_json:
        emit_json({"keys": records, "total": len(records)})
        return
    for item in records:
        state = "有效" if item["active"] else f"已吊销（{item['revoked_at']}）"
        click.echo(f"{item['name']}  编号 {item['key_id']}  创建于 {item['created_at']}  {state}  "
                   f"最近使用 {item['last_used_at'] or '从未'}")
    click.echo(f"共 {len(records)} 个")


@keys.command("revoke")
@click.argument("name")
@json_option
def revoke_command(name, as_json) -> None:
    """吊销名为 NAME 的有效密钥；使用它的请求立即返回 401。"""
    record = ServiceRecords().revoke_key(name)
    if as_json:
        emit_json(record.to_dict())
        return
    click.echo(f"已吊销密钥 {record.name}（编号 {record.key_id}）")


@click.group("audit")
def audit() -> None:
    """导出 HTTP 服务的审计日志。"""


@audit.command("export")
@click.option("--since", help="只导出该 UTC 日期当天及之后的请求，格式 YYYY-MM-DD。")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="写入这个文件（默认：标准输出）。")
def export_command(since, out) -> None:
    """以 JSON lines 导出审计记录：时间、密钥编号、端点、状态、来源和延迟。"""
    from tianping.statutes.store import check_date

    since = check_date(since)
    rows = ServiceRecords().audit_rows(since)
    stream = open(out, "w", encoding="utf-8") if out else sys.stdout
    count = 0
    try:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if out:
            stream.close()
    if out:
        click.echo(f"已导出 {count} 条审计记录到 {out}", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(keys)
    cli.add_command(audit)
