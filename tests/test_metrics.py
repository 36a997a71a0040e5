"""Metrics against values computed by hand: multi-label F1, CAIL scores, term scores, LawBench scoring."""

from __future__ import annotations

import math

import pytest

from tianping.datasets import Term
from tianping.errors import InvalidInputError
from tianping.prediction import lawbench, metrics
from tianping.prediction.metrics import (
    confusion_counts,
    most_frequent,
    multilabel_scores,
    per_label_scores,
    term_case_score,
    term_scores,
)

GOLD = [["A"], ["A", "B"], ["C"]]
PREDICTED = [["A"], ["A"], ["B"]]


def test_multilabel_micro_and_macro():
    scores = multilabel_scores(GOLD, PREDICTED)
    # A: tp 2; B: fp 1, fn 1; C: fn 1 -> micro tp 2, fp 1, fn 2.
    assert scores["micro_precision"] == pytest.approx(2 / 3)
    assert scores["micro_recall"] == pytest.approx(0.5)
    assert scores["micro_f1"] == pytest.approx(4 / 7)
    assert scores["macro_f1"] == pytest.approx(1 / 3)
    assert scores["macro_precision"] == pytest.approx(1 / 3)
    assert scores["macro_recall"] == pytest.approx(1 / 3)
    assert scores["cail_score"] == pytest.approx((4 / 7 + 1 / 3) / 2 * 100)
    assert scores["labels"] == 3
    assert scores["cases"] == 3


def test_macro_counts_predicted_only_labels():
    scores = multilabel_scores([["A"]], [["A", "D"]])
    assert scores["labels"] == 2
    assert scores["macro_f1"] == pytest.approx(0.5)
    assert scores["micro_f1"] == pytest.approx(2 / 3)


def test_macro_ignores_labels_nowhere():
    # A label that neither side uses does not enter the average.
    scores = multilabel_scores([["A"], ["B"]], [["A"], ["B"]])
    assert scores["macro_f1"] == 1.0
    assert scores["cail_score"] == 100.0


