"""LawBench judgment-prediction items (tasks 3-1, 3-3 and 3-4) as structured records.

A LawBench task file is a JSON list of ``{instruction, question, answer}``. In
these tasks the question starts with ``事实:`` and, for 3-1 and 3-4, ends with the
given charges (``罪名:盗窃。``) and articles (``法条:刑法第264条``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tianping.errors import InvalidInputError
from tianping.text.encoding import read_text
from tianping.text.structured import load_json

TASKS = ("3-1", "3-3", "3-4")

_GIVEN_CHARGES = re.compile(r"\n?罪名[:：]([^\n]*?)。?(?:法条[:：]|$)")
_GIVEN_ARTICLES = re.compile(r"法条[:：]刑法第([0-9、]+)条")


@dataclass
class LawBenchItem:
    """One LawBench item split into the fact, the labels given in the question, and the answer."""

    task: str
    fact: str
    answer: str
    given_charges: list[str] = field(default_factory=list)
    given_articles: list[int] = field(default_factory=list)


def load_lawbench(path: str | Path, task: str | None = None) -> list[LawBenchItem]:
    """Load a LawBench task file; ``task`` defaults to the file name without extension (3-1)."""
    file_path = Path(path)
    task = task or file_path.stem
    if task not in TASKS:
        raise InvalidInputError(f"不支持的 LawBench 任务：{task}", hint=f"可用任务为 {', '.join(TASKS)}")
    raw_items = load_json(read_text(file_path), str(file_path),
                          hint="LawBench 文件应为 {instruction, question, answer} 的 JSON 列表")
    if not isinstance(raw_items, list):
        raise InvalidInputError(f"{file_path} 不是 JSON 列表", hint="LawBench 文件应为 JSON 列表")
    items = []
    for position, raw in enumerate(raw_items, start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("question"), str) \
                or not isinstance(raw.get("answer"), str):
            raise InvalidInputError(f"{file_path} 第 {position} 项缺少 question 或 answer 字符串",
                                    hint="每项应为 {instruction, question, answer}")
        items.append(_split_question(task, raw["question"], raw["answer"]))
    return items


def _split_question(task: str, question: str, answer: str) -> LawBenchItem:
    body = question.replace("\r\n", "\n").strip()
    if body.startswith("事实:") or body.startswith("事实："):
        body = body[3:]
    charges: list[str] = []
    articles: list[int] = []
    if task in ("3-1", "3-4"):
        marker = body.rfind("\n罪名")
        if marker != -1:
            tail = body[marker:]
            body = body[:marker]
            match = _GIVEN_CHARGES.search(tail)
            if match:
                charges = [name.strip() for name in match.group(1).split(";") if name.strip()]
            article_match = _GIVEN_ARTICLES.search(tail)
            if article_match:
                articles = [int(number) for number in article_match.group(1).split("、") if number]
    return LawBenchItem(task=task, fact=body.strip(), answer=answer.strip(),
                        given_charges=charges, given_articles=articles)
