"""The boosted prison-term model: quantities read from facts, trees stored as arrays, save and load."""

from __future__ import annotations

import math

import numpy as np
import pytest

from click.testing import CliRunner

from tianping.cli.main import cli
from tianping.datasets.records import Case, Term
from tianping.prediction import create_model, load_model
from tianping.prediction.heads import MIN_RECOMMENDATION_CASES, TermHead
from tianping.prediction.quantities import (
    CIRCUMSTANCES, FEATURE_NAMES, amounts, fact_quantities, quantity_matrix, recommended_months, small_number,
    weights_in_grams)
from tianping.prediction.trees import BoostedTrees
from tianping.text.numerals import cn_to_int
from test_prediction import NEW_FACTS, _cases


@pytest.mark.parametrize(("text", "value"), [
    ("3", 3), ("12", 12), ("三", 3), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("三十五", 35),
    ("一百二十", 120), ("五六", 6), ("二十五六", 26), ("1十", 0)])
def test_small_number(text, value):
    assert small_number(text) == value


def test_amounts_and_weights():
    fact = ("被告人先后三次盗窃，窃得现金1500元、手机一部价值人民币3.5万元，另查获海洛因12.3克、"
            "甲基苯丙胺1.2千克，案号20191234567890123元不计。")
    assert amounts(fact) == [1500.0, 35000.0]
    assert weights_in_grams(fact) == [12.3, 1200.0]


@pytest.mark.parametrize(("text", "value"), [
    ("五", 5), ("十", 10), ("二百", 200), ("一千零五十", 1050), ("五千", 5000), ("一万二千", 12000),
    ("三十五万", 350000), ("一亿二千万", 120_000_000), ("万", 0)])
def test_chinese_numerals_in_amounts(text, value):
    assert cn_to_int(text) == value


def test_amounts_and_weights_in_chinese_numerals():
    fact = "被告人骗取人民币一万二千余元、现金3万元、5千元，另窃得数千元；查获海洛因五克、大麻两公斤、冰毒1.2千克。"
    assert amounts(fact) == [30000.0, 5000.0, 12000.0, 1000.0]
    assert weights_in_grams(fact) == [1200.0, 5.0, 2000.0]


def test_fact_quantities_values():
    fact = "被告人醉酒驾驶机动车，血液酒精含量为180mg/100ml。2019年3月被查获，系累犯，到案后如实供述。"
    row = fact_quantities(fact)
    assert len(row) == len(FEATURE_NAMES) == 10 + len(CIRCUMSTANCES)
    named = dict(zip(FEATURE_NAMES, row))
    assert named["log_max_amount"] == 0.0
    assert named["blood_alcohol_per_100"] == pytest.approx(1.8)
    assert named["has_recommendation"] == named["log_recommended_high"] == 0.0
    assert [name for name, value in named.items() if name.startswith("has_") and value] == \
        ["has_累犯", "has_如实供述", "has_醉酒"]
    assert quantity_matrix([fact, fact]).shape == (2, len(FEATURE_NAMES))
    assert quantity_matrix([]).shape == (0, len(FEATURE_NAMES))

def test_fact_quantities_ignore_the_writing():
    # The same case written at more length, with the defendant named twice and a date, gives the same features.
    short = "被告人张某骗取被害人现金5万元。"
    long = "经审理查明，2019年3月，被告人张某以介绍工作为由，骗取被害人现金5万元。案发后，被告人张某被抓获归案。"
    np.testing.assert_array_equal(fact_quantities(short), fact_quantities(long))


@pytest.mark.parametrize("classes", [2, 3, 6])
def test_trees_match_scikit_learn(classes):
    ensemble = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(classes)
    X = rng.random((300, 5))
    y = np.minimum((X[:, 0] * classes).astype(int), classes - 1)
    model = ensemble.HistGradientBoostingClassifier(max_iter=25, early_stopping=False, random_state=0).fit(X, y)
    trees = BoostedTrees.from_sklearn(model)
    sample = rng.random((50, 5))
    np.testing.assert_allclose(trees.probabilities(sample), model.predict_proba(sample), rtol=0, atol=1e-12)
    restored = BoostedTrees.from_arrays("t", trees.arrays("t"))
    np.testing.assert_array_equal(restored.probabilities(sample), trees.probabilities(sample))
    assert list(restored.classes) == list(range(classes))


def test_boosted_term_orders_offences(tmp_path):
    model = create_model("tfidf").fit(_cases())
    assert model.settings["term_mode"] == "boosted"
    terms = model.probabilities(NEW_FACTS).terms
    # Fraud cases were sentenced to 30-42 months, theft to 6-10 and drunk driving to 2-3.
    assert terms[1].months > terms[0].months > terms[2].months
    model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.probabilities(NEW_FACTS).terms == terms



