"""Amounts in capital Chinese numerals and dates in the style of court documents.

Capital amounts follow the rules for writing amounts on bills and vouchers of the
People's Bank of China (《支付结算办法》附件一《正确填写票据和结算凭证的基本规定》):

- 拾 is always preceded by a digit (¥10.00 → 壹拾元整, ¥110,000 → 壹拾壹万元整).
- A run of zeros between two non-zero digits is written as one 零
  (¥1,010 → 壹仟零壹拾元整, ¥100,010,000 → 壹亿零壹万元整).
- When the 元 digit is zero and 角 is not, 零 follows 元 (¥1,680.32 → 壹仟陆佰捌拾元零叁角贰分).
  When 角 is zero and 分 is not, 零 stands for 角 (¥325.04 → 叁佰贰拾伍元零肆分).
- 整 follows an amount that ends in 元 or 角; nothing follows 分.
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal, InvalidOperation

from tianping.errors import InvalidInputError
from tianping.text.numerals import cn_to_int

_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CAPITAL_UNITS = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
_LOWER_DIGITS = "〇一二三四五六七八九"

# Amounts up to 9,999亿 (one less than a trillion yuan) are written; larger ones are rejected.
MAX_AMOUNT = Decimal("999999999999.99")

_FIGURE = re.compile(r"^[¥￥]?\s*(-?[0-9][0-9,，]*(?:\.[0-9]+)?)\s*(万)?\s*(?:元)?$")


def to_decimal(value) -> Decimal:
    """Convert 50000, "50,000.00", "¥50,000", "5万元" or a capital numeral amount to a Decimal.

    Raises InvalidInputError for negative amounts, more than two decimal places and
    amounts above MAX_AMOUNT.
    """
    if isinstance(value, bool):
        raise InvalidInputError(f"金额无效：{value!r}", hint="请写成数字，例如 50000 或 50,000.00")
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        amount = _parse_amount_text(value)
    else:
        raise InvalidInputError(f"金额无效：{value!r}", hint="请写成数字，例如 50000 或 50,000.00")
    if amount < 0:
        raise InvalidInputError(f"金额不能为负数：{value!r}", hint="请写成不小于 0 的金额")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInputError(f"金额最多精确到分：{value!r}", hint="请保留至多两位小数")
    if amount > MAX_AMOUNT:
        raise InvalidInputError(f"金额过大：{value!r}", hint=f"金额上限为 {MAX_AMOUNT:,}")
    return amount.quantize(Decimal("0.01"))


def _parse_amount_text(text: str) -> Decimal:
    stripped = text.strip().replace("人民币", "").strip()
    match = _FIGURE.match(stripped)
    if match:
        try:
            amount = Decimal(match.group(1).replace(",", "").replace("，", ""))
        except InvalidOperation:
            amount = None
        if amount is not None:
            return amount * 10_000 if match.group(2) else amount
    try:
        return capital_to_decimal(stripped)
    except ValueError:
        raise InvalidInputError(f"金额无效：{text!r}", hint="请写成 50000、50,000.00、5万元或人民币伍万元整") from None


def capital(amount) -> str:
    """Write an amount in capital numerals: 50000 → 伍万元整, 0.05 → 伍分, 10000.5 → 壹万元零伍角整."""
    value = to_decimal(amount)
    cents = int(value * 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return "零元整"

    parts = []
    if yuan:
        parts.append(_capital_integer(yuan) + "元")
        if jiao and yuan % 10 == 0:
            parts.append("零")
    if jiao:
        parts.append(_CAPITAL_DIGITS[jiao] + "角")
    if fen:
        if yuan and not jiao:
            parts.append("零")
        parts.append(_CAPITAL_DIGITS[fen] + "分")
    else:
        parts.append("整")
    return "".join(parts)


def _capital_integer(number: int) -> str:
    sections = ((number // 100_000_000, "亿"), (number // 10_000 % 10_000, "万"), (number % 10_000, ""))
    parts = []
    zero_pending = False
    for section, section_name in sections:
        if section == 0:
            zero_pending = bool(parts)
            continue
        if parts and (zero_pending or section < 1000):
            parts.append("零")
        parts.append(_capital_section(section) + section_name)
        zero_pending = False
    return "".join(parts)


def _capital_section(number: int) -> str:
    """Write 1..9999 with 零 for inner zero runs and 壹 before every 拾."""
    parts = []
    zero_pending = False
    for unit_value, unit_name in _CAPITAL_UNITS:
        digit = number // unit_value % 10
        if digit == 0:
            zero_pending = bool(parts)
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        parts.append(_CAPITAL_DIGITS[digit] + unit_name)
    return "".join(parts)


def figures(amount) -> str:
    """Write an amount in figures with the yuan sign: 50000 → ¥50,000.00."""
    return f"¥{to_decimal(amount):,.2f}"


def format_amount(amount) -> str:
    """Write an amount in both forms: 人民币伍万元整（¥50,000.00）."""
    return f"人民币{capital(amount)}（{figures(amount)}）"


_CAPITAL_TO_LOWER = str.maketrans("壹贰叁肆伍陆柒捌玖拾佰仟", "一二三四五六七八九十百千")


def capital_to_decimal(text: str) -> Decimal:
    """Read a capital numeral amount such as 人民币壹万元零伍角整 back into a Decimal.

    Raises ValueError when the text is not a capital amount.
    """
    body = text.strip().replace("人民币", "").rstrip("整正").strip()
    if not body or not re.fullmatch(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分]+", body):
        raise ValueError(f"not a capital amount: {text!r}")
    body = body.replace("圆", "元")
    yuan_text, _, small = body.partition("元") if "元" in body else ("", "", body)
    yuan = cn_to_int(yuan_text.translate(_CAPITAL_TO_LOWER)) if yuan_text.strip("零") else 0
    jiao = fen = 0
    match = re.fullmatch(r"零?(?:([壹贰叁肆伍陆柒捌玖])角)?零?(?:([壹贰叁肆伍陆柒捌玖])分)?", small)
    if not match:
        raise ValueError(f"not a capital amount: {text!r}")
    if match.group(1):
        jiao = _CAPITAL_DIGITS.index(match.group(1))
    if match.group(2):
        fen = _CAPITAL_DIGITS.index(match.group(2))
    return Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100


def to_date(value) -> _dt.date:
    """Convert 2024-03-01, 2024年3月1日, 2024/3/1 or a date object to a date."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if match:
        try:
            return _dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise InvalidInputError(f"日期无效：{value!r}", hint="请写成 2024-03-01 或 2024年3月1日")


