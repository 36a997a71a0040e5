"""``tianping chat``: an interactive consultation that remembers the facts of earlier turns."""

from __future__ import annotations

import json
import sys

import click

from tianping import api
from tianping.cli.ask import print_answer
from tianping.cli.laws import _ensure_index
from tianping.cli.llm_options import llm_options
from tianping.cli.output import emit_json, progress_factory

EXIT_WORDS = {"退出", "exit", "quit", "q"}


@click.command("chat")
@click.option("--resume", "resume_id", help="继续该编号的对话。")
@click.option("--list", "list_only", is_flag=True, help="列出已保存的对话后退出。")
@click.option("--show", "show_id", help="显示该编号对话的各轮内容后退出。")
@click.option("--delete", "delete_id", help="删除该编号的对话后退出。")
@click.option("--date", help="事件发生的日期，格式 YYYY-MM-DD（默认：问题中的日期，没有则为今天）。")
@click.option("--json", "as_json", is_flag=True, help="每个回答输出一个 JSON 对象。")
@llm_options
def chat(resume_id, list_only, show_id, delete_id, date, as_json, backend, mask_personal_data) -> None:
    """在终端中咨询；输入“退出”或按 Ctrl-D 结束。对话会保存，之后可以继续。"""
    from tianping.generation.dialogue import Consultation, ConversationStore

    conversations = ConversationStore()
    if list_only:
        items = conversations.list()
        if as_json:
            emit_json({"conversations": items})
        for item in [] if as_json else items:
            click.echo(f"{item['id']}  {item['updated_at']}  {item['turns']} 轮  {item['title']}")
        if not items and not as_json:
            click.echo("还没有保存的对话")
        return
    if show_id:
        turns = [{"role": turn.role, "content": turn.content, "created_at": turn.created_at}
                 for turn in conversations.turns(show_id)]
        if as_json:
            emit_json({"id": show_id, "turns": turns})
        for turn in [] if as_json else turns:
            click.echo(f"{'问' if turn['role'] == 'user' else '答'}：{turn['content']}")
        return
    if delete_id:
        conversations.delete(delete_id)
        if as_json:
            emit_json({"deleted": delete_id})
        else:
            click.echo(f"已删除对话 {delete_id}")
        return
    if resume_id:
        conversations.require(resume_id)

    from tianping.generation import GroundedAnswerer
    from tianping.retrieval import LegalSearch

    store = api.open_store(progress_factory=None if as_json else progress_factory)
    _ensure_index(store, as_json)
    answerer = GroundedAnswerer(LegalSearch(store), backend=backend, mask_personal_data=mask_personal_data)
    consultation = Consultation(answerer, conversations, resume_id)
    interactive = sys.stdin.isatty()
    if interactive and not as_json:
        click.echo("请输入法律问题（输入“退出”结束）。")
    while True:
        try:
            question = input("问：" if interactive and not as_json else "")
        except EOFError:
            break
        question = question.strip()
        if not question:
            continue
        if question.lower() in EXIT_WORDS:
            break
        result = consultation.ask(question, date=date)
        if as_json:
            # One object per line, so a script can read answers as they come.
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            print_answer(result)
    if consultation.conversation_id and not as_json:
        click.echo(f"对话编号：{consultation.conversation_id}（用 tianping chat --resume {consultation.conversation_id} 继续）")


def register(cli: click.Group) -> None:
    cli.add_command(chat)
