"""Reading a data file and turning its values into the types a template's fields declare."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from pathlib import Path

from tianping.drafting.numerals import format_amount, to_date, to_decimal
from tianping.drafting.problems import Problem
from tianping.drafting.schema import REQUIRED_ORGANIZATION, REQUIRED_PERSON, FieldSpec, TemplateSchema, party_key, party_label
from tianping.drafting.parties import party_kind
from tianping.errors import InvalidInputError, TianpingError
from tianping.text.structured import load_json, load_yaml

# A data file larger than this is rejected before it is parsed.
MAX_DATA_BYTES = 1_000_000


def load_data_file(path: str | Path) -> dict:
    """Read a YAML or JSON data file into a mapping; the suffix picks the parser (.json, or YAML otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"数据文件不存在：{path}", hint="请检查 --data 指定的路径")
    size = path.stat().st_size
    if size > MAX_DATA_BYTES:
        raise InvalidInputError(f"数据文件过大：{path}（{size} 字节），上限为 {MAX_DATA_BYTES} 字节",
                                hint="数据文件只应包含文书的字段")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"数据文件不是 UTF-8 编码：{path}", hint="请另存为 UTF-8") from None
    return parse_data_text(text, source=str(path), json_only=path.suffix.lower() == ".json")


def parse_data_text(text: str, source: str = "数据", json_only: bool = False) -> dict:
    """Parse YAML or JSON text; JSON is valid YAML, so YAML is the fallback for every other suffix."""
    if json_only:
        payload = load_json(text, source, hint="请修正该处的 JSON 语法")
    else:
        payload = load_yaml(text, source)
    if payload is None:
        raise InvalidInputError(f"数据为空：{source}", hint="请按 tianping draft show 列出的字段填写")
    if not isinstance(payload, dict):
        raise InvalidInputError(f"数据的顶层应为映射（字段名: 值）：{source}", hint="请按 tianping draft show 列出的字段填写")
    return payload


def normalize(schema: TemplateSchema, data: dict, today: _dt.date | None = None) -> tuple[dict, list[Problem]]:
    """Convert ``data`` to the field types of ``schema``; report unknown keys, bad values and missing fields.

    Keys may be field names or their Chinese labels. Defaults fill absent fields. A
    date default of "today" is the current date, with a warning that names it.
    """
    values: dict = {}
    problems: list[Problem] = []
    for key, value in data.items():
        name = schema.key_for(str(key))
        if name is None:
            problems.append(Problem("unknown_field", str(key), f"模板 {schema.name} 没有字段 {key}，该项未使用",
                                    f"请用 tianping draft show {schema.name} 查看可用字段", severity="warning"))
            continue
        values[name] = value

    for spec in schema.fields:
        value = values.get(spec.name)
        if _is_empty(value) and spec.default is not None:
            value = (today or _dt.date.today()) if spec.default == "today" else spec.default
            if spec.default == "today":
                problems.append(Problem("date_defaulted", spec.name,
                                        f"未填写{spec.label}（{spec.name}），已按今天 {value.isoformat()} 填写",
                                        f"如需其他日期，请在数据文件中填写 {spec.name}（例如 2024-03-01）",
                                        severity="warning"))
        if _is_empty(value):
            values.pop(spec.name, None)
            if spec.required:
                problems.append(Problem("missing_field", spec.name, f"缺少必填项：{spec.label}（{spec.name}）",
                                        _fill_hint(spec)))
            continue
        try:
            values[spec.name] = _convert(spec, value, problems)
        except TianpingError as exc:
            values.pop(spec.name, None)
            problems.append(Problem("invalid_value", spec.name, f"{spec.label}（{spec.name}）{exc.message}",
                                    exc.hint or _fill_hint(spec)))
    return values, problems


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value) or (
        isinstance(value, str) and not value.strip())


