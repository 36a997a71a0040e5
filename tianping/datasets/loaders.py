"""Loaders for judgment data: CAIL2018 JSON lines, other JSON lines and CSV files.

Every loader detects UTF-8 or GB18030, checks each record and never drops one
silently: a record with a missing or malformed field either stops the load with
an error naming its line (``on_error="raise"``) or is listed in
``Dataset.bad_records`` and skipped (``on_error="skip"``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from tianping import config
from tianping.datasets.records import BadRecord, Case, Dataset, Term
from tianping.errors import InvalidInputError
from tianping.statutes.models import parse_article_number

logger = logging.getLogger(__name__)

ON_ERROR_CHOICES = ("skip", "raise")
FORMAT_CHOICES = ("auto", "jsonl", "csv")

# Facts longer than this are rejected, so one record cannot tie up training or
# prediction; it is the limit tianping applies to any input text.
MAX_FACT_CHARS = config.MAX_TEXT_CHARS


def has_words(text: str) -> bool:
    """Return whether ``text`` contains a letter, a Chinese character or a digit, not only punctuation."""
    return any(char.isalnum() for char in text)

# The Criminal Law numbers its articles 1 to 452 (之一 articles share a number).
MAX_ARTICLE_NUMBER = 452


@dataclass(frozen=True)
class FieldMap:
    """Where each field sits in a record.

    JSON records take dotted paths into nested objects (``meta.accusation``);
    CSV files take column names. An empty string means the data has no such field.
    """

    fact: str = "fact"
    charges: str = "meta.accusation"
    articles: str = "meta.relevant_articles"
    months: str = "meta.term_of_imprisonment.imprisonment"
    death_penalty: str = "meta.term_of_imprisonment.death_penalty"
    life_imprisonment: str = "meta.term_of_imprisonment.life_imprisonment"
    fine: str = "meta.punish_of_money"
    criminals: str = "meta.criminals"
    id: str = "id"

    @classmethod
    def flat(cls) -> FieldMap:
        """Return the column names used for CSV files: fact, charges, articles, months, ..."""
        return cls(fact="fact", charges="charges", articles="articles", months="months",
                   death_penalty="death_penalty", life_imprisonment="life_imprisonment",
                   fine="fine", criminals="criminals", id="id")

    def with_overrides(self, overrides: Mapping[str, str] | None) -> FieldMap:
        """Return a copy with some fields renamed, rejecting unknown field names."""
        if not overrides:
            return self
        known = {item.name for item in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise InvalidInputError(
                f"未知的字段名：{', '.join(unknown)}",
                hint=f"可映射的字段为 {', '.join(sorted(known))}",
            )
        return replace(self, **dict(overrides))


class _RecordError(ValueError):
    """A problem with one record; the message is shown to users."""


def load_cases(
    path: str | Path,
    *,
    format: str = "auto",
    field_map: FieldMap | None = None,
    require_labels: bool = True,
    on_error: str = "skip",
    list_separator: str = ";",
    anonymize=None,
) -> Dataset:
    """Load cases from a JSON lines or CSV file.

    ``anonymize`` masks personal data in each fact before the case is
    returned, so it never reaches a model: ``True`` for the ``court`` policy,
    or a policy name, YAML path or ``tianping.anonymize.Policy``.

    ``format="auto"`` picks CSV for a ``.csv`` name and JSON lines otherwise.
    With ``require_labels`` every case must have charges, articles and a term;
    without it only the fact is required (cases to predict).
    CSV cells that hold several labels separate them with ``list_separator``,
    because charge names themselves contain 、.
    """
    if on_error not in ON_ERROR_CHOICES:
        raise InvalidInputError(f"on_error 取值无效：{on_error!r}", hint="请使用 skip 或 raise")
    if format not in FORMAT_CHOICES:
        raise InvalidInputError(f"数据格式无效：{format!r}", hint="请使用 auto、jsonl 或 csv")
    file_path = Path(path)
    if not file_path.is_file():
        raise InvalidInputError(f"数据文件不存在或不是普通文件：{file_path}", hint="请检查路径")
    text, encoding = _decode(file_path.read_bytes(), str(file_path))
    if format == "auto":
        format = "csv" if file_path.suffix.lower() == ".csv" else "jsonl"
    if field_map is None:
        field_map = FieldMap.flat() if format == "csv" else FieldMap()

    if format == "csv":
        rows = _csv_rows(text)
    else:
        rows = _jsonl_rows(text)

    cases: list[Case] = []
    bad: list[BadRecord] = []
    for line, record in rows:
        try:
            if isinstance(record, _RecordError):
                raise record
            cases.append(_to_case(record, line, field_map, require_labels, list_separator))
        except _RecordError as exc:
            if on_error == "raise":
                raise InvalidInputError(
                    f"{file_path} 第 {line} 行：{exc}",
                    hint="请修正该记录，或用 skip 模式跳过有问题的记录",
                ) from None
            bad.append(BadRecord(line, str(exc)))

    if anonymize:
        from tianping.anonymize import Anonymizer, resolve_policy

        anonymizer = Anonymizer(resolve_policy(None if anonymize is True else anonymize))
        for case in cases:
            case.fact = anonymizer.mask(case.fact).text

    # The dataset carries the bad records, and callers report them to the user in their own words.
    if bad:
        logger.info("%s: skipped %d bad records (first at line %d)", file_path, len(bad), bad[0].line)
    if not cases:
        first = f"，第 {bad[0].line} 行：{bad[0].reason}" if bad else ""
        raise InvalidInputError(
            f"{file_path} 中没有可用的案例记录（跳过 {len(bad)} 条{first}）",
            hint="请检查文件格式与字段名；字段名不同时，用 --field（Python 中为 field_map）指定，例如 fact=text",
        )
    return Dataset(cases=cases, bad_records=bad, source=str(file_path), encoding=encoding)


def load_cail(path: str | Path, *, on_error: str = "skip", require_labels: bool = True, anonymize=None) -> Dataset:
    """Load a CAIL2018 JSON lines file (fact, meta.accusation, meta.relevant_articles, ...)."""
    return load_cases(path, format="jsonl", field_map=FieldMap(), on_error=on_error,
                      require_labels=require_labels, anonymize=anonymize)


def load_label_file(path: str | Path) -> list[str]:
    """Read a label list with one label per line (accu.txt, law.txt), skipping blank lines."""
    file_path = Path(path)
    if not file_path.is_file():
        raise InvalidInputError(f"标签文件不存在或不是普通文件：{file_path}", hint="请检查路径")
    text, _ = _decode(file_path.read_bytes(), str(file_path))
    labels = [line.strip() for line in text.splitlines() if line.strip()]
    if not labels:
        raise InvalidInputError(f"标签文件为空：{file_path}", hint="每行写一个标签")
    return labels


# ----------------------------------------------------------------- parsing


def _decode(data: bytes, source: str) -> tuple[str, str]:
    from tianping.text.encoding import decode_bytes

    text = decode_bytes(data, source=source)
    try:
        data.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "gb18030"
    return text, encoding


def _jsonl_rows(text: str):
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, _RecordError(f"不是有效的 JSON（第 {exc.colno} 列起无法解析）")
            continue
        if not isinstance(record, dict):
            yield number, _RecordError("记录不是 JSON 对象")
            continue
        yield number, record


def _csv_rows(text: str):
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return
    for row in reader:
        # The header is line 1; csv counts physical lines, so quoted newlines are handled.
        yield reader.line_num, row


_MISSING = object()


def _lookup(record: Mapping, path: str):
    if not path:
        return _MISSING
    if path in record:
        return record[path]
    value = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _to_case(record: Mapping, line: int, field_map: FieldMap, require_labels: bool, separator: str) -> Case:
    fact = _lookup(record, field_map.fact)
    if fact is _MISSING or fact is None:
        raise _RecordError(f"缺少事实字段 {field_map.fact}")
    if not isinstance(fact, str):
        raise _RecordError(f"事实字段 {field_map.fact} 不是字符串")
    fact = fact.strip()
    if not fact:
        raise _RecordError(f"事实字段 {field_map.fact} 为空")
    if not has_words(fact):
        raise _RecordError(f"事实字段 {field_map.fact} 只有标点和空白，没有文字")
    if len(fact) > MAX_FACT_CHARS:
        raise _RecordError(f"事实长 {len(fact)} 字，超过上限 {MAX_FACT_CHARS} 字")

    charges = _string_list(_lookup(record, field_map.charges), field_map.charges, separator)
    articles = _article_list(_lookup(record, field_map.articles), field_map.articles, separator)
    term = _term(record, field_map)
    if require_labels:
        if not charges:
            raise _RecordError(f"缺少罪名字段 {field_map.charges} 或其为空")
        if not articles:
            raise _RecordError(f"缺少法条字段 {field_map.articles} 或其为空")
        if term is None:
            raise _RecordError(f"缺少刑期字段 {field_map.months}")

    fine = _optional_int(_lookup(record, field_map.fine), field_map.fine)
    criminals = _string_list(_lookup(record, field_map.criminals), field_map.criminals, separator)
    return Case(fact=fact, charges=charges, articles=articles, term=term, fine=fine,
                criminals=criminals, line=line, id=_optional_id(_lookup(record, field_map.id)))


def _optional_id(value) -> str | None:
    """Return a record identifier (a string or a number) as text, or None when the record has none.

    The identifier is only copied to the output, so a value of another type is ignored
    rather than costing the record.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
        return None
    return str(value)


