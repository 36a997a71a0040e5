"""Metrics of judgment prediction: multi-label F1, the CAIL2018 scores and term error.

Macro-F1 averages the per-label F1 over the labels that occur in the gold labels
or in the predictions of the evaluated set. Labels that occur in neither are
left out: the CAIL2018 judge counts such labels as F1 = 1, which raises the
score of any model evaluated on a small set.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from tianping.datasets.records import Term
from tianping.errors import InvalidInputError


def _check_lengths(gold: Sequence, predicted: Sequence) -> None:
    if len(gold) != len(predicted):
        raise InvalidInputError(f"标准答案有 {len(gold)} 条，预测有 {len(predicted)} 条，数量不一致",
                                hint="请为每个案例各提供一条预测")
    if not gold:
        raise InvalidInputError("评估集为空", hint="请至少提供一个案例")


def label_counts(gold: Sequence[Iterable], predicted: Sequence[Iterable]) -> dict:
    """Count true positives, false positives and false negatives per label."""
    _check_lengths(gold, predicted)
    counts: dict = {}
    for gold_labels, predicted_labels in zip(gold, predicted):
        gold_set, predicted_set = set(gold_labels), set(predicted_labels)
        for label in gold_set | predicted_set:
            entry = counts.setdefault(label, {"tp": 0, "fp": 0, "fn": 0})
            if label in gold_set and label in predicted_set:
                entry["tp"] += 1
            elif label in predicted_set:
                entry["fp"] += 1
            else:
                entry["fn"] += 1
    return counts


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return precision, recall, f1


def per_label_scores(gold: Sequence[Iterable], predicted: Sequence[Iterable]) -> dict:
    """Return precision, recall, F1 and support (gold count) of every label seen."""
    result = {}
    for label, entry in label_counts(gold, predicted).items():
        precision, recall, f1 = _prf(entry["tp"], entry["fp"], entry["fn"])
        result[label] = {"precision": precision, "recall": recall, "f1": f1,
                         "support": entry["tp"] + entry["fn"]}
    return result


def multilabel_scores(gold: Sequence[Iterable], predicted: Sequence[Iterable]) -> dict:
    """Return micro and macro precision, recall and F1, and the CAIL score (0–100).

    The CAIL score is (micro-F1 + macro-F1) / 2 × 100. An evaluated set in which
    no case has a gold or predicted label has no labels to average, so every
    score is 0.
    """
    counts = label_counts(gold, predicted)
    tp = sum(entry["tp"] for entry in counts.values())
    fp = sum(entry["fp"] for entry in counts.values())
    fn = sum(entry["fn"] for entry in counts.values())
    micro_precision, micro_recall, micro_f1 = _prf(tp, fp, fn)
    per_label = [_prf(entry["tp"], entry["fp"], entry["fn"]) for entry in counts.values()]
    if per_label:
        macro_precision = sum(p for p, _, _ in per_label) / len(per_label)
        macro_recall = sum(r for _, r, _ in per_label) / len(per_label)
        macro_f1 = sum(f for _, _, f in per_label) / len(per_label)
    else:
        macro_precision = macro_recall = macro_f1 = 0.0
    return {
        "micro_precision": micro_precision,
        "micro_recall": micro_recall,
        "micro_f1": micro_f1,
        "macro_precision": macro_precision,
        "macro_recall": macro_recall,
        "macro_f1": macro_f1,
        "cail_score": (micro_f1 + macro_f1) / 2 * 100,
        "labels": len(counts),
        "cases": len(gold),
    }


# Score of a fixed-term prediction by v = |log(y + 1) − log(ŷ + 1)|, as CAIL2018 defines it.
_TERM_STEPS = ((0.2, 1.0), (0.4, 0.8), (0.6, 0.6), (0.8, 0.4), (1.0, 0.2))


def term_case_score(gold: Term, predicted: Term) -> float:
    """Score one predicted term between 0 and 1 by the CAIL2018 rule.

    Death and life imprisonment score 1 when both sides agree and 0 otherwise;
    fixed terms score by the log distance v: 1.0 at v ≤ 0.2, then 0.8, 0.6, 0.4
    and 0.2 at v ≤ 0.4, 0.6, 0.8 and 1.0, and 0 above.
    """
    if gold.death_penalty or predicted.death_penalty:
        return 1.0 if gold.death_penalty and predicted.death_penalty else 0.0
    if gold.life_imprisonment or predicted.life_imprisonment:
        return 1.0 if gold.life_imprisonment and predicted.life_imprisonment else 0.0
    distance = abs(math.log(gold.months + 1) - math.log(predicted.months + 1))
    for limit, score in _TERM_STEPS:
        if distance <= limit:
            return score
    return 0.0


def term_scores(gold: Sequence[Term], predicted: Sequence[Term]) -> dict:
    """Return the CAIL2018 term score (mean × 100) and the mean absolute error in months.

    The error covers only cases where both sides are fixed terms, and
    ``mae_cases`` is their count.
    """
    _check_lengths(gold, predicted)
    total = sum(term_case_score(g, p) for g, p in zip(gold, predicted))
    fixed = [(g.months, p.months) for g, p in zip(gold, predicted)
             if not (g.death_penalty or g.life_imprisonment or p.death_penalty or p.life_imprisonment)]
    mae = sum(abs(g - p) for g, p in fixed) / len(fixed) if fixed else 0.0
    return {"term_score": round(total / len(gold) * 100, 6), "mae_months": round(mae, 6), "mae_cases": len(fixed),
            "cases": len(gold)}


def confusion_counts(gold: Sequence[Iterable], predicted: Sequence[Iterable], labels: Sequence) -> list[list[int]]:
    """Count, for each pair (gold label a, predicted label b), the cases that have both.

    A multi-label case adds one to every pair it has. Row and column
    ``len(labels)`` stand for "other": labels outside ``labels``, or none at all.
    """
    _check_lengths(gold, predicted)
    position = {label: i for i, label in enumerate(labels)}
    other = len(labels)
    matrix = [[0] * (other + 1) for _ in range(other + 1)]
    for gold_labels, predicted_labels in zip(gold, predicted):
        gold_rows = {position.get(label, other) for label in gold_labels} or {other}
        predicted_columns = {position.get(label, other) for label in predicted_labels} or {other}
        for row in gold_rows:
            for column in predicted_columns:
                matrix[row][column] += 1
    return matrix


def most_frequent(label_sets: Iterable[Iterable], count: int) -> list:
    """Return the ``count`` most frequent labels, ties broken by label text."""
    counter: Counter = Counter()
    for labels in label_sets:
        counter.update(set(labels))
    ranked = sorted(counter.items(), key=lambda pair: (-pair[1], str(pair[0])))
    return [label for label, _ in ranked[:count]]


def bootstrap_interval(score: Callable[[list, list], float], gold: Sequence, predicted: Sequence, *,
                       resamples: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Return a percentile bootstrap interval of ``score(gold, predicted)`` over the evaluated cases.

    Each resample draws as many cases as there are, with replacement, and scores
    them. The interval spans the central ``level`` share of those scores, which
    shows how much a score could move on another sample of the same size. Macro
    averages move the most, since a label seen once enters or leaves a resample.
    """
    _check_lengths(gold, predicted)
    if resamples < 1:
        raise InvalidInputError(f"自助重抽样次数应至少为 1：{resamples}", hint="例如 1000")
    if not 0.0 < level < 1.0:
        raise InvalidInputError(f"置信水平应在 0 到 1 之间：{level}", hint="例如 0.95")
    generator = random.Random(seed)
    count = len(gold)
    values = []
    for _ in range(resamples):
        rows = [generator.randrange(count) for _ in range(count)]
        values.append(score([gold[row] for row in rows], [predicted[row] for row in rows]))
    values.sort()
    tail = (1.0 - level) / 2
    low = values[min(resamples - 1, int(math.floor(tail * resamples)))]
    high = values[max(0, int(math.ceil((1.0 - tail) * resamples)) - 1)]
    return low, high


