"""``tianping cite check``: verify every statute citation in a text."""

from __future__ import annotations

import click

from tianping import api
from tianping.cli.output import emit_json, progress_factory, read_input


@click.group("cite")
def cite() -> None:
    """Statute citations: find and verify them."""


@cite.command("check")
@click.argument("source", required=False, default="-")
@click.option("--date", help="Date the text refers to, YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def check(source, date, as_json) -> None:
    """Check the citations in FILE (UTF-8 or GB18030), or in standard input when FILE is - or absent.

    Exits with status 1 when any citation is invalid.
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
