import pytest

from tianping.text.numerals import cn_to_int, int_to_cn, parse_number

CASES = [
    (1, "一"), (10, "十"), (15, "十五"), (20, "二十"), (101, "一百零一"), (110, "一百一十"),
    (115, "一百一十五"), (264, "二百六十四"), (1000, "一千"), (1010, "一千零一十"),
    (1254, "一千二百五十四"), (1260, "一千二百六十"), (10001, "一万零一"),
]


@pytest.mark.parametrize(("number", "numeral"), CASES)
def test_int_to_cn_statute_style(number, numeral):
    assert int_to_cn(number) == numeral


@pytest.mark.parametrize(("number", "numeral"), CASES)
def test_cn_to_int_round_trip(number, numeral):
    assert cn_to_int(numeral) == number


@pytest.mark.parametrize(("text", "number"), [("264", 264), ("２６４", 264), ("两百", 200), ("壹佰", 100)])
def test_parse_number_forms(text, number):
    assert parse_number(text) == number


def test_cn_to_int_rejects_other_text():
    with pytest.raises(ValueError):
        cn_to_int("二百条")
