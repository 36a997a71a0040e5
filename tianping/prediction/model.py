"""Judgment prediction models behind one interface: fit, predict with probabilities, save, load.

A model directory contains ``manifest.json`` (tianping version, model kind, format
version, configuration, label vocabularies and a SHA-256 of the arrays) and
``arrays.npz`` (weights and thresholds). Nothing is pickled, so loading a model
runs no code from the directory. Other model families, such as a fine-tuned
transformer, plug in by subclassing ``JudgmentModel`` and registering a kind.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tianping import __version__
from tianping.datasets.loaders import MAX_FACT_CHARS, has_words
from tianping.datasets.records import Case, Term, normalize_charge
from tianping.datasets.vocab import LabelVocabulary
from tianping.errors import InvalidInputError, NotFoundError
from tianping.prediction.features import EmbeddingFeaturizer, TfidfFeaturizer
from tianping.prediction.grounding import ArticleTexts, event_date
from tianping.prediction.heads import LabelHead, TermHead, decide, tune_thresholds
from tianping.statutes.models import format_article_number

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
ARRAYS_NAME = "arrays.npz"
# Increased whenever saved arrays stop matching the features the code computes. Format 2:
# the term model reads amounts written in Chinese numerals, so format 1 term trees must be retrained.
# Format 3: three term features from the sentencing recommendation, and the learned share of it.
# Format 4: the term features no longer include the fact's length, defendant mentions and dates.
FORMAT_VERSION = 4

# A prediction abstains when its confidence, the calibrated probability that its most
# probable charge is right, is below this.
DEFAULT_ABSTAIN_BELOW = 0.3

# Weight of the articles implied by the predicted charges against the article head's own
# probabilities. Most charges are defined by one article, so the two mostly agree. The
# value is not tuned: on the CAIL2018 validation sample, weights from 0 to 0.5 gave
# article scores within 0.7 points of each other.
DEFAULT_ARTICLE_FROM_CHARGES = 0.5
# Single-charge training cases that a charge needs before its defining articles are those that most of
# them cite, and cases in all that it needs before the articles of its companion charges are dropped.
MIN_SINGLE_CHARGE_CASES = 3
# Share of a charge's training cases (and of its single-charge ones) that must cite an article for the
# article to define the charge.
DEFINING_SHARE = 0.5

# Masked names in judgments: 张某, 李某某, 王某甲, 肖X.
_MASKED_NAME = re.compile(r"[\u4e00-\u9fff](?:某+|[X×Ｘ]+)[甲乙丙丁戊己庚辛]?")

TERM_MODES = ("boosted", "buckets", "regression")

Progress = Callable[[int], None]
ProgressFactory = Callable[[int, str], Progress]


@dataclass
class CasePrediction:
    """The prediction for one case, in the public JSON shape of ``to_dict``."""

    charges: list[dict]
    articles: list[dict]
    term: Term
    confidence: float
    abstained: bool
    candidates: list[dict] = field(default_factory=list)
    event_date: str | None = None
    # Set when the term follows the sentencing recommendation quoted in the facts.
    term_basis: dict | None = None

    def to_dict(self) -> dict:
        return {
            "charges": self.charges,
            "articles": self.articles,
            "term": self.term.to_dict(),
            "confidence": round(self.confidence, 4),
            "abstained": self.abstained,
            "candidates": self.candidates,
            "event_date": self.event_date,
            "term_basis": self.term_basis,
        }


@dataclass
class Probabilities:
    """Calibrated probabilities for a batch of facts (rows) over the model's labels (columns)."""

    charges: np.ndarray
    articles: np.ndarray
    terms: list[Term]
    features: object = None


