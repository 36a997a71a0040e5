"""Loading judgment data: CAIL2018 JSON lines, CSV, encodings, bad records, vocabularies, LawBench."""

from __future__ import annotations

import json

import pytest

from tianping.datasets import (
    FieldMap,
    LabelVocabulary,
    Term,
    load_cail,
    load_cases,
    load_label_file,
    load_lawbench,
    normalize_charge,
)
from tianping.errors import InvalidInputError


def _record(fact="被告人张某盗窃现金2000元。", charges=("盗窃",), articles=(264,), months=6,
            death=False, life=False):
    return {"fact": fact, "meta": {"accusation": list(charges), "relevant_articles": list(articles),
                                   "punish_of_money": 1000, "criminals": ["张某"],
                                   "term_of_imprisonment": {"imprisonment": months, "death_penalty": death,
                                                            "life_imprisonment": life}}}


def _write_jsonl(path, records, encoding="utf-8"):
    lines = [record if isinstance(record, str) else json.dumps(record, ensure_ascii=False) for record in records]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_cail_record_fields(tmp_path):
    path = _write_jsonl(tmp_path / "cases.jsonl", [_record(), _record(death=True, months=0)])
    dataset = load_cail(path)
    first = dataset.cases[0]
    assert first.fact == "被告人张某盗窃现金2000元。"
    assert first.charges == ["盗窃"]
    assert first.articles == [264]
    assert first.term == Term(months=6)
    assert first.fine == 1000
    assert first.criminals == ["张某"]
    assert first.line == 1
    assert dataset.cases[1].term == Term(months=0, death_penalty=True)
    assert dataset.encoding == "utf-8"
    assert dataset.bad_records == []


