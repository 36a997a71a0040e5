"""``tianping ask``: answer a legal question with the statute articles that apply."""

from __future__ import annotations

import click

from tianping import api
from tianping.cli.laws import _ensure_index, print_hits
from tianping.cli.output import emit_json, progress_factory, require_text


@click.command("ask")
@click.argument("question")
@click.option("--top-k", default=5, show_default=True, help="Number of articles to return (1-100).")
@click.option("--date", help="Date of the events, YYYY-MM-DD; selects the version in force (default: today).")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True,
              help="Retriever: BM25 and dense fused, or one of them.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def ask(question, top_k, date, mode, as_json) -> None:
    """Answer QUESTION with ranked statute articles: law, article, text, status and matched words."""
    require_text(question, "问题")
    store = api.open_store(progress_factory=None if as_json else progress_factory)
    _ensure_index(store, as_json)
    result = api.search(question, top_k=top_k, date=date, mode=mode, store=store)
    if as_json:
        emit_json({"question": question, **result})
        return
    click.echo(f"问题：{question}（按 {result['date']} 有效的版本检索）")
    print_hits(result)


def register(cli: click.Group) -> None:
    cli.add_command(ask)
