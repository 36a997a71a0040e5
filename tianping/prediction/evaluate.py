"""Evaluation of a judgment model on labelled cases: metrics, per-class scores and a confusion plot."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tianping.datasets.records import Case, normalize_charge
from tianping.errors import InvalidInputError, require
from tianping.prediction.metrics import (
    bootstrap_interval,
    cail_label_score,
    cail_term_score,
    confusion_counts,
    most_frequent,
    multilabel_scores,
    per_label_scores,
    reliability,
    term_scores,
)
from tianping.prediction.model import JudgmentModel

logger = logging.getLogger(__name__)

# The confusion plot shows this many of the most frequent gold charges.
CONFUSION_CHARGES = 15

# Font families that can draw Chinese charge names, tried in this order.
_CJK_FONTS = ("Noto Sans CJK", "Noto Serif CJK", "Source Han", "WenQuanYi", "SimHei", "Droid Sans Fallback")

# Cases predicted per call, so memory stays flat on large evaluation sets.
BATCH_SIZE = 256


def evaluate(model: JudgmentModel, cases: Sequence[Case], progress=None, bootstrap: int = 0) -> dict:
    """Predict every case and score charges, articles and terms against the gold labels.

    Gold labels the model does not know are counted in ``unknown_labels``; they
    stay in the scores as misses, because the model cannot predict them. With
    ``bootstrap`` > 0, the report also gives 95% bootstrap intervals of the three
    CAIL scores from that many resamples of the cases. ``confidence`` compares
    each case's confidence with whether its most probable charge is a gold one
    (``metrics.reliability``).
    """
    if not cases:
        raise InvalidInputError("评估集为空", hint="请提供带标注的案例")
    missing = [case.line for case in cases if not case.charges or not case.articles or case.term is None]
    if missing:
        raise InvalidInputError(f"评估数据中有 {len(missing)} 个案例缺少标注（首个在第 {missing[0]} 行）",
                                hint="评估数据必须带罪名、法条和刑期")
    started = time.perf_counter()
    predictions = []
    for start in range(0, len(cases), BATCH_SIZE):
        batch = cases[start:start + BATCH_SIZE]
        predictions.extend(model.predict([case.fact for case in batch], article_texts=False, evidence=0))
        if progress:
            progress(len(batch))
    seconds = time.perf_counter() - started

    gold_charges = [case.charges for case in cases]
    gold_articles = [case.articles for case in cases]
    predicted_charges = gold_spelling([[entry["name"] for entry in p.charges] for p in predictions], gold_charges)
    predicted_articles = [[entry["article_number"] for entry in p.articles] for p in predictions]
    known = {normalize_charge(label) for label in model.charge_vocab.labels}
    unknown_charges = Counter(name for names in gold_charges for name in names if normalize_charge(name) not in known)
    unknown_articles = model.article_vocab.unknown(gold_articles)
    if unknown_charges or unknown_articles:
        # The report lists them under unknown_labels, and the CLI prints a warning from there.
        logger.info("evaluation data has %d charge and %d article labels unknown to the model",
                       sum(unknown_charges.values()), sum(unknown_articles.values()))
    frequent = most_frequent(gold_charges, CONFUSION_CHARGES)
    gold_terms, predicted_terms = [case.term for case in cases], [p.term for p in predictions]
    intervals = None
    if bootstrap:
        intervals = {}
        for name, score, gold, predicted in (("charges", cail_label_score, gold_charges, predicted_charges),
                                             ("articles", cail_label_score, gold_articles, predicted_articles),
                                             ("term", cail_term_score, gold_terms, predicted_terms)):
            low, high = bootstrap_interval(score, gold, predicted, resamples=bootstrap)
            intervals[name] = [round(low, 2), round(high, 2)]
    # predicted_charges keeps each case's order (most probable first) in the gold spelling.
    top_charge_correct = [bool(names) and names[0] in gold for names, gold in zip(predicted_charges, gold_charges)]
    return {
        "cases": len(cases),
        "model_kind": model.kind,
        "charges": multilabel_scores(gold_charges, predicted_charges),
        "articles": multilabel_scores(gold_articles, predicted_articles),
        "term": term_scores(gold_terms, predicted_terms),
        "intervals": intervals,
        "abstained": sum(p.abstained for p in predictions),
        "confidence": _rounded(reliability([p.confidence for p in predictions], top_charge_correct)),
        "unknown_labels": {"charges": dict(unknown_charges.most_common()),
                           "articles": {str(k): v for k, v in unknown_articles.most_common()}},
        "per_charge": _rows(per_label_scores(gold_charges, predicted_charges)),
        "per_article": _rows(per_label_scores(gold_articles, predicted_articles)),
        "confusion": {"labels": frequent,
                      "matrix": confusion_counts(gold_charges, predicted_charges, frequent)},
        "seconds": round(seconds, 2),
        "cases_per_second": round(len(cases) / seconds, 1) if seconds > 0 else None,
    }


def gold_spelling(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> list[list[str]]:
    """Write each predicted charge as the gold labels spell it, when they spell it differently.

    A charge list may write 劫持船只、汽车 where CAIL2018 writes 劫持[船只、汽车].
    Both name one charge, so scoring compares them by ``normalize_charge``.
    """
    spelling = {normalize_charge(name): name for names in gold for name in names}
    return [[spelling.get(normalize_charge(name), name) for name in names] for names in predicted]


def _rounded(value):
    """Round the floats in nested lists and dicts to 4 places."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _rows(scores: dict) -> list[dict]:
    rows = [{"label": label, **_rounded(entry)} for label, entry in scores.items()]
    return sorted(rows, key=lambda row: (-row["support"], str(row["label"])))