def court_date(value) -> str:
    """Write a date with Chinese numerals as courts date their documents: 2024-03-01 → 二〇二四年三月一日."""
    date = to_date(value)
    year = "".join(_LOWER_DIGITS[int(digit)] for digit in str(date.year))
    return f"{year}年{_small_number(date.month)}月{_small_number(date.day)}日"


def text_date(value) -> str:
    """Write a date with Arabic numerals as the body of a document does: 2024-03-01 → 2024年3月1日."""
    date = to_date(value)
    return f"{date.year}年{date.month}月{date.day}日"


def _small_number(number: int) -> str:
    tens, units = divmod(number, 10)
    if tens == 0:
        return _LOWER_DIGITS[units]
    head = "十" if tens == 1 else _LOWER_DIGITS[tens] + "十"
    return head + (_LOWER_DIGITS[units] if units else "")


_CAPITAL_AMOUNT = re.compile(
    r"[零壹贰叁肆伍陆柒捌玖][零壹贰叁肆伍陆柒捌玖拾佰仟万亿]*[元圆](?:零?[壹贰叁肆伍陆柒捌玖]角)?(?:零?[壹贰叁肆伍陆柒捌玖]分)?[整正]?"
    r"|(?<![零壹贰叁肆伍陆柒捌玖拾佰仟万亿元])(?:[壹贰叁肆伍陆柒捌玖]角(?:零?[壹贰叁肆伍陆柒捌玖]分)?|[壹贰叁肆伍陆柒捌玖]分)[整正]?"
)
_FIGURE_AMOUNT = re.compile(
    r"[¥￥]\s*(?P<sign>[0-9][0-9,]*(?:\.[0-9]+)?)"
    r"|(?<![0-9.])(?P<plain>[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?P<unit>万|亿)?\s*元"
)
_LOWER_AMOUNT = re.compile(
    r"(?<![0-9零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟])"
    r"([一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]{0,11})元"
)
_PAIR = re.compile(
    r"(?:人民币)?(?P<capital>[零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整正]+)\s*[（(]\s*(?:人民币)?\s*[¥￥]?\s*"
    r"(?P<figures>[0-9][0-9,]*(?:\.[0-9]+)?)\s*元?\s*[）)]"
    r"|[¥￥]\s*(?P<figures2>[0-9][0-9,]*(?:\.[0-9]+)?)\s*元?\s*[（(]\s*(?:人民币)?(?P<capital2>[零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整正]+)\s*[）)]"
)


def find_amounts(text: str) -> list[tuple[Decimal, int, int]]:
    """Find amounts of money written in figures (50,000元, ¥50,000.00, 5万元), capital or lower-case numerals.

    Returns (amount, start, end) sorted by position; an amount given in both forms
    appears twice.
    """
    found = []
    for match in _FIGURE_AMOUNT.finditer(text):
        digits = (match.group("sign") or match.group("plain")).replace(",", "")
        try:
            amount = Decimal(digits)
        except ArithmeticError:
            continue
        if match.group("unit") == "万":
            amount *= 10_000
        elif match.group("unit") == "亿":
            amount *= 100_000_000
        found.append((amount, match.start(), match.end()))
    for match in _CAPITAL_AMOUNT.finditer(text):
        try:
            found.append((capital_to_decimal(match.group(0)), match.start(), match.end()))
        except ValueError:
            continue
    for match in _LOWER_AMOUNT.finditer(text):
        try:
            found.append((Decimal(cn_to_int(match.group(1).replace("两", "二").replace("〇", "零"))),
                          match.start(), match.end()))
        except ValueError:
            continue
    return sorted(found, key=lambda item: item[1])


def find_amount_pairs(text: str) -> list[tuple[str, Decimal | None, Decimal | None]]:
    """Find amounts written in both forms, 人民币伍万元整（¥50,000.00） or ¥50,000.00（人民币伍万元整).

    Returns (matched text, capital value, figures value); a value is None when that
    form cannot be read.
    """
    pairs = []
    for match in _PAIR.finditer(text):
        capital_text = match.group("capital") or match.group("capital2")
        figure_text = (match.group("figures") or match.group("figures2")).replace(",", "")
        try:
            capital_value = capital_to_decimal(capital_text)
        except ValueError:
            capital_value = None
        try:
            figure_value = Decimal(figure_text)
        except ArithmeticError:
            figure_value = None
        pairs.append((match.group(0), capital_value, figure_value))
    return pairs