def test_per_label_scores():
    scores = per_label_scores(GOLD, PREDICTED)
    assert scores["A"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}
    assert scores["B"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["C"]["support"] == 1


def test_metric_input_checks():
    with pytest.raises(InvalidInputError):
        multilabel_scores([["A"]], [])
    with pytest.raises(InvalidInputError):
        multilabel_scores([], [])
    with pytest.raises(InvalidInputError):
        term_scores([Term(1)], [])


def test_term_case_score_steps():
    assert term_case_score(Term(12), Term(12)) == 1.0
    # log(16/13) = 0.208
    assert term_case_score(Term(12), Term(15)) == 0.8
    # log(2) = 0.693
    assert term_case_score(Term(0), Term(1)) == 0.4
    # log(11/3) = 1.299
    assert term_case_score(Term(10), Term(2)) == 0.0
    # log(4/3) = 0.288, log(5/3) = 0.511, log(22/12) = 0.606, log(10/4) = 0.916
    assert term_case_score(Term(2), Term(3)) == 0.8
    assert term_case_score(Term(2), Term(4)) == 0.6
    assert term_case_score(Term(11), Term(21)) == 0.4
    assert term_case_score(Term(3), Term(9)) == 0.2


def test_term_death_and_life_must_match():
    death, life = Term(0, death_penalty=True), Term(0, life_imprisonment=True)
    assert term_case_score(death, death) == 1.0
    assert term_case_score(life, life) == 1.0
    assert term_case_score(death, life) == 0.0
    assert term_case_score(death, Term(120)) == 0.0
    assert term_case_score(Term(0), life) == 0.0


def test_term_scores_and_mae():
    gold = [Term(12), Term(12), Term(0), Term(0, death_penalty=True), Term(0, life_imprisonment=True), Term(10)]
    predicted = [Term(12), Term(15), Term(1), Term(120), Term(0, life_imprisonment=True), Term(2)]
    scores = term_scores(gold, predicted)
    assert scores["term_score"] == pytest.approx((1 + 0.8 + 0.4 + 0 + 1 + 0) / 6 * 100)
    assert scores["mae_months"] == pytest.approx((0 + 3 + 1 + 8) / 4)
    assert scores["mae_cases"] == 4


def test_confusion_counts_multilabel():
    assert confusion_counts(GOLD, PREDICTED, ["A", "B"]) == [[2, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert confusion_counts([["A"]], [[]], ["A"]) == [[0, 1], [0, 0]]


def test_most_frequent_ties_by_name():
    assert most_frequent([["B"], ["A"], ["C", "A"]], 2) == ["A", "B"]


def test_lawbench_article_parsing():
    assert lawbench.parse_articles("法条:刑法第234、275条") == {234, 275}
    assert lawbench.parse_articles("[法条]刑法第二百七十五条第一款、刑法第264条<eoa>") == {275, 264}
    assert lawbench.parse_articles("无法回答") == set()


def test_lawbench_article_score():
    answers = ["法条:刑法第234、275条", "法条:刑法第264条", "法条:刑法第133条"]
    predictions = ["[法条]刑法第234条、刑法第二百七十五条第一款<eoa>", "[法条]刑法第264条、刑法第266条<eoa>", "无法回答"]
    result = lawbench.score_articles(answers, predictions)
    assert result["score"] == pytest.approx((1 + 2 / 3 + 0) / 3 * 100)
    assert result["abstention_rate"] == pytest.approx(1 / 3)
    assert result["items"] == 3


def test_lawbench_charge_score():
    answers = ["罪名:盗窃;诈骗", "罪名:故意伤害"]
    predictions = ["[罪名]盗窃<eoa>", "[罪名]故意伤害罪;寻衅滋事<eoa>"]
    result = lawbench.score_charges(answers, predictions)
    assert result["score"] == pytest.approx(200 / 3)
    assert result["abstention_rate"] == 0.0


def test_lawbench_charges_from_free_text():
    names = ["盗窃", "诈骗", "合同诈骗"]
    assert lawbench.parse_charges("被告人构成合同诈骗罪", names) == {"合同诈骗", "诈骗"}
    assert lawbench.parse_charges("罪名:盗窃;诈骗") == {"盗窃", "诈骗"}


def test_lawbench_term_parsing():
    assert lawbench.parse_term_months("刑期:14个月") == 14
    assert lawbench.parse_term_months("[刑期]二年<eoa>") == 24
    assert lawbench.parse_term_months("12月") == 12
    # A month count wins over years, as the task's scoring reads answers.
    assert lawbench.parse_term_months("1年6个月") == 6
    assert lawbench.parse_term_months("无法判断") is None


def test_lawbench_term_score():
    answers = ["刑期:12个月", "刑期:24个月", "刑期:死刑", "刑期:6个月"]
    predictions = ["[刑期]12个月<eoa>", "[刑期]二年<eoa>", "x", "不知道"]
    result = lawbench.score_terms(answers, predictions)
    # Two exact answers (d = 0), one missing (d = log 216), the death sentence left out.
    assert result["score"] == pytest.approx(200 / 3)
    assert result["abstention_rate"] == 0.25
    assert result["items"] == 3
    half = lawbench.score_terms(["刑期:8个月"], ["[刑期]2个月<eoa>"])
    assert half["score"] == pytest.approx((math.log(216) - math.log(9 / 3)) / math.log(216) * 100)


def test_lawbench_format_answer():
    assert lawbench.format_answer("3-1", articles=[264, 266]) == "[法条]刑法第264条、刑法第266条<eoa>"
    assert lawbench.format_answer("3-3", charges=["盗窃", "诈骗"]) == "[罪名]盗窃;诈骗<eoa>"
    assert lawbench.format_answer("3-4", months=7) == "[刑期]7个月<eoa>"
    with pytest.raises(InvalidInputError):
        lawbench.format_answer("2-1")


def test_lawbench_length_mismatch():
    with pytest.raises(InvalidInputError):
        lawbench.score_charges(["罪名:盗窃"], [])


def _accuracy(gold, predicted):
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold)


def test_bootstrap_interval_exact_cases():
    # Every resample of all-correct predictions scores 100.
    gold = [["盗窃"], ["诈骗"], ["抢劫"]]
    assert metrics.bootstrap_interval(metrics.cail_label_score, gold, gold, resamples=50) == (100.0, 100.0)
    # One right and one wrong case: a resample of two scores 0, 0.5 or 1 with chances 1/4, 1/2, 1/4,
    # so the central 95% of 1000 resamples runs from 0 to 1, and the central 20% is 0.5.
    assert metrics.bootstrap_interval(_accuracy, [1, 1], [1, 0]) == (0.0, 1.0)
    assert metrics.bootstrap_interval(_accuracy, [1, 1], [1, 0], level=0.2) == (0.5, 0.5)


def test_bootstrap_interval_repeatable_and_covering():
    gold = [Term(12), Term(6), Term(36), Term(0), Term(24), Term(8)]
    predicted = [Term(12), Term(9), Term(30), Term(2), Term(24), Term(20)]
    first = metrics.bootstrap_interval(metrics.cail_term_score, gold, predicted, resamples=300, seed=7)
    assert first == metrics.bootstrap_interval(metrics.cail_term_score, gold, predicted, resamples=300, seed=7)
    low, high = first
    assert low < metrics.cail_term_score(gold, predicted) < high


@pytest.mark.parametrize("settings, message", [
    ({"resamples": 0}, "重抽样次数"),
    ({"level": 1.0}, "置信水平"),
])
def test_bootstrap_interval_rejects_bad_settings(settings, message):
    with pytest.raises(InvalidInputError, match=message):
        metrics.bootstrap_interval(_accuracy, [1], [1], **settings)
    with pytest.raises(InvalidInputError, match="数量不一致"):
        metrics.bootstrap_interval(_accuracy, [1, 0], [1])


def test_reliability_bins_and_ece():
    confidences = [0.1, 0.2, 0.4, 0.6, 0.95, 0.95, 1.0, 0.9]
    correct = [False, True, True, False, True, True, True, False]
    table = metrics.reliability(confidences, correct)
    assert [entry["range"] for entry in table["bins"]] == [[0.0, 0.3], [0.3, 0.5], [0.5, 0.7], [0.7, 0.9],
                                                           [0.9, 1.0]]
    assert [entry["cases"] for entry in table["bins"]] == [2, 1, 1, 0, 4]
    assert [entry["correct"] for entry in table["bins"]] == [0.5, 1.0, 0.0, None, 0.75]
    assert table["bins"][0]["mean_confidence"] == pytest.approx(0.15)
    assert table["bins"][4]["mean_confidence"] == pytest.approx(0.95)
    assert table["bins"][3]["mean_confidence"] is None
    assert table["correct"] == 0.625
    assert table["mean_confidence"] == pytest.approx(5.1 / 8)
    # (2 × 0.35 + 1 × 0.6 + 1 × 0.6 + 4 × 0.2) / 8
    assert table["ece"] == pytest.approx(2.7 / 8)


def test_reliability_rejects_bad_input():
    with pytest.raises(InvalidInputError, match="评估集为空"):
        metrics.reliability([], [])
    with pytest.raises(InvalidInputError, match="数量不一致"):
        metrics.reliability([0.5], [True, False])
