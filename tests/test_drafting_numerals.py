import datetime as dt
from decimal import Decimal

import pytest

from tianping.drafting.numerals import (capital, capital_to_decimal, court_date, figures, find_amount_pairs,
                                        find_amounts, format_amount, text_date, to_decimal)
from tianping.errors import InvalidInputError

CAPITAL_TABLE = [
    ("0.05", "伍分"),
    ("0.5", "伍角整"),
    ("0.56", "伍角陆分"),
    ("0", "零元整"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("15", "壹拾伍元整"),
    ("100", "壹佰元整"),
    ("110", "壹佰壹拾元整"),
    ("1,010", "壹仟零壹拾元整"),
    ("1,001", "壹仟零壹元整"),
    ("1,680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("10,000.5", "壹万元零伍角整"),
    ("10,000", "壹万元整"),
    ("50,000", "伍万元整"),
    ("100,010", "壹拾万零壹拾元整"),
    ("105,000", "壹拾万伍仟元整"),
    ("107,000.53", "壹拾万柒仟元零伍角叁分"),
    ("1,000,100", "壹佰万零壹佰元整"),
    ("1,001,000", "壹佰万壹仟元整"),
    ("100,000,000", "壹亿元整"),
    ("100,000,001", "壹亿零壹元整"),
    ("100,010,000", "壹亿零壹万元整"),
    ("1,000,000,000", "壹拾亿元整"),
    ("123,456,789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ("999,999,999,999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
]


@pytest.mark.parametrize(("amount", "expected"), CAPITAL_TABLE)
def test_capital_table(amount, expected):
    assert capital(amount) == expected


@pytest.mark.parametrize(("amount", "expected"), CAPITAL_TABLE)
def test_capital_reads_back(amount, expected):
    assert capital_to_decimal(expected) == to_decimal(amount)


def test_format_amount_both_forms():
    assert format_amount(50000) == "人民币伍万元整（¥50,000.00）"
    assert format_amount("10,000.5") == "人民币壹万元零伍角整（¥10,000.50）"
    assert figures(Decimal("0.05")) == "¥0.05"


@pytest.mark.parametrize("value", [50000, 50000.0, "50000", "50,000.00", "¥50,000", "5万元", "人民币伍万元整"])
def test_to_decimal_accepts_usual_forms(value):
    assert to_decimal(value) == Decimal("50000.00")


@pytest.mark.parametrize("value", ["-1", "0.001", "1000000000000", "五十块", True, [1]])
def test_to_decimal_rejects(value):
    with pytest.raises(InvalidInputError):
        to_decimal(value)


@pytest.mark.parametrize(("date", "court", "text"), [
    ("2024-03-01", "二〇二四年三月一日", "2024年3月1日"),
    ("2020-12-31", "二〇二〇年十二月三十一日", "2020年12月31日"),
    ("2019年10月10日", "二〇一九年十月十日", "2019年10月10日"),
    (dt.date(2008, 8, 20), "二〇〇八年八月二十日", "2008年8月20日"),
])
def test_dates(date, court, text):
    assert court_date(date) == court
    assert text_date(date) == text


def test_invalid_date_rejected():
    with pytest.raises(InvalidInputError, match="日期无效"):
        court_date("2024-02-30")


def test_find_amounts_in_text():
    text = "借款5万元，利息2,000元，共计五万二千元，另付¥300.50"
    assert [amount for amount, _, _ in find_amounts(text)] == [
        Decimal("50000"), Decimal("2000"), Decimal("52000"), Decimal("300.50")]


def test_find_amount_pairs_mismatch():
    pairs = find_amount_pairs("本金人民币伍万元整（¥60,000.00）")
    assert pairs[0][1] == Decimal("50000")
    assert pairs[0][2] == Decimal("60000.00")