def test_gb18030_file_is_detected(tmp_path):
    path = _write_jsonl(tmp_path / "gb.jsonl", [_record(fact="被告人李某在𠀀村诈骗他人财物。", charges=("诈骗",),
                                                        articles=(266,))], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    dataset = load_cail(path)
    assert dataset.encoding == "gb18030"
    assert dataset.cases[0].fact == "被告人李某在𠀀村诈骗他人财物。"
    assert dataset.cases[0].charges == ["诈骗"]


def test_bad_records_skipped_with_lines(tmp_path):
    records = [
        _record(),
        "{not json",
        _record(fact="   "),
        {"meta": {}},
        _record(articles=("第二百六十四条",)),
        _record(articles=(999,)),
        json.dumps([1, 2]),
        _record(death=True, life=True),
        _record(charges=()),
    ]
    dataset = load_cail(_write_jsonl(tmp_path / "mixed.jsonl", records))
    assert [case.line for case in dataset.cases] == [1, 5]
    assert dataset.cases[1].articles == [264]
    assert [bad.line for bad in dataset.bad_records] == [2, 3, 4, 6, 7, 8, 9]
    reasons = {bad.line: bad.reason for bad in dataset.bad_records}
    assert "JSON" in reasons[2]
    assert "为空" in reasons[3]
    assert "缺少事实字段" in reasons[4]
    assert "999" in reasons[6]
    assert "不是 JSON 对象" in reasons[7]
    assert "同时" in reasons[8]
    assert "罪名" in reasons[9]
    assert dataset.summary()["skipped"] == 7


def test_bad_record_raises_when_asked(tmp_path):
    path = _write_jsonl(tmp_path / "bad.jsonl", [_record(), _record(), "{oops"])
    with pytest.raises(InvalidInputError) as error:
        load_cail(path, on_error="raise")
    assert "第 3 行" in str(error.value)


def test_fact_over_limit_is_rejected(tmp_path, monkeypatch):
    from tianping.datasets import loaders

    monkeypatch.setattr(loaders, "MAX_FACT_CHARS", 10)
    dataset = load_cail(_write_jsonl(tmp_path / "long.jsonl", [_record(fact="短事实盗窃"), _record(fact="盗" * 11)]))
    assert len(dataset.cases) == 1
    assert dataset.bad_records[0].line == 2
    assert "超过上限 10 字" in dataset.bad_records[0].reason


def test_facts_only_without_labels(tmp_path):
    path = _write_jsonl(tmp_path / "facts.jsonl", [{"fact": "被告人王某醉酒驾驶机动车。"}])
    with pytest.raises(InvalidInputError):
        load_cail(path)
    dataset = load_cail(path, require_labels=False)
    assert dataset.cases[0].charges == []
    assert dataset.cases[0].term is None


def test_no_usable_record_fails(tmp_path):
    path = _write_jsonl(tmp_path / "empty.jsonl", ["{bad", ""])
    with pytest.raises(InvalidInputError) as error:
        load_cail(path)
    assert "跳过 1 条" in str(error.value)


def test_missing_file_fails(tmp_path):
    with pytest.raises(InvalidInputError) as error:
        load_cail(tmp_path / "nope.jsonl")
    assert "nope.jsonl" in str(error.value)


def test_csv_with_flat_columns(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "fact,charges,articles,months,death_penalty,life_imprisonment\n"
        '"被告人赵某盗窃，又诈骗他人。",盗窃;诈骗,264;266,18,false,false\n'
        "被告人钱某故意杀人。,故意杀人,232,,true,false\n"
        "被告人孙某。,盗窃,abc,6,false,false\n",
        encoding="utf-8")
    dataset = load_cases(path)
    assert dataset.cases[0].charges == ["盗窃", "诈骗"]
    assert dataset.cases[0].articles == [264, 266]
    assert dataset.cases[0].term == Term(months=18)
    assert dataset.cases[1].term == Term(months=0, death_penalty=True)
    assert [bad.line for bad in dataset.bad_records] == [4]


def test_jsonl_with_custom_fields(tmp_path):
    path = _write_jsonl(tmp_path / "custom.jsonl", [
        {"text": "被告人周某抢劫。", "labels": {"crimes": ["抢劫"], "laws": ["263"]}, "sentence": 36}])
    field_map = FieldMap().with_overrides({"fact": "text", "charges": "labels.crimes", "articles": "labels.laws",
                                           "months": "sentence"})
    case = load_cases(path, field_map=field_map).cases[0]
    assert (case.fact, case.charges, case.articles, case.term) == ("被告人周某抢劫。", ["抢劫"], [263], Term(36))


@pytest.mark.parametrize("record, expected", [
    ({"id": "案-001"}, "案-001"), ({"id": 42}, "42"), ({"id": 4.5}, "4.5"), ({}, None), ({"id": None}, None),
    # Other types are not identifiers, and the record still loads.
    ({"id": {"court": "X"}}, None), ({"id": True}, None), ({"id": ""}, None),
])
def test_record_identifier(tmp_path, record, expected):
    path = _write_jsonl(tmp_path / "ids.jsonl", [{"fact": "被告人周某抢劫。", **record}])
    assert load_cases(path, require_labels=False).cases[0].id == expected


def test_record_identifier_from_another_field(tmp_path):
    path = _write_jsonl(tmp_path / "ids.jsonl", [{"fact": "被告人周某抢劫。", "case_no": "(2019)京01刑初1号"}])
    field_map = FieldMap().with_overrides({"id": "case_no"})
    assert load_cases(path, field_map=field_map, require_labels=False).cases[0].id == "(2019)京01刑初1号"


def test_unknown_field_override_fails():
    with pytest.raises(InvalidInputError) as error:
        FieldMap().with_overrides({"facts": "text"})
    assert "facts" in str(error.value)


def test_invalid_options_fail(tmp_path):
    path = _write_jsonl(tmp_path / "one.jsonl", [_record()])
    with pytest.raises(InvalidInputError):
        load_cases(path, on_error="ignore")
    with pytest.raises(InvalidInputError):
        load_cases(path, format="xml")


def test_vocabulary_order_and_encoding(tmp_path):
    path = _write_jsonl(tmp_path / "v.jsonl", [
        _record(charges=("诈骗",), articles=(266,)),
        _record(charges=("盗窃", "诈骗"), articles=(264, 266)),
        _record(charges=("盗窃",), articles=(264,)),
        _record(charges=("抢劫",), articles=(263,)),
    ])
    cases = load_cail(path).cases
    vocab = LabelVocabulary.from_cases(cases, "charges", extra=["受贿", "盗窃"])
    assert vocab.labels == ["盗窃", "诈骗", "抢劫", "受贿"]
    assert vocab.counts == {"盗窃": 2, "诈骗": 2, "抢劫": 1, "受贿": 0}
    assert vocab.encode([["诈骗", "未知"], []]).tolist() == [[0, 1, 0, 0], [0, 0, 0, 0]]
    assert dict(vocab.unknown([["未知", "盗窃"], ["未知"]])) == {"未知": 2}
    assert LabelVocabulary.from_dict(vocab.to_dict()).counts == vocab.counts
    articles = LabelVocabulary.from_cases(cases, "articles")
    assert articles.labels == [264, 266, 263]


def test_label_file(tmp_path):
    path = tmp_path / "accu.txt"
    path.write_bytes("盗窃\n\n诈骗\n".encode("gb18030"))
    assert load_label_file(path) == ["盗窃", "诈骗"]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InvalidInputError):
        load_label_file(empty)