def write_report(report: dict, directory: str | Path) -> dict:
    """Write report.json, per_class.csv and confusion.png into ``directory``; return their paths."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    paths = {"report": str(target / "report.json"), "per_class": str(target / "per_class.csv"),
             "confusion_plot": str(target / "confusion.png")}
    Path(paths["report"]).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    with open(paths["per_class"], "w", encoding="utf-8") as handle:
        handle.write("kind,label,precision,recall,f1,support\n")
        for kind in ("per_charge", "per_article"):
            for row in report[kind]:
                label = str(row["label"]).replace('"', '""')
                handle.write(f'{kind[4:]},"{label}",{row["precision"]},{row["recall"]},{row["f1"]},'
                             f'{row["support"]}\n')
    plot_confusion(report["confusion"]["labels"], report["confusion"]["matrix"], paths["confusion_plot"])
    return paths


def cjk_font() -> str | None:
    """Return the name of an installed font that draws Chinese, or None."""
    require("matplotlib", "predict")
    from matplotlib import font_manager

    installed = sorted({font.name for font in font_manager.fontManager.ttflist})
    return next((name for key in _CJK_FONTS for name in installed if key in name), None)


def plot_confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]], path: str | Path) -> None:
    """Draw the charge confusion matrix as a PNG; the last row and column stand for other labels.

    Without a font that draws Chinese, the charges are numbered from 1 in the
    order of ``labels`` instead of named, so that no label is drawn as boxes.
    """
    matplotlib = require("matplotlib", "predict")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    if font:
        names = [str(label) for label in labels] + ["其他"]
        titles = ("预测罪名", "标准罪名")
    else:
        names = [str(number) for number in range(1, len(labels) + 1)] + ["other"]
        titles = ("predicted charge (number in report.json confusion.labels)", "gold charge (number)")
    _draw_confusion(plt, font, names, titles, matrix, path)


def _draw_confusion(plt, font: str | None, names: list[str], titles: tuple[str, str], matrix, path) -> None:
    size = max(6.0, 0.45 * len(names) + 3)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(names)))
    axes.set_yticks(range(len(names)))
    family = {"fontfamily": font} if font else {}
    axes.set_xticklabels(names, rotation=90, fontsize=7, **family)
    axes.set_yticklabels(names, fontsize=7, **family)
    axes.set_xlabel(titles[0], **family)
    axes.set_ylabel(titles[1], **family)
    for row, values in enumerate(matrix):
        for column, value in enumerate(values):
            if value:
                axes.text(column, row, str(value), ha="center", va="center", fontsize=6)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
