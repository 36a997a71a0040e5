"""``tianping keys`` and ``tianping audit``: API keys of the HTTP service and its audit log."""

from __future__ import annotations

import json
import sys

import click

from tianping.cli.output import emit_json
from tianping.service.records import ServiceRecords

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@click.group("keys")
def keys() -> None:
    """API keys for the HTTP service; only a salted SHA-256 of each key is stored."""


@keys.command("create")
@click.option("--name", required=True, help="Name of the key's holder or system, e.g. case-system.")
@json_option
def create_command(name, as_json) -> None:
    """Create a key and print it once; it cannot be shown again."""
    record, key = ServiceRecords().create_key(name)
    if as_json:
        emit_json(dict(record.to_dict(), key=key))
        return
    click.echo(key)
    click.echo(f"已创建密钥 {record.name}（编号 {record.key_id}）。密钥只显示这一次，请立即妥善保存。", err=True)


@keys.command("list")
@json_option
def list_command(as_json) -> None:
    """List keys with their state; the keys themselves are not stored and cannot be listed."""
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
    """Revoke the active key named NAME; requests with it get 401 at once."""
    record = ServiceRecords().revoke_key(name)
    if as_json:
        emit_json(record.to_dict())
        return
    click.echo(f"已吊销密钥 {record.name}（编号 {record.key_id}）")


@click.group("audit")
def audit() -> None:
    """Export the audit log of the HTTP service."""


@audit.command("export")
@click.option("--since", help="Only requests on or after this UTC date, YYYY-MM-DD.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default: stdout).")
def export_command(since, out) -> None:
    """Export audit rows as JSON lines: time, key id, endpoint, status, sources and latency."""
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
