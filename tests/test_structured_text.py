import json

import pytest

from tianping.errors import InvalidInputError
from tianping.text.structured import json_problem, load_json, load_yaml


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": }', "JSON 格式错误：f.json 第 1 行第 7 列缺少值或含有无法识别的值"),
    ("{a: 1}", "JSON 格式错误：f.json 第 1 行第 2 列字段名应写在双引号中"),
    ("[1 2]", "JSON 格式错误：f.json 第 1 行第 4 列缺少逗号"),
    ('{"a" 1}', "JSON 格式错误：f.json 第 1 行第 6 列缺少冒号"),
    ('{"a": "x', "JSON 格式错误：f.json 第 1 行第 7 列字符串缺少结尾的引号"),
    ("1 2", "JSON 格式错误：f.json 第 1 行第 3 列值后面还有多余的内容"),
    ('{\n  "a": 1,\n}', "JSON 格式错误：f.json 第 3 行第 1 列字段名应写在双引号中"),
])
def test_json_errors_in_chinese(text, message):
    with pytest.raises(InvalidInputError) as error:
        load_json(text, "f.json")
    assert error.value.message == message


def test_json_lines_error_uses_the_file_line():
    with pytest.raises(json.JSONDecodeError) as error:
        json.loads("{bad")
    assert json_problem(error.value, line=12) == "第 12 行第 2 列字段名应写在双引号中"


def test_yaml_keeps_dates_as_written_text():
    assert load_yaml("date: 2024-02-30\nday: 2024-03-01\ncount: 3\n", "d.yaml") == {
        "date": "2024-02-30", "day": "2024-03-01", "count": 3}


def test_yaml_error_names_line_and_column_without_english():
    with pytest.raises(InvalidInputError) as error:
        load_yaml("a: [1, 2\nb: c\n", "d.yaml")
    assert error.value.message == "YAML 格式错误：d.yaml 第 2 行第 2 列无法解析（问题始于第 1 行第 4 列）"
    assert "expected" not in error.value.message
