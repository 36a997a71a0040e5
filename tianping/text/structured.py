"""Reading JSON and YAML that users write, with Chinese errors that name the place.

Python's JSON and YAML parsers describe a problem in English. These helpers give
the line and column and a Chinese description, so every command reports a
syntax error the same way.

YAML reads dates (2024-02-30) as text here, not as ``datetime.date``: a
date that cannot exist is then checked and named by the code that uses the
field, as it is for the same value in JSON.
"""

from __future__ import annotations

import json
from typing import Any

from tianping.errors import InvalidInputError, require

# The messages of json.JSONDecodeError, in Chinese. Others read as 无法解析.
_JSON_PROBLEMS = {
    "Expecting value": "缺少值或含有无法识别的值",
    "Expecting property name enclosed in double quotes": "字段名应写在双引号中",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Unterminated string starting at": "字符串缺少结尾的引号",
    "Invalid control character at": "字符串中含有控制字符",
    "Invalid \\escape": "无效的转义符",
    "Extra data": "值后面还有多余的内容",
}

_YAML_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def json_problem(exc: json.JSONDecodeError, line: int | None = None) -> str:
    """Return the place and the problem of ``exc``, such as 第 1 行第 4 列缺少逗号.

    ``line`` replaces the parser's line number, for JSON lines files parsed line by line.
    """
    problem = _JSON_PROBLEMS.get(exc.msg, "无法解析")
    return f"第 {line or exc.lineno} 行第 {exc.colno} 列{problem}"


def yaml_problem(exc) -> str:
    """Return the place of a ``yaml.YAMLError``, such as 第 2 行第 2 列无法解析, or 无法解析 without one."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return "无法解析"
    place = f"第 {mark.line + 1} 行第 {mark.column + 1} 列无法解析"
    # The parser reports where it gave up. An unclosed [ or { starts earlier, at the context mark.
    start = getattr(exc, "context_mark", None)
    if start is not None and (start.line, start.column) != (mark.line, mark.column):
        place += f"（问题始于第 {start.line + 1} 行第 {start.column + 1} 列）"
    return place


def _text_date_loader(yaml):
    """Return a safe YAML loader that leaves dates as the text the user wrote."""

    class TextDateLoader(yaml.SafeLoader):
        pass

    TextDateLoader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _YAML_TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return TextDateLoader


def load_yaml(text: str, source: str, *, extra: str = "draft", package: str = "pyyaml") -> Any:
    """Parse YAML ``text`` read from ``source``. A syntax error raises InvalidInputError with its line and column."""
    yaml = require("yaml", extra, package)
    try:
        return yaml.load(text, Loader=_text_date_loader(yaml))  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"YAML 格式错误：{source} {yaml_problem(exc)}",
                                hint="请检查缩进（用空格，不用制表符）、冒号后的空格和引号") from None


def load_json(text: str, source: str, hint: str = "请检查引号、逗号和括号") -> Any:
    """Parse JSON ``text`` read from ``source``. A syntax error raises InvalidInputError with its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"JSON 格式错误：{source} {json_problem(exc)}", hint=hint) from None