def _string_list(value, name: str, separator: str) -> list[str]:
    if value is _MISSING or value is None or value == "":
        return []
    if isinstance(value, str):
        items = value.split(separator)
    elif isinstance(value, list):
        items = value
    else:
        raise _RecordError(f"字段 {name} 应为字符串列表")
    result = []
    for item in items:
        if not isinstance(item, str):
            raise _RecordError(f"字段 {name} 含有非字符串的值 {item!r}")
        if item.strip() and item.strip() not in result:
            result.append(item.strip())
    return result


_ARTICLE_DIGITS = re.compile(r"^\d+$")


def _article_list(value, name: str, separator: str) -> list[int]:
    if value is _MISSING or value is None or value == "":
        return []
    items = value.split(separator) if isinstance(value, str) else value
    if not isinstance(items, list):
        raise _RecordError(f"字段 {name} 应为法条编号列表")
    result: list[int] = []
    for item in items:
        number = _article_number(item, name)
        if number not in result:
            result.append(number)
    return result


def _article_number(item, name: str) -> int:
    if isinstance(item, bool):
        raise _RecordError(f"字段 {name} 含有无效的法条编号 {item!r}")
    if isinstance(item, int):
        number = item
    elif isinstance(item, str) and _ARTICLE_DIGITS.match(item.strip()):
        number = int(item.strip())
    elif isinstance(item, str):
        try:
            number, _suffix = parse_article_number(item.strip())
        except ValueError:
            raise _RecordError(f"字段 {name} 含有无效的法条编号 {item!r}") from None
    else:
        raise _RecordError(f"字段 {name} 含有无效的法条编号 {item!r}")
    if not 1 <= number <= MAX_ARTICLE_NUMBER:
        raise _RecordError(f"法条编号 {number} 超出刑法条文范围 1–{MAX_ARTICLE_NUMBER}")
    return number


def _optional_int(value, name: str) -> int | None:
    if value is _MISSING or value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _RecordError(f"字段 {name} 应为整数，实际为 {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _RecordError(f"字段 {name} 应为整数，实际为 {value!r}")
    if value < 0:
        raise _RecordError(f"字段 {name} 不能为负数：{value}")
    return value


_TRUE = {"true", "1", "yes", "是"}
_FALSE = {"false", "0", "no", "否", ""}


def _flag(value, name: str) -> bool:
    if value is _MISSING or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _RecordError(f"字段 {name} 应为 true 或 false，实际为 {value!r}")


def _term(record: Mapping, field_map: FieldMap) -> Term | None:
    months = _optional_int(_lookup(record, field_map.months), field_map.months)
    death = _flag(_lookup(record, field_map.death_penalty), field_map.death_penalty)
    life = _flag(_lookup(record, field_map.life_imprisonment), field_map.life_imprisonment)
    if death and life:
        raise _RecordError("死刑与无期徒刑不能同时为 true")
    if months is None and not (death or life):
        return None
    return Term(months=months or 0, death_penalty=death, life_imprisonment=life)