def check_facts(facts: Sequence[str]) -> list[str]:
    """Reject empty facts, facts without words and facts over the length limit, naming the case by position."""
    if isinstance(facts, str):
        raise InvalidInputError("facts 应为字符串列表，而不是单个字符串", hint="单个案例请传入 [fact]")
    if not facts:
        raise InvalidInputError("没有要预测的案例", hint="请至少提供一段案情事实")
    cleaned = []
    for position, fact in enumerate(facts, start=1):
        # A single fact needs no position in the message.
        subject = f"第 {position} 个案例的事实" if len(facts) > 1 else "案情事实"
        if not isinstance(fact, str) or not fact.strip():
            raise InvalidInputError(f"{subject}为空", hint="请提供非空的案情事实")
        if not has_words(fact):
            raise InvalidInputError(f"{subject}只有标点和空白，没有文字：{fact.strip()[:20]!r}",
                                    hint="请用文字写出案情事实")
        if len(fact) > MAX_FACT_CHARS:
            raise InvalidInputError(
                f"{subject}长 {len(fact)} 字，超过上限 {MAX_FACT_CHARS} 字",
                hint="请只提供案情事实部分",
            )
        cleaned.append(fact.strip())
    return cleaned


class JudgmentModel:
    """Base class: a featurizer, linear heads for charges and articles, and a term head."""

    kind = "base"
    featurizer_class: type = TfidfFeaturizer

    def __init__(self, *, C: float = 1.0, class_weight: str | None = "balanced", folds: int = 3,
                 term_mode: str = "boosted", term_alpha: float = 1.0,
                 article_from_charges: float = DEFAULT_ARTICLE_FROM_CHARGES,
                 abstain_below: float = DEFAULT_ABSTAIN_BELOW, featurizer: dict | None = None):
        if term_mode not in TERM_MODES:
            raise InvalidInputError(f"刑期模式无效：{term_mode!r}", hint=f"请使用 {'、'.join(TERM_MODES)} 之一")
        if not 0.0 <= abstain_below <= 1.0:
            raise InvalidInputError(f"拒答阈值应在 0 到 1 之间：{abstain_below}", hint="例如 0.3")
        if not 0.0 <= article_from_charges <= 1.0:
            raise InvalidInputError(f"article_from_charges 应在 0 到 1 之间：{article_from_charges}",
                                    hint="例如 0.5")
        self.settings = {"C": C, "class_weight": class_weight, "folds": folds, "term_mode": term_mode,
                         "term_alpha": term_alpha, "article_from_charges": article_from_charges,
                         "abstain_below": abstain_below}
        self.featurizer = self.featurizer_class(**(featurizer or {}))
        self.charge_vocab: LabelVocabulary | None = None
        self.article_vocab: LabelVocabulary | None = None
        self.charge_head: LabelHead | None = None
        self.article_head: LabelHead | None = None
        self.term_head: TermHead | None = None
        # P(article | charge) from training co-occurrence, charges × articles.
        self.charge_articles: np.ndarray | None = None
        self.training_info: dict = {}
        self._article_texts: ArticleTexts | None = None

    # ------------------------------------------------------------ training

    def fit(self, train: Sequence[Case], valid: Sequence[Case] | None = None,
            progress_factory: ProgressFactory | None = None, extra_charges: Sequence[str] = (),
            extra_articles: Sequence[int] = ()) -> JudgmentModel:
        """Train on labelled cases; calibrate and tune thresholds on ``valid`` or out of fold.

        ``extra_charges`` and ``extra_articles`` add labels that no training case
        carries, such as the full charge list of a data set. A supervised head
        never predicts them, but the statute-grounded model can.
        """
        started = time.perf_counter()
        train = _labelled(train, "训练集")
        valid = _labelled(valid, "验证集") if valid else None
        # A charge list may spell a trained charge differently (窝藏、包庇 for [窝藏、包庇]).
        trained = {normalize_charge(name) for case in train for name in case.charges}
        extra_charges = [name for name in extra_charges if normalize_charge(name) not in trained]
        self.charge_vocab = LabelVocabulary.from_cases(train, "charges", extra=extra_charges)
        self.article_vocab = LabelVocabulary.from_cases(train, "articles", extra=extra_articles)
        logger.info("training %s on %d cases: %d charges, %d articles", self.kind, len(train),
                    len(self.charge_vocab), len(self.article_vocab))

        facts = [case.fact for case in train]
        examples = self._extra_examples(train)
        features = self._fit_features(facts + [example.fact for example in examples], progress_factory)
        X, X_examples = features[:len(facts)], features[len(facts):]
        X_valid = self.featurizer.transform([case.fact for case in valid]) if valid else None
        Y_charges = self.charge_vocab.encode([case.charges for case in train])
        Y_articles = self.article_vocab.encode([case.articles for case in train])
        self.charge_articles = _conditional(Y_charges, Y_articles)
        self._refine_charge_articles(train)
        charge_extra = article_extra = None
        if examples:
            charge_extra = (X_examples, self.charge_vocab.encode([example.charges for example in examples]))
            article_extra = (X_examples, self.article_vocab.encode([example.articles for example in examples]))

        held_out_charges = self._fit_head("charge_head", X, Y_charges, X_valid, valid, "charges", progress_factory,
                                          charge_extra)
        held_out_articles = self._fit_head("article_head", X, Y_articles, X_valid, valid, "articles",
                                           progress_factory, article_extra)
        # Thresholds for articles apply to the combined probabilities, so tune them on those.
        targets = self.article_vocab.encode([case.articles for case in (valid or train)])
        combined = self._combine_articles(held_out_articles, held_out_charges)
        self.article_head.thresholds, self.article_head.global_threshold = tune_thresholds(combined, targets)

        self.term_head = TermHead(mode=self.settings["term_mode"], alpha=self.settings["term_alpha"])
        term_progress = progress_factory(self.term_head.fit_steps(), "刑期模型") if progress_factory else None
        self.term_head.fit(X, [case.term for case in train], charges=Y_charges, facts=facts, progress=term_progress)
        self._after_fit(train, X)
        self.training_info = {"train_cases": len(train), "valid_cases": len(valid) if valid else 0,
                              "seconds": round(time.perf_counter() - started, 1),
                              "calibration": "validation set" if valid else "out of fold"}
        return self

    def _fit_features(self, texts: list[str], progress_factory: ProgressFactory | None):
        return self.featurizer.fit_transform(texts)

    def _extra_examples(self, train: Sequence[Case]) -> list[Case]:
        """Return labelled texts that the charge and article heads train on besides the cases."""
        return []

    def _fit_head(self, name, X, Y, X_valid, valid, kind, progress_factory, extra=None):
        head = LabelHead(C=self.settings["C"], class_weight=self.settings["class_weight"],
                         folds=self.settings["folds"])
        progress = None
        if progress_factory:
            # Each fold refits every label, so the bar counts (folds + 1) passes.
            passes = 1 if valid or X.shape[0] < 2 * self.settings["folds"] else self.settings["folds"] + 1
            progress = progress_factory(Y.shape[1] * passes, "罪名分类器" if kind == "charges" else "法条分类器")
        Y_valid = getattr(self, f"{'charge' if kind == 'charges' else 'article'}_vocab").encode(
            [getattr(case, kind) for case in valid]) if valid else None
        held_out = head.fit(X, Y, X_valid, Y_valid, progress=progress, extra=extra)
        setattr(self, name, head)
        return held_out

    def _refine_charge_articles(self, train: Sequence[Case]) -> None:
        """Drop from P(article | charge) the common articles that do not define the charge.

        A robbery then no longer implies the theft article that most robbery
        cases cite because a theft comes with them (see ``_defining_articles``).
        """
        self._keep_defining_articles(*self._defining_articles(train))

    def _keep_defining_articles(self, defining: list[list[int]], linked: list[bool]) -> None:
        """Set P(article | charge) to 0 for common articles outside ``defining``, or to the link alone."""
        for column, numbers in enumerate(defining):
            keep = [self.article_vocab.index[number] for number in numbers]
            if linked[column]:
                self.charge_articles[column, :] = 0.0
                self.charge_articles[column, keep] = 1.0
                continue
            common = np.flatnonzero(self.charge_articles[column] >= DEFINING_SHARE)
            self.charge_articles[column, [index for index in common if index not in keep]] = 0.0

    def _defining_articles(self, train: Sequence[Case],
                           links: Sequence[int] | None = None) -> tuple[list[list[int]], list[bool]]:
        """Return, per charge label, the article numbers that define the charge, and whether it took its link.

        For a charge with training cases these start from the articles that most
        of its cases cite (P(article | charge) of at least 0.5). Cases of several
        charges cite the articles of all of them: in CAIL2018, where robberies
        often come with thefts, 90% of the robbery cases cite the theft article.
        So a charge with at least ``MIN_SINGLE_CHARGE_CASES`` single-charge cases
        keeps the articles that most of those cite too (263 for 抢劫, without
        264). A charge with fewer, but with that many cases in all, drops the
        articles of the charges that come with it in most of its cases (抢夺
        with 盗窃 keeps 267, without 264). A rarer charge takes the article that
        ``links`` gives it (a statute link, 0 for none) when that is a label,
        because its few cases often cite another charge's article (开设赌场 with
        Article 347). Without a link it keeps its common articles.
        """
        single_cases: Counter = Counter()
        single_citing: dict[str, Counter] = {}
        for case in train:
            if len(set(case.charges)) == 1:
                single_cases[case.charges[0]] += 1
                single_citing.setdefault(case.charges[0], Counter()).update(set(case.articles))
        labels = self.charge_vocab.labels
        common = [[int(self.article_vocab.labels[index])
                   for index in np.flatnonzero(self.charge_articles[column] >= DEFINING_SHARE)]
                  for column in range(len(labels))]
        result: list[list[int] | None] = [None] * len(labels)
        linked_labels = [False] * len(labels)
        for column, label in enumerate(labels):
            if single_cases[label] >= MIN_SINGLE_CHARGE_CASES:
                citing = single_citing[label]
                single = [number for number in common[column]
                          if citing[number] >= DEFINING_SHARE * single_cases[label]]
                result[column] = single or common[column]
        charge_sets = [set(case.charges) for case in train]
        for column, label in enumerate(labels):
            if result[column] is not None:
                continue
            with_label = [charges for charges in charge_sets if label in charges]
            linked = int(links[column]) if links is not None else 0
            if len(with_label) >= MIN_SINGLE_CHARGE_CASES:
                companions = Counter(other for charges in with_label for other in charges if other != label)
                companion_articles = {number for other, count in companions.items()
                                      if count >= DEFINING_SHARE * len(with_label) and other in self.charge_vocab.index
                                      for number in (result[self.charge_vocab.index[other]] or [])}
                without_companions = [number for number in common[column] if number not in companion_articles]
                result[column] = without_companions or common[column]
            elif linked in self.article_vocab:
                result[column] = [linked]
                linked_labels[column] = True
            else:
                result[column] = common[column]
        return [sorted(numbers) for numbers in result], linked_labels

    def _after_fit(self, train: Sequence[Case], X) -> None:
        """Let subclasses build extra state after the heads are trained."""

    def _combine_articles(self, article_probabilities: np.ndarray, charge_probabilities: np.ndarray) -> np.ndarray:
        weight = self.settings["article_from_charges"]
        if weight == 0:
            return article_probabilities
        implied = np.clip(charge_probabilities @ self.charge_articles, 0.0, 1.0)
        return (1 - weight) * article_probabilities + weight * implied

    # ---------------------------------------------------------- prediction

    def probabilities(self, facts: Sequence[str], charges: Sequence[Sequence[str]] | None = None) -> Probabilities:
        """Return calibrated charge and article probabilities and the predicted terms.

        ``charges`` gives known charges per case (as in LawBench task 3-1): their
        probability becomes 1, all others 0, and articles follow from them.
        """
        self._require_fitted()
        facts = check_facts(facts)
        X = self.featurizer.transform(facts)
        charge_probabilities = self._charge_probabilities(X, facts)
        if charges is not None:
            if len(charges) != len(facts):
                raise InvalidInputError(f"给定罪名 {len(charges)} 组，案例 {len(facts)} 个，数量不一致",
                                        hint="请为每个案例给出一组罪名")
            charge_probabilities = self._given_charges(charges)
            charge_sets = charge_probabilities
        else:
            charge_sets = self._multi_hot(decide(charge_probabilities, self.charge_head.thresholds))
        supervised_articles = self._adjust_articles(self.article_head.probabilities(X), facts,
                                                    charges_supplied=charges is not None)
        article_probabilities = self._combine_articles(supervised_articles, charge_probabilities)
        return Probabilities(charges=charge_probabilities, articles=article_probabilities,
                             terms=self.term_head.predict(X, charge_sets, facts), features=X)

    def _multi_hot(self, chosen: list[list[int]]) -> np.ndarray:
        matrix = np.zeros((len(chosen), len(self.charge_vocab)))
        for row, columns in enumerate(chosen):
            matrix[row, columns] = 1.0
        return matrix

    def _charge_probabilities(self, X, facts: Sequence[str]) -> np.ndarray:
        return self.charge_head.probabilities(X)

    def _adjust_articles(self, article_probabilities: np.ndarray, facts: Sequence[str],
                         charges_supplied: bool) -> np.ndarray:
        """Let subclasses correct the article head's probabilities before the charges' articles are added."""
        return article_probabilities

    def _given_charges(self, charges: Sequence[Sequence[str]]) -> np.ndarray:
        lookup = {normalize_charge(name): i for i, name in enumerate(self.charge_vocab.labels)}
        matrix = np.zeros((len(charges), len(self.charge_vocab)))
        for row, names in enumerate(charges):
            for name in names:
                column = lookup.get(normalize_charge(name))
                if column is not None:
                    matrix[row, column] = 1.0
        return matrix

    def predict(self, facts: Sequence[str], *, charges: Sequence[Sequence[str]] | None = None,
                abstain_below: float | None = None, evidence: int = 5,
                article_texts: ArticleTexts | None | bool = None) -> list[CasePrediction]:
        """Predict charges, articles and term for each fact.

        ``article_texts=False`` leaves article texts out (no statute store needed);
        None opens the default statute store.
        """
        threshold = self.settings["abstain_below"] if abstain_below is None else abstain_below
        if not 0.0 <= threshold <= 1.0:
            raise InvalidInputError(f"拒答阈值应在 0 到 1 之间：{threshold}", hint="例如 0.3")
        probabilities = self.probabilities(facts, charges=charges)
        facts = check_facts(facts)
        if article_texts is None:
            article_texts = self._default_article_texts()
        charge_sets = decide(probabilities.charges, self.charge_head.thresholds)
        article_sets = decide(probabilities.articles, self.article_head.thresholds)
        results = []
        for row, fact in enumerate(facts):
            date = event_date(fact)
            charge_row = probabilities.charges[row]
            confidence = float(self.charge_head.confidence(np.array([charge_row.max()]))[0])
            predicted_charges = [
                {"name": self.charge_vocab.labels[i], "probability": round(float(charge_row[i]), 4),
                 "evidence": self.charge_evidence(fact, probabilities.features, row, i, evidence)}
                for i in charge_sets[row]
            ]
            predicted_articles = [
                self._article_entry(i, float(probabilities.articles[row, i]), date, article_texts,
                                    self.evidence(probabilities.features, row, "articles", i, evidence, fact),
                                    [entry["name"] for entry in predicted_charges])
                for i in article_sets[row]
            ]
            top = np.argsort(-charge_row)[:5]
            candidates = [{"name": self.charge_vocab.labels[i], "probability": round(float(charge_row[i]), 4)}
                          for i in top]
            results.append(CasePrediction(
                charges=predicted_charges, articles=predicted_articles, term=probabilities.terms[row],
                confidence=confidence, abstained=confidence < threshold, candidates=candidates,
                event_date=date, term_basis=self.term_head.recommendation_basis(fact, probabilities.terms[row])))
        return results

    def _default_article_texts(self) -> ArticleTexts:
        if self._article_texts is None:
            self._article_texts = ArticleTexts()
        return self._article_texts

    def _article_entry(self, index: int, probability: float, date, article_texts, evidence,
                       charges: list[str]) -> dict:
        number = int(self.article_vocab.labels[index])
        entry = {"article_number": number, "probability": round(probability, 4), "text": None,
                 "version_effective_date": None, "evidence": evidence}
        if not article_texts:
            return entry
        notes = []
        found = article_texts.defining_provision(number, [normalize_charge(name) for name in charges], date)
        if found is not None:
            provision = format_article_number(number, found.suffix)
            entry["provision"] = provision
            notes.append(f"{provision}规定了预测的罪名；CAIL2018 的法条标签把它记为{format_article_number(number)}")
        else:
            found = article_texts.get(number, date)
        if found is not None:
            entry["text"] = found.text
            entry["version_effective_date"] = found.effective_date
            if found.current_version_used:
                notes.append(f"法规库中没有 {date} 施行的版本，给出的是现行条文")
        if notes:
            entry["note"] = "；".join(notes)
        return entry

    def charge_evidence(self, fact: str, X, row: int, label: int, count: int) -> list[str]:
        """Return what drove charge ``label`` for this case: by default its n-gram evidence."""
        return self.evidence(X, row, "charges", label, count, fact)

    def evidence(self, X, row: int, kind: str, label: int, count: int, fact: str = "") -> list[str]:
        """Return the n-grams that raised this label's score most for this case (TF-IDF models).

        N-grams with digits or punctuation, those that occur in ``fact`` only as
        part of a masked name (人李 in 被告人李某), and those that begin or end
        inside a word (民币 of 人民币, 户盗窃 of 入户盗窃) are left out.
        """
        names = self.featurizer.feature_names() if count else None
        if not names or X is None:
            return []
        head = self.charge_head if kind == "charges" else self.article_head
        if label >= head.weights.shape[0]:
            return []
        name_spans = [match.span() for match in _MASKED_NAME.finditer(fact)]
        boundaries = word_boundaries(fact)
        features = X.getrow(row)
        contributions = features.data * head.weights[label, features.indices]
        order = np.argsort(-contributions)
        chosen = []
        for position in order:
            if contributions[position] <= 0 or len(chosen) >= count:
                break
            name = names[features.indices[position]]
            if name not in chosen and _explains(name, fact, name_spans, boundaries):
                chosen.append(name)
        return chosen

    # ------------------------------------------------------------ storage

    def _require_fitted(self) -> None:
        if self.charge_head is None:
            raise InvalidInputError("模型尚未训练", hint="请先调用 fit，或用 load_model 加载已保存的模型")

    def save(self, directory: str | Path) -> Path:
        """Write the model to ``directory`` (created if missing); return the directory."""
        self._require_fitted()
        target = Path(directory)
        if target.exists() and not target.is_dir():
            raise InvalidInputError(f"模型输出路径已存在且不是目录：{target}", hint="请换一个目录")
        target.mkdir(parents=True, exist_ok=True)
        meta, arrays = self._state()
        arrays_path = target / ARRAYS_NAME
        with open(arrays_path, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        manifest = {
            "format": "tianping-judgment-model",
            "format_version": FORMAT_VERSION,
            "tianping_version": __version__,
            "kind": self.kind,
            "settings": self.settings,
            "training": self.training_info,
            "arrays_sha256": _sha256(arrays_path),
            "state": meta,
        }
        (target / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        return target

    def _state(self) -> tuple[dict, dict]:
        featurizer_meta, arrays = self.featurizer.state()
        charge_meta, charge_arrays = self.charge_head.state("charge")
        article_meta, article_arrays = self.article_head.state("article")
        term_meta, term_arrays = self.term_head.state()
        arrays.update(charge_arrays)
        arrays.update(article_arrays)
        arrays.update(term_arrays)
        arrays["charge_articles"] = self.charge_articles.astype(np.float32)
        meta = {"featurizer": featurizer_meta, "charge_head": charge_meta, "article_head": article_meta,
                "term_head": term_meta, "charge_vocab": self.charge_vocab.to_dict(),
                "article_vocab": self.article_vocab.to_dict()}
        return meta, arrays

    def _restore(self, meta: dict, arrays: dict) -> None:
        self.featurizer = self.featurizer_class.from_state(meta["featurizer"], arrays)
        self.charge_head = LabelHead.from_state("charge", meta["charge_head"], arrays)
        self.article_head = LabelHead.from_state("article", meta["article_head"], arrays)
        self.term_head = TermHead.from_state(meta["term_head"], arrays)
        self.charge_vocab = LabelVocabulary.from_dict(meta["charge_vocab"])
        self.article_vocab = LabelVocabulary.from_dict(meta["article_vocab"])
        self.charge_articles = arrays["charge_articles"].astype(np.float64)


@functools.lru_cache(maxsize=64)
def word_boundaries(fact: str) -> frozenset[int]:
    """Return the character offsets in ``fact`` where a word of its rjieba segmentation begins or ends."""
    import rjieba

    offsets, offset = {0}, 0
    for token in rjieba.cut(fact):
        offset += len(token)
        offsets.add(offset)
    return frozenset(offsets)


def _explains(ngram: str, fact: str, name_spans: list[tuple[int, int]], boundaries: frozenset[int]) -> bool:
    """Return whether ``ngram`` can be shown to a reader as evidence from ``fact``.

    Some occurrence of it must begin and end at word boundaries, not begin right after a
    digit (日被告人 of 9日被告人), and overlap no masked name.
    """
    # Digits come from dates and sums (19, 9年), which explain nothing to a reader.
    if len(ngram.strip()) < 2 or any(char.isdigit() or not char.isalnum() for char in ngram.strip()):
        return False
    start = fact.find(ngram)
    # An n-gram that does not occur verbatim (letters are lower-cased, a word pair can span
    # dropped punctuation) cannot be checked, so it is kept.
    if start < 0:
        return True
    while start >= 0:
        end = start + len(ngram)
        after_digit = start > 0 and fact[start - 1].isdigit()
        whole_words = start in boundaries and end in boundaries and not after_digit
        if whole_words and not any(start < span_end and span_start < end for span_start, span_end in name_spans):
            return True
        start = fact.find(ngram, start + 1)
    return False


class TfidfModel(JudgmentModel):
    """TF-IDF over character and word n-grams with one linear SVM per label."""

    kind = "tfidf"
    featurizer_class = TfidfFeaturizer


class EmbeddingModel(JudgmentModel):
    """Frozen multilingual-e5-small sentence embeddings with linear heads.

    Encoding is slow on a CPU (an estimated 15–30 facts per second on an idle
    machine), so training on a few thousand cases takes many minutes. It gives
    no n-gram evidence.
    """

    kind = "embed"
    featurizer_class = EmbeddingFeaturizer

    def __init__(self, **settings):
        settings.setdefault("C", 1.0)
        settings.setdefault("term_alpha", 1.0)
        super().__init__(**settings)

    def _fit_features(self, texts, progress_factory):
        progress = progress_factory(len(texts), "编码") if progress_factory else None
        return self.featurizer.fit_transform(texts, progress=progress)


def _labelled(cases: Sequence[Case] | None, what: str) -> list[Case]:
    cases = list(cases or [])
    if not cases:
        raise InvalidInputError(f"{what}为空", hint="请提供带罪名、法条和刑期标注的案例")
    for case in cases:
        if not case.charges or not case.articles or case.term is None:
            raise InvalidInputError(f"{what}中第 {case.line} 行的案例缺少罪名、法条或刑期",
                                    hint="训练与验证数据必须带完整标注")
    return cases


def _conditional(Y_charges: np.ndarray, Y_articles: np.ndarray) -> np.ndarray:
    """Return P(article | charge) estimated from co-occurrence, charges × articles."""
    together = Y_charges.T.astype(np.float64) @ Y_articles.astype(np.float64)
    totals = Y_charges.sum(axis=0).astype(np.float64)
    return together / np.maximum(totals, 1.0)[:, None]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


MODEL_KINDS: dict[str, type[JudgmentModel]] = {"tfidf": TfidfModel, "embed": EmbeddingModel}


def register_kind(model_class: type[JudgmentModel]) -> None:
    MODEL_KINDS[model_class.kind] = model_class


def create_model(kind: str, **settings) -> JudgmentModel:
    """Return an untrained model of ``kind`` (tfidf, grounded, embed)."""
    _load_kinds()
    if kind not in MODEL_KINDS:
        raise InvalidInputError(f"未知的模型类型：{kind}", hint=f"可用类型为 {', '.join(sorted(MODEL_KINDS))}")
    return MODEL_KINDS[kind](**settings)


def _load_kinds() -> None:
    # The grounded and fine-tuned models register themselves when their modules are imported.
    import tianping.prediction.grounded  # noqa: F401

    try:
        import tianping.finetune.judgment  # noqa: F401
    except ImportError:
        # The finetune extra (torch, transformers, peft) is not installed; that kind stays unavailable.
        pass


def load_model(directory: str | Path) -> JudgmentModel:
    """Load a saved model, checking its format, tianping version and file integrity."""
    _load_kinds()
    source = Path(directory)
    manifest_path = source / MANIFEST_NAME

    if not source.is_dir():
        raise NotFoundError(f"模型目录不存在：{source}", hint="请先用 tianping predict train 训练模型")
    if not manifest_path.is_file():
        raise InvalidInputError(f"{source} 不是模型目录（缺少 {MANIFEST_NAME}）",
                                hint="请指定 tianping predict train --out 写出的目录")

    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidInputError(f"模型清单已损坏：{manifest_path}（不是 UTF-8 文本）", code="model_corrupt",
                                hint="请重新训练模型") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"模型清单已损坏：{manifest_path}（第 {exc.lineno} 行第 {exc.colno} 列不是有效的 JSON）",
                                code="model_corrupt", hint="请重新训练模型") from None
    if isinstance(manifest, dict) and "bm25" in manifest:
        raise InvalidInputError(f"{source} 是法律检索索引目录，不是判决预测模型",
                                hint="请指定 tianping predict train --out 写出的目录")
    if not isinstance(manifest, dict) or manifest.get("format") != "tianping-judgment-model":
        raise InvalidInputError(f"{manifest_path} 不是 tianping 判决预测模型的清单",
                                hint="请指定 tianping predict train --out 写出的目录")
    format_version = manifest.get("format_version")
    if type(format_version) is not int:
        raise InvalidInputError(f"模型清单已损坏：{manifest_path}（格式版本 format_version 应为整数，"
                                f"实际为 {format_version!r}）", code="model_corrupt", hint="请重新训练模型")

    version = manifest.get("tianping_version")
    if version != __version__ or format_version != FORMAT_VERSION:
        raise InvalidInputError(
            f"模型由 tianping {version}（格式 {format_version}）训练，"
            f"当前为 tianping {__version__}（格式 {FORMAT_VERSION}）",
            code="model_version_mismatch", hint="请用当前版本重新运行 tianping predict train")

    kind = manifest.get("kind")
    if kind not in MODEL_KINDS:
        raise InvalidInputError(f"模型类型未知：{kind!r}", code="model_corrupt",
                                hint=f"可用类型为 {', '.join(sorted(MODEL_KINDS))}")

    arrays_path = source / ARRAYS_NAME
    if not arrays_path.is_file():
        raise InvalidInputError(f"模型权重文件缺失：{arrays_path}", code="model_corrupt",
                                hint="请重新训练或重新复制完整的模型目录")
    if _sha256(arrays_path) != manifest.get("arrays_sha256"):
        raise InvalidInputError(f"模型权重文件已损坏：{arrays_path}", code="model_corrupt",
                                hint="校验和不符，请重新训练或重新复制模型目录")

    try:
        model = MODEL_KINDS[kind](**(manifest.get("settings") or {}))
    except (TypeError, InvalidInputError):
        raise InvalidInputError(f"模型清单与模型类型不符：{manifest_path}（保存的设置不是 {kind} 模型的设置，"
                                "清单中的模型类型可能被改动过）", code="model_corrupt", hint="请重新训练模型") from None
    try:
        with np.load(arrays_path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        model._restore(manifest["state"], arrays)
    except KeyError as exc:
        raise InvalidInputError(f"模型目录内容不完整：{source}（缺少 {kind} 模型所需的 {exc.args[0]}，"
                                "清单中的模型类型或设置可能被改动过）", code="model_corrupt",
                                hint="请重新训练模型") from None
    except (TypeError, ValueError, OSError) as exc:
        raise InvalidInputError(f"模型目录内容不完整：{source}（{exc}）", code="model_corrupt",
                                hint="请重新训练模型") from None
    model.training_info = manifest.get("training", {})
    return model