@pytest.mark.parametrize(("fact", "expected"), [
    ("公诉机关建议判处被告人一年以上二年以下××，并处罚金。", (12, 24)),
    ("建议对被告人在××至六个月之间量刑。", (6, 6)),
    ("建议判处被告人××至十五年。", (180, 180)),
    ("建议判处被告人1年6个月至2年有期徒刑。", (18, 24)),
    ("建议对被告人判处6个月至1年5个月××。", (6, 17)),
    ("建议法院对被告人判处三至四年××。", (36, 48)),
    ("建议判处二个月十五天以上三个月十五天以下拘役。", (2, 3)),
    ("建议从轻处罚。2016年3月被告人被判处有期徒刑一年。", None),
    ("2016年3月，被告人窃得现金1500元。", None),
    ("建议于2016年3月前结案。", None),
])
def test_recommended_months(fact, expected):
    assert recommended_months(fact) == expected


def test_quantities_read_recommendation():
    named = dict(zip(FEATURE_NAMES, fact_quantities("公诉机关建议判处被告人一年以上二年以下有期徒刑。")))
    assert named["has_recommendation"] == 1.0
    assert named["log_recommended_low"] == pytest.approx(math.log1p(12))
    assert named["log_recommended_high"] == pytest.approx(math.log1p(24))


def _recommended_cases(count: int) -> tuple[list[str], list[Term]]:
    """Cases whose sentence is 60% of the middle of the recommended range."""
    facts, terms = [], []
    for index in range(count):
        low, high = 10 + 10 * (index % 5), 20 + 10 * (index % 5)
        facts.append(f"被告人第{index}次盗窃现金{1000 + 100 * index}元。公诉机关建议判处{low}个月至{high}个月有期徒刑。")
        terms.append(Term(months=round(0.6 * (low + high) / 2)))
    return facts, terms


def test_term_uses_learned_recommendation_share():
    facts, terms = _recommended_cases(MIN_RECOMMENDATION_CASES)
    X = np.zeros((len(facts), 3))
    head = TermHead(mode="regression")
    head.fit(X, terms, facts=facts)
    assert head.recommendation_share == 0.6
    new = ["被告人盗窃现金3000元。公诉机关建议判处一年以上二年以下有期徒刑。", "被告人盗窃现金3000元。"]
    predicted = head.predict(np.zeros((2, 3)), facts=new)
    assert predicted[0] == Term(months=11)
    # Without a recommendation the regression predicts on its own (here the mean of log months).
    assert predicted[1] == Term(months=int(np.rint(np.expm1(np.mean([math.log1p(t.months) for t in terms])))))
    restored = TermHead.from_state(*head.state())
    assert restored.recommendation_share == 0.6
    assert restored.predict(np.zeros((2, 3)), facts=new) == predicted


def test_recommendation_share_needs_cases():
    facts, terms = _recommended_cases(MIN_RECOMMENDATION_CASES - 1)
    head = TermHead(mode="regression")
    head.fit(np.zeros((len(facts), 3)), terms, facts=facts)
    assert head.recommendation_share is None


def test_prediction_names_term_basis(tmp_path):
    facts, terms = _recommended_cases(MIN_RECOMMENDATION_CASES)
    cases = _cases() + [Case(fact=fact, charges=["盗窃"], articles=[264], term=term, line=100 + index)
                        for index, (fact, term) in enumerate(zip(facts, terms))]
    model = create_model("tfidf").fit(cases)
    assert model.term_head.recommendation_share == 0.6
    recommended = "被告人盗窃现金3000元。公诉机关建议判处一年以上二年以下有期徒刑。"
    with_basis, without_basis = model.predict([recommended, NEW_FACTS[0]], article_texts=False)
    assert with_basis.term == Term(months=11)
    assert with_basis.to_dict()["term_basis"] == {"recommended_months": [12, 24], "share": 0.6}
    assert without_basis.to_dict()["term_basis"] is None
    model.save(tmp_path / "model")
    arguments = ["predict", "case", recommended, "--model", str(tmp_path / "model"), "--no-text"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert "刑期：11 个月（有期徒刑）\n  依据：事实中的量刑建议 12–24 个月，刑期取其中点的 0.60\n" in result.stdout
    single = CliRunner().invoke(cli, arguments[:2] + ["被告人盗窃现金3000元。公诉机关建议判处一年以下有期徒刑。"] + arguments[3:])
    assert single.exit_code == 0, single.output
    assert "  依据：事实中的量刑建议 12 个月，刑期取其中点的 0.60\n" in single.stdout
