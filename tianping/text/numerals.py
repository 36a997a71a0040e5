"""Conversion between Chinese numerals and integers (二百六十四 ↔ 264)."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
           "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

CN_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS) + "".join(_BIG_UNITS)


def cn_to_int(text: str) -> int:
    """Convert a Chinese numeral such as 二百六十四 or 一千零三十 to an integer.

    Raises ValueError when ``text`` contains anything but numeral characters.
    """
    if not text:
        raise ValueError("empty numeral")
    total = 0
    section = 0
    digit = None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            # 十 alone at the start means 10 (十五 = 15).
            section += (1 if digit is None else digit) * _UNITS[char]
            digit = None
        elif char in _BIG_UNITS:
            section += digit or 0
            total += section * _BIG_UNITS[char]
            section = 0
            digit = None
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + section + (digit or 0)


def parse_number(text: str) -> int:
    """Parse an Arabic (264, ２６４) or Chinese (二百六十四) number."""
    stripped = text.strip().translate(_FULLWIDTH)
    if stripped.isdigit():
        return int(stripped)
    return cn_to_int(stripped)


def int_to_cn(number: int) -> str:
    """Write a non-negative integer below 100,000,000 as the numerals statutes use.

    Statute numbering drops the leading 一 before 十 only for 10-19
    (第十五条, but 第一百一十五条).
    """
    if number < 0 or number >= 100_000_000:
        raise ValueError(f"out of range: {number}")
    if number == 0:
        return "零"
    if number >= 10_000:
        high, low = divmod(number, 10_000)
        tail = _int_below_10000(low, inner=True) if low else ""
        if low and low < 1000:
            tail = "零" + tail
        return _int_below_10000(high) + "万" + tail
    return _int_below_10000(number)


def _int_below_10000(number: int, inner: bool = False) -> str:
    names = "零一二三四五六七八九"
    parts = []
    zero_pending = False
    for unit_value, unit_name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // unit_value % 10
        if digit == 0:
            if parts:
                zero_pending = True
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        if unit_value == 10 and digit == 1 and not parts and not inner:
            parts.append("十")
        else:
            parts.append(names[digit] + unit_name)
    return "".join(parts)