def cail_label_score(gold: Sequence[Iterable], predicted: Sequence[Iterable]) -> float:
    """Return the CAIL score (0–100) of charge or article predictions."""
    return multilabel_scores(gold, predicted)["cail_score"]


def cail_term_score(gold: Sequence[Term], predicted: Sequence[Term]) -> float:
    """Return the CAIL2018 term score (0–100)."""
    return term_scores(gold, predicted)["term_score"]


# Upper edges of the confidence bins in ``reliability``. The last bin includes 1.0.
CONFIDENCE_EDGES = (0.3, 0.5, 0.7, 0.9, 1.0)


def reliability(confidences: Sequence[float], correct: Sequence[bool],
                edges: Sequence[float] = CONFIDENCE_EDGES) -> dict:
    """Compare stated confidence with how often the top prediction was right.

    Cases fall into bins by confidence: [0, edges[0]), [edges[0], edges[1]), …,
    the last bin closed at 1. Per bin: cases, the share whose top prediction is
    right, and the mean confidence. ``ece`` (expected calibration error) is the
    case-weighted mean of |share right − mean confidence| over the bins.
    """
    _check_lengths(correct, confidences)
    bins = []
    lower = 0.0
    for index, upper in enumerate(edges):
        last = index == len(edges) - 1
        members = [i for i, value in enumerate(confidences)
                   if lower <= value < upper or (last and lower <= value <= upper)]
        share = sum(bool(correct[i]) for i in members) / len(members) if members else None
        mean = sum(confidences[i] for i in members) / len(members) if members else None
        bins.append({"range": [lower, upper], "cases": len(members), "correct": share, "mean_confidence": mean})
        lower = upper
    total = len(confidences)
    ece = sum(entry["cases"] / total * abs(entry["correct"] - entry["mean_confidence"])
              for entry in bins if entry["cases"])
    return {"bins": bins, "correct": sum(map(bool, correct)) / total,
            "mean_confidence": sum(confidences) / total, "ece": ece}
