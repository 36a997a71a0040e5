"""Shared helpers for CLI output: JSON, progress bars and reading input text."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from tianping.errors import InvalidInputError
from tianping.text.encoding import decode_bytes, read_text


def emit_json(payload) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def progress_factory(total: int, label: str):
    """Return a callable that advances a progress bar on stderr, closed when the total is reached.

    When stderr is not a terminal (a log file, a pipe), a bar cannot redraw, so
    a line is written at each quarter of the total instead.
    """
    if not sys.stderr.isatty():
        return _progress_lines(total, label)
    bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
    bar.__enter__()
    state = {"done": 0}

    def advance(step: int = 1) -> None:
        bar.update(step)
        state["done"] += step
        if state["done"] >= total:
            bar.__exit__(None, None, None)

    return advance


def _progress_lines(total: int, label: str):
    state = {"done": 0, "quarter": 0}
    click.echo(f"{label}：0/{total}", err=True)

    def advance(step: int = 1) -> None:
        state["done"] = min(total, state["done"] + step)
        quarter = 4 * state["done"] // total if total else 4
        if quarter > state["quarter"]:
            state["quarter"] = quarter
            click.echo(f"{label}：{state['done']}/{total}", err=True)

    return advance


def read_input(source: str | None) -> str:
    """Read text from a file path, or from standard input when the source is '-' or absent."""
    if source in (None, "-"):
        data = sys.stdin.buffer.read()
        return decode_bytes(data, source="标准输入")
    return read_text(source)


def require_text(value: str, what: str) -> str:
    if not value or not value.strip():
        raise InvalidInputError(f"{what}为空", hint=f"请提供非空的{what}")
    return value.strip()


# A SOURCE with one of these endings and no Chinese in it names a file, not a text.
_FILE_SUFFIXES = (".txt", ".jsonl", ".json", ".csv", ".md", ".docx")
_CJK = re.compile(r"[\u3400-\u9fff]")


def reject_missing_path(source: str, what: str) -> None:
    """Raise when SOURCE, given as text or a file, is a directory or a file name that does not exist."""
    try:
        is_dir = Path(source).is_dir()
    except (OSError, ValueError):
        is_dir = False
    if is_dir:
        raise InvalidInputError(f"{source} 是目录，不是{what}文件", hint=f"请给出文件路径、{what}文本或 -（标准输入）")
    if not _CJK.search(source) and source.lower().endswith(_FILE_SUFFIXES):
        raise InvalidInputError(f"文件不存在：{source}", hint=f"请检查路径；{what}文本请直接写在引号中")