def test_normalize_charge():
    assert normalize_charge("[走私、贩卖、运输、制造]毒品") == "走私、贩卖、运输、制造毒品"
    assert normalize_charge("盗窃罪") == "盗窃"
    assert normalize_charge(" 诈骗 ") == "诈骗"


def test_lawbench_question_split(tmp_path):
    path = tmp_path / "3-4.json"
    path.write_text(json.dumps([{"instruction": "预测刑期", "question":
                                 "事实:被告人颜某盗窃手机一部。\r\n罪名:盗窃;诈骗。法条:刑法第264、266条",
                                 "answer": "刑期:4个月"}], ensure_ascii=False), encoding="utf-8")
    item = load_lawbench(path)[0]
    assert item.task == "3-4"
    assert item.fact == "被告人颜某盗窃手机一部。"
    assert item.given_charges == ["盗窃", "诈骗"]
    assert item.given_articles == [264, 266]
    assert item.answer == "刑期:4个月"


def test_lawbench_bad_file(tmp_path):
    path = tmp_path / "3-3.json"
    path.write_text('{"question": 1}', encoding="utf-8")
    with pytest.raises(InvalidInputError):
        load_lawbench(path)
    with pytest.raises(InvalidInputError):
        load_lawbench(tmp_path / "2-1.json")


@pytest.mark.data
def test_real_cail_files(real_data):
    train = load_cail(real_data / "cail2018" / "train.jsonl")
    valid = load_cail(real_data / "cail2018" / "valid.jsonl")
    assert len(train) == 3539
    assert len(valid) == 506
    assert train.bad_records == []
    first = train.cases[0]
    assert first.charges == ["[窝藏、包庇]"]
    assert first.articles == [310]
    assert first.term == Term(months=12)
    charges = LabelVocabulary.from_cases(train.cases, "charges")
    assert len(charges) == 122
    assert charges.labels[0] == "[走私、贩卖、运输、制造]毒品"
    assert len(load_label_file(real_data / "cail2018" / "accu.txt")) == 202


@pytest.mark.data
def test_real_lawbench_items(real_data):
    for task in ("3-1", "3-3", "3-4"):
        items = load_lawbench(real_data / "lawbench" / "zero_shot" / f"{task}.json")
        assert len(items) == 50
        assert all(item.fact and not item.fact.startswith("事实") for item in items)
    articles = load_lawbench(real_data / "lawbench" / "zero_shot" / "3-1.json")
    assert articles[4].given_charges == ["故意伤害", "故意毁坏财物"]
    assert articles[4].answer == "法条:刑法第234、275条"


def test_loader_masks_personal_data(tmp_path):
    import json

    from tianping.datasets.loaders import load_cail

    record = {"fact": "被害人张三（手机13800138000）被被告人盗窃人民币五千元。",
              "meta": {"accusation": ["盗窃"], "relevant_articles": [264],
                       "term_of_imprisonment": {"imprisonment": 6, "death_penalty": False,
                                                "life_imprisonment": False}}}
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", "utf-8")
    masked = load_cail(path, anonymize="strict").cases[0].fact
    assert "张三" not in masked
    assert "13800138000" not in masked
    assert "张某" in masked
    assert load_cail(path).cases[0].fact == record["fact"]


def test_fact_without_words_is_a_bad_record(tmp_path):
    dataset = load_cail(_write_jsonl(tmp_path / "marks.jsonl", [_record(), _record(fact="，。！？……")]))
    assert [case.line for case in dataset.cases] == [1]
    assert [(bad.line, bad.reason) for bad in dataset.bad_records] == [(2, "事实字段 fact 只有标点和空白，没有文字")]
