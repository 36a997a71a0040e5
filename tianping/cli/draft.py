"""``tianping draft``: court filings and contracts from a data file or a case description.

``draft`` is a click group with the subcommands ``list``, ``show`` and ``fill``. Any
other first argument is taken as a template name, so ``tianping draft NAME ...``
runs ``tianping draft fill NAME ...``; templates cannot be called list, show or fill.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tianping.cli.llm_options import llm_options
from tianping.cli.output import emit_json, reject_missing_path
from tianping.errors import InvalidInputError


class DraftGroup(click.Group):
    """A group that treats an unknown first argument as a template name for ``fill``."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["fill", *args]
        return super().resolve_command(ctx, args)


@click.group("draft", cls=DraftGroup, invoke_without_command=True)
@click.pass_context
def draft_group(ctx: click.Context) -> None:
    """起草诉讼文书和合同，输出 .docx、Markdown 或 PDF。

    \b
    tianping draft list
    tianping draft show TEMPLATE
    tianping draft TEMPLATE --data FILE --out FILE
    tianping draft TEMPLATE --facts TEXT|FILE --out FILE

    第一个参数不是 list、show 或 fill 时，视为模板名称：“tianping draft NAME ...”等同于“tianping
    draft fill NAME ...”。
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@draft_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON，供脚本使用。")
def list_command(as_json: bool) -> None:
    """列出内置模板和 $TIANPING_HOME/templates 中的用户模板。"""
    from tianping.drafting import list_templates

    templates = list_templates()
    if as_json:
        emit_json({"total": len(templates), "templates": templates})
        return
    for item in templates:
        others = [alias for alias in item["aliases"] if alias != item["title"]]
        aliases = f"（也可写作：{'、'.join(others)}）" if others else ""
        source = "" if item["source"] == "builtin" else f"  [{item['source']}]"
        click.echo(f"{item['name']:<22}{item['title']}{aliases}{source}")


@draft_group.command("show")
@click.argument("template")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON，供脚本使用。")
def show_command(template: str, as_json: bool) -> None:
    """显示 TEMPLATE 的字段，必填项标有 *。"""
    from tianping.drafting import resolve_template

    schema = resolve_template(template).schema
    if as_json:
        emit_json(schema.to_dict())
        return
    click.echo(f"{schema.title}（{schema.name}）{schema.description}")
    click.echo("带 * 的为必填项。")
    for spec in schema.fields:
        mark = "*" if spec.required else " "
        default = f"，默认：{'今天' if spec.default == 'today' else spec.default}" if spec.default is not None else ""
        click.echo(f" {mark} {spec.name:<20}{spec.label}［{spec.type}{default}］")
        if spec.type in ("party", "parties"):
            payload = spec.to_dict()["required_details"]
            click.echo(f"      自然人必填：{'、'.join(payload['person'])}；单位必填：{'、'.join(payload['organization'])}")
        if spec.help:
            click.echo(f"      {spec.help}")


@draft_group.command("fill")
@click.argument("template")
@click.option("--data", "data_path", type=click.Path(path_type=Path),
              help="包含文书字段的 YAML 或 JSON 文件（字段见 draft show）。")
@click.option("--facts", "facts_source",
              help="用于抽取字段的案情描述：直接写文本、给出 UTF-8 或 GB18030 编码的文件路径，或用 - 表示标准输入。")
@click.option("--out", "out_path", type=click.Path(path_type=Path),
              help="输出文件，扩展名决定格式：.docx、.md 或 .pdf（PDF 需要 LibreOffice）。")
@click.option("--markdown", "markdown_path", type=click.Path(path_type=Path),
              help="另外把供审阅的 Markdown 副本写到这个 .md 文件。")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="把 JSON 报告（使用的字段、检查、引用以及强制放行的检查）写到这个文件。")
@click.option("--allow-invalid-citations", is_flag=True,
              help="法条引用无效时仍写出文书；这一选择会记入报告和 .docx 文档属性。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 报告，供脚本使用。")
@llm_options(writes="事实与理由部分", sends="案情描述")
def fill_command(template, data_path, facts_source, out_path, markdown_path, report_path, allow_invalid_citations,
                 as_json, backend, mask_personal_data) -> None:
    """用 --data 和/或 --facts 填写 TEMPLATE 并检查，全部检查通过时写出 --out。

    不加 --out 时只做检查，并打印 Markdown 预览。同时给出 --data 和 --facts
    时，数据文件中的值优先于抽取的值，两处都给出的当事人逐项合并。有检查未通过时退出码为 1，此时不写出输出文件。
    """
    from tianping.drafting import draft
    from tianping.drafting.values import load_data_file

    data = load_data_file(data_path) if data_path is not None else None
    facts = _read_facts(facts_source) if facts_source is not None else None
    result = draft(template, data=data, facts=facts, out=out_path, markdown_out=markdown_path,
                   allow_invalid_citations=allow_invalid_citations, backend=backend,
                   mask_personal_data=mask_personal_data)
    payload = result.to_dict()
    if report_path is not None:
        from tianping.drafting.render import atomic_output

        with atomic_output(report_path) as temporary:
            temporary.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    if as_json:
        emit_json(payload)
    else:
        _print_result(result, preview=out_path is None and markdown_path is None)
    if result.blocking:
        raise SystemExit(1)


def _read_facts(source: str) -> str:
    from tianping.drafting.extract import MAX_FACTS_CHARS
    from tianping.text.encoding import decode_bytes, read_text

    if source == "-":
        return decode_bytes(sys.stdin.buffer.read(), source="标准输入")
    path = Path(source)
    try:
        is_file = "\n" not in source and path.is_file()
    except OSError:  # a long description is not a valid file name
        is_file = False
    if is_file:
        if path.stat().st_size > MAX_FACTS_CHARS * 4:
            raise InvalidInputError(f"案情描述文件过大：{path}", hint=f"案情描述上限为 {MAX_FACTS_CHARS} 字")
        return read_text(str(path))
    reject_missing_path(source, "案情描述")
    return source


def _print_result(result, preview: bool) -> None:
    if result.extraction is not None:
        extracted = result.extraction.to_dict()["extracted"]
        click.echo(f"从案情描述中提取了 {len(extracted)} 项：{'、'.join(extracted) or '无'}")
        if result.extraction.missing:
            click.echo(f"仍缺少：{'、'.join(result.extraction.missing)}（请用 --data 补充）")
    click.echo(f"使用的字段：{'、'.join(result.fields_used) or '无'}")
    for check in result.checks():
        mark = "✓" if check["passed"] else ("!" if check.get("overridden") else "✗")
        click.echo(f"{mark} {check['check']}")
    for problem in result.problems:
        level = "错误" if problem.severity == "error" else "提示"
        click.echo(f"  {level} [{problem.field}] {problem.message}\n      修改：{problem.fix}")
    if result.citations:
        valid = sum(1 for item in result.citations if item["valid"])
        click.echo(f"法条引用 {len(result.citations)} 处（按 {result.citation_date} 核对），有效 {valid} 处。")
    if "allow_invalid_citations" in result.overrides and any(not item["valid"] for item in result.citations):
        click.echo("注意：已按 --allow-invalid-citations 保留无效引用，此选择已记入报告和文书属性。")
    if result.written:
        for kind, path in result.outputs.items():
            click.echo(f"已写入 {kind}：{path}")
    elif result.blocking:
        click.echo(f"有 {len(result.blocking)} 个问题需要修改，未写入文件。")
    if preview and result.markdown:
        click.echo("\n" + result.markdown)


def register(cli: click.Group) -> None:
    cli.add_command(draft_group)
