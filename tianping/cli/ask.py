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
@click.option("--top-k", default=5, show_default=True, help="返回的条文数（1-100）。")
@click.option("--date", help="事件发生的日期，格式 YYYY-MM-DD，用于选择当时施行的版本"
                             "（默认：问题中写明的日期，没有则为今天）。")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True,
              help="检索方式：hybrid 为 BM25 与向量检索融合，bm25 或 dense 只用其中一种。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON，供脚本使用。")
@llm_options
def ask(question, top_k, date, mode, as_json, backend, mask_personal_data) -> None:
    """回答 QUESTION：给出排序后的法条、简短回答和经过核验的引用。

    不加 --llm 时，回答摘录自最相关的条文，因此命令可以离线运行。加 --llm
    时，由大模型根据编号的条文撰写回答，回答中的每一处引用都会与法规库核对。
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