def _fill_hint(spec: FieldSpec) -> str:
    examples = {"date": "例如 2024-03-01", "amount": "例如 50000", "parties": "写成列表，每人一项",
                "party": "写成映射：姓名/名称、住所等", "list": "写成列表，每项一行"}
    hint = f"请在数据文件中填写 {spec.name}"
    if spec.type in examples:
        hint += f"（{examples[spec.type]}）"
    if spec.help:
        hint += f"；{spec.help}"
    return hint


def _convert(spec: FieldSpec, value, problems: list[Problem]):
    if spec.type in ("text", "longtext"):
        if isinstance(value, list) and spec.type == "longtext":
            return "\n".join(str(item).strip() for item in value if str(item).strip())
        if isinstance(value, (dict, list)):
            raise InvalidInputError("应为文字", hint=f"请把 {spec.name} 写成一段文字")
        text = str(value).strip()
        if spec.choices and text not in spec.choices:
            raise InvalidInputError(f"取值 {text!r} 无效", hint=f"可选值：{'、'.join(spec.choices)}")
        return text
    if spec.type == "date":
        return to_date(value)
    if spec.type == "amount":
        return to_decimal(value)
    if spec.type == "number":
        if isinstance(value, bool):
            raise InvalidInputError(f"数值无效：{value!r}", hint="请写成数字")
        try:
            number = Decimal(str(value).strip().rstrip("%"))
        except ArithmeticError:
            raise InvalidInputError(f"数值无效：{value!r}", hint="请写成数字") from None
        if number < 0:
            raise InvalidInputError(f"数值不能为负数：{value!r}", hint="请写成不小于 0 的数")
        return int(number) if number == number.to_integral_value() else float(number)
    if spec.type == "list":
        items = value if isinstance(value, list) else [value]
        return [_list_item(spec, item) for item in items if not _is_empty(item)]
    if spec.type == "party":
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        return _party(spec, spec.name, value, problems)
    if spec.type == "parties":
        items = value if isinstance(value, list) else [value]
        return [_party(spec, f"{spec.name}[{index}]", item, problems) for index, item in enumerate(items)]
    raise InvalidInputError(f"未知的字段类型 {spec.type}", hint="请检查模板说明文件")


def _list_item(spec: FieldSpec, item) -> str:
    """Return a list item as text; {text, amount} writes the amount in capital numerals and figures."""
    if isinstance(item, dict):
        text = str(item.get("text") or "").strip()
        if "amount" in item and item["amount"] not in (None, ""):
            text += format_amount(item["amount"])
        if not text:
            raise InvalidInputError(f"列表项缺少 text：{item!r}", hint="请写成 {text: ..., amount: ...}")
        return text
    if isinstance(item, list):
        raise InvalidInputError(f"列表项应为文字：{item!r}", hint=f"请把 {spec.name} 的每一项写成一行文字")
    return str(item).strip()


def _party(spec: FieldSpec, where: str, value, problems: list[Problem]) -> dict:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise InvalidInputError(f"当事人信息应为映射：{value!r}", hint="请写成 name、address 等键值")
    party = {}
    for key, item in value.items():
        if _is_empty(item):
            continue
        party[party_key(str(key))] = item if isinstance(item, (_dt.date, Decimal)) else str(item).strip()
    if "birth_date" in party:
        try:
            party["birth_date"] = to_date(party["birth_date"])
        except TianpingError as exc:
            problems.append(Problem("invalid_value", f"{where}.birth_date", f"{spec.label}的出生日期{exc.message}",
                                    exc.hint or "请写成 1985-06-12"))
            del party["birth_date"]
    kind = party_kind(party)
    required = (REQUIRED_ORGANIZATION if kind == "organization" else REQUIRED_PERSON)[spec.detail]
    who = party.get("name") or where
    for key in required:
        if not party.get(key):
            problems.append(Problem("missing_field", f"{where}.{key}", f"{spec.label} {who} 缺少{party_label(key)}",
                                    f"请在 {where} 下填写 {key}（{party_label(key)}）"))
    return party
