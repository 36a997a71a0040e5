"""``tianping cite check``: verify every statute citation in a text."""

from __future__ import annotations

import click

from tianping import api
from tianping.cli.output import emit_json, progress_factory, read_input


@click.group("cite")
def cite() -> None:
    """法条引用：识别并核验。"""


@cite.command("check")
@click.argument("source", required=False, default="-")
@click.option("--date", help="文本所针对的日期，格式 YYYY-MM-DD（默认：今天）。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON，供脚本使用。")
def check(source, date, as_json) -> None:
    """核验 SOURCE 文件（UTF-8 或 GB18030 编码）中的引用；SOURCE 为 - 或省略时读取标准输入。

    有任何无效引用时，退出码为 1。
    """
    text = read_input(source)
    store = api.open_store(progress_factory=None if as_json else progress_factory)
    result = api.check_citations(text, date=date, store=store)
    if as_json:
        emit_json(result)
    else:
        for item in result["citations"]:
            if item["reason"] == "unchecked_article":
                mark = "?"
            elif item["valid"]:
                mark = "✓"
            else:
                mark = "✗"
            click.echo(f"{mark} {item['text']}：{item['message']}")
            if item["diff"]:
                click.echo(f"    差异（[-原文-]{{+引文+}}）：{item['diff']}")
        click.echo(f"共 {result['total']} 处引用，有效 {result['valid']} 处，有问题 {result['invalid']} 处。")
    if result["invalid"]:
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    cli.add_command(cite)
