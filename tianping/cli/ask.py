"""``tianping ask``: answer a legal question with the statute articles that apply."""

from __future__ import annotations

import click

from tianping import api
from tianping.cli.laws import _ensure_index, print_hits
from tianping.cli.llm_options import llm_options
from tianping.cli.output import emit_json, progress_factory, require_text


def print_answer(result: dict) -> None:
    click.echo("")
    click.echo(result["answer"])
    click.echo("")
    click.echo(f"置信度：{result['confidence']:.2f}")
    for note in result["notes"]:
        click.echo(f"提示：{note}")
    for citation in result["citations"]:
        if citation["action"] != "kept" or not citation["valid"]:
            click.echo(f"引用核验：{citation['text']} → {citation['message']}")
    click.echo(result["disclaimer"])


@click.command("ask")
@click.argument("question")
@click.option("--top-k", default=5, show_default=True, help="Number of articles to return (1-100).")
@click.option("--date", help="Date of the events, YYYY-MM-DD; selects the version in force (default: a date "
                             "written in the question, else today).")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True,
              help="Retriever: BM25 and dense fused, or one of them.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@llm_options
def ask(question, top_k, date, mode, as_json, backend, mask_personal_data) -> None:
    """Answer QUESTION with ranked statute articles, a short answer and verified citations.

    Without --llm the answer is an extract of the best articles, so the command
    works offline. With --llm an LLM writes it from the numbered articles, and
    every citation it writes is checked against the statute store.
    """
    require_text(question, "问题")
    store = api.open_store(progress_factory=None if as_json else progress_factory)
    _ensure_index(store, as_json)
    result = api.ask(question, top_k=top_k, date=date, mode=mode, backend=backend, store=store,
                     mask_personal_data=mask_personal_data)
    if as_json:
        emit_json(result)
        return
    click.echo(f"问题：{question}（按 {result['date']} 有效的版本检索）")
    print_hits(result, notes=False)
    print_answer(result)


def register(cli: click.Group) -> None:
    cli.add_command(ask)
