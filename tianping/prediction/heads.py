"""Linear prediction heads over a feature matrix: multi-label labels and prison term.

Weights are kept as plain NumPy arrays so that a model saves to ``.npz`` without
pickle. Probabilities are calibrated with one Platt sigmoid per head, fitted on
held-out decision scores: out-of-fold scores on the training set, or scores on
the validation set when one is given.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from tianping.datasets.records import Term
from tianping.errors import require
from tianping.prediction.metrics import term_case_score
from tianping.prediction.quantities import quantity_matrix, recommended_months
from tianping.prediction.trees import BoostedTrees

logger = logging.getLogger(__name__)

# Thresholds tried when tuning which probability makes a label predicted.
THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)

# A label needs this many positive held-out cases before it gets its own threshold.
# With fewer, the head's global threshold applies, because a threshold tuned on one
# or two cases mostly fits noise.
MIN_THRESHOLD_SUPPORT = 5

# Leaves per tree of the boosted term model. 7 leaves gained about 0.5 in cross-validation on the
# CAIL2018 training file but lost 1.7 on its validation file (61.9 against 63.6).
TERM_TREE_LEAVES = 15

# Decision score given to labels that have no training case (they can still be
# predicted by the statute-grounded model): a sigmoid of it is practically zero.
_NO_DATA_SCORE = -20.0


def _svm(C: float, class_weight):
    svm = require("sklearn.svm", "predict", "scikit-learn")
    # With more features than cases, liblinear solves the dual problem in a random order.
    # The fixed seed makes training on the same data give the same model.
    return svm.LinearSVC(C=C, class_weight=class_weight, max_iter=5000, random_state=0)


def _fit_label_weights(X, Y: np.ndarray, C: float, class_weight, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Fit one linear SVM per label column; return (weights labels × features, intercepts)."""
    labels = Y.shape[1]
    weights = np.zeros((labels, X.shape[1]), dtype=np.float32)
    intercepts = np.full(labels, _NO_DATA_SCORE, dtype=np.float64)
    for column in range(labels):
        positives = int(Y[:, column].sum())
        if 0 < positives < Y.shape[0]:
            model = _svm(C, class_weight).fit(X, Y[:, column])
            weights[column] = model.coef_[0]
            intercepts[column] = model.intercept_[0]
        elif positives == Y.shape[0]:
            intercepts[column] = -_NO_DATA_SCORE
        if progress:
            progress(1)
    return weights, intercepts


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -50, 50)))


def _softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _logit(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def fit_platt(scores: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """Fit p = sigmoid(a·s + b) to held-out decision scores by logistic regression."""
    linear_model = require("sklearn.linear_model", "predict", "scikit-learn")
    flat_scores = scores.reshape(-1, 1)
    flat_targets = targets.reshape(-1)
    if flat_targets.min() == flat_targets.max():
        return 1.0, 0.0
    model = linear_model.LogisticRegression(C=100.0).fit(flat_scores, flat_targets)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def decide(probabilities: np.ndarray, thresholds: np.ndarray) -> list[list[int]]:
    """Return, per row, the labels at or above their threshold, and always the most probable one.

    Every criminal case has at least one charge and one article, so a case never
    ends up without a label. A low top probability is reported, not hidden.
    """
    chosen = []
    for row in probabilities:
        indices = set(np.flatnonzero(row >= thresholds).tolist())
        indices.add(int(np.argmax(row)))
        chosen.append(sorted(indices, key=lambda i: -row[i]))
    return chosen


def _cail_score(chosen: list[list[int]], targets: np.ndarray) -> float:
    """Return (micro-F1 + macro-F1) / 2, macro over the labels that are gold or predicted somewhere."""
    predicted = np.zeros(targets.shape, dtype=bool)
    for row, indices in enumerate(chosen):
        predicted[row, indices] = True
    gold = targets.astype(bool)
    tp = (predicted & gold).sum(axis=0)
    fp = (predicted & ~gold).sum(axis=0)
    fn = (~predicted & gold).sum(axis=0)
    present = (tp + fp + fn) > 0
    denominators = 2 * tp + fp + fn
    per_label = np.divide(2 * tp, denominators, out=np.zeros(len(tp), dtype=np.float64), where=denominators > 0)
    macro = float(per_label[present].mean()) if present.any() else 0.0
    total_tp = int(tp.sum())
    micro = 2 * total_tp / int(denominators.sum()) if total_tp else 0.0
    return (micro + macro) / 2


def tune_thresholds(probabilities: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, float]:
    """Choose one global threshold by the CAIL score, then per-label thresholds where support allows."""
    labels = probabilities.shape[1]
    best_global, best_score = 0.5, -1.0
    for threshold in THRESHOLD_GRID:
        score = _cail_score(decide(probabilities, np.full(labels, threshold)), targets)
        if score > best_score:
            best_global, best_score = float(threshold), score
    thresholds = np.full(labels, best_global)
    for column in range(labels):
        positives = targets[:, column].astype(bool)
        if positives.sum() < MIN_THRESHOLD_SUPPORT:
            continue
        column_probabilities = probabilities[:, column]
        best_f1 = _label_f1(column_probabilities >= best_global, positives)
        for threshold in THRESHOLD_GRID:
            f1 = _label_f1(column_probabilities >= threshold, positives)
            if f1 > best_f1 + 1e-9:
                best_f1, thresholds[column] = f1, float(threshold)
    return thresholds, best_global


def _label_f1(predicted: np.ndarray, positives: np.ndarray) -> float:
    tp = int((predicted & positives).sum())
    fp = int((predicted & ~positives).sum())
    fn = int((~predicted & positives).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def out_of_fold_scores(X, Y: np.ndarray, folds: int, fit: Callable, score: Callable, seed: int = 0) -> np.ndarray:
    """Return decision scores for every training row from models that did not see it."""
    rows = X.shape[0]
    order = np.random.default_rng(seed).permutation(rows)
    result = np.zeros(Y.shape, dtype=np.float64)
    for fold in range(folds):
        held_out = order[fold::folds]
        kept = np.setdiff1d(order, held_out)
        state = fit(X[kept], Y[kept])
        result[held_out] = score(state, X[held_out])
    return result


def _stack(top, bottom):
    if sp.issparse(top):
        return sp.vstack([top, bottom]).tocsr()
    return np.vstack([top, bottom])


class LabelHead:
    """Multi-label linear SVMs (one per label) with Platt calibration and tuned thresholds."""

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced", folds: int = 3):
        self.C = C
        self.class_weight = class_weight
        self.folds = folds
        self.weights: np.ndarray | None = None
        self.intercepts: np.ndarray | None = None
        self.platt = (1.0, 0.0)
        self.thresholds: np.ndarray | None = None
        self.global_threshold = 0.5
        # Maps the logit of a case's top probability to the chance that its top label is right.
        self.confidence_platt = (1.0, 0.0)

    def config(self) -> dict:
        return {"C": self.C, "class_weight": self.class_weight, "folds": self.folds}

    def scores(self, X) -> np.ndarray:
        return np.asarray(X @ self.weights.T) + self.intercepts

    def probabilities_from_scores(self, scores: np.ndarray) -> np.ndarray:
        return _sigmoid(self.platt[0] * scores + self.platt[1])

    def probabilities(self, X) -> np.ndarray:
        return self.probabilities_from_scores(self.scores(X))

    def confidence(self, top_probabilities: np.ndarray) -> np.ndarray:
        """Return the calibrated probability that each row's most probable label is a gold label."""
        return _sigmoid(self.confidence_platt[0] * _logit(top_probabilities) + self.confidence_platt[1])

    def fit(self, X, Y: np.ndarray, X_valid=None, Y_valid=None, progress=None, extra=None) -> np.ndarray:
        """Fit the weights, then calibrate on held-out scores; return the held-out probabilities.

        The returned probabilities belong to the validation rows when a validation
        set is given, otherwise to the training rows (out of fold). ``extra`` is an
        optional (features, labels) pair of examples that every fit trains on and
        no calibration scores, such as statute texts standing in for cases.
        """
        def fit_weights(X_part, Y_part):
            if extra is not None:
                X_part, Y_part = _stack(X_part, extra[0]), np.vstack([Y_part, extra[1]])
            return _fit_label_weights(X_part, Y_part, self.C, self.class_weight, progress)

        self.weights, self.intercepts = fit_weights(X, Y)
        if X_valid is not None:
            held_out_scores, held_out_targets = self.scores(X_valid), Y_valid
        elif X.shape[0] >= 2 * self.folds:
            def fit_fold(X_part, Y_part):
                return fit_weights(X_part, Y_part)

            def score_fold(state, X_part):
                weights, intercepts = state
                return np.asarray(X_part @ weights.T) + intercepts

            held_out_scores = out_of_fold_scores(X, Y, self.folds, fit_fold, score_fold)
            held_out_targets = Y
        else:
            # Too few cases to hold any out: calibrate on the training scores.
            held_out_scores, held_out_targets = self.scores(X), Y
        # A fold without a training case of some label scores that label _NO_DATA_SCORE on every
        # held-out row, including the label's own cases. Such pairs tell nothing about how scores
        # map to probabilities, and on a small training set they flatten the sigmoid to a constant.
        fitted = np.abs(held_out_scores) != -_NO_DATA_SCORE
        if fitted.any():
            self.platt = fit_platt(held_out_scores[fitted], held_out_targets[fitted])
        else:
            self.platt = fit_platt(held_out_scores, held_out_targets)
        probabilities = self.probabilities_from_scores(held_out_scores)
        self.set_thresholds(probabilities, held_out_targets)
        # The per-label sigmoid is fitted on all (case, label) pairs, which are mostly
        # negatives, so it does not tell how often the top label is right. The top
        # label gets its own sigmoid.
        top = probabilities.argmax(axis=1)
        hits = held_out_targets[np.arange(len(top)), top]
        self.confidence_platt = fit_platt(_logit(probabilities.max(axis=1)), hits)
        return probabilities

    def set_thresholds(self, probabilities: np.ndarray, targets: np.ndarray) -> None:
        self.thresholds, self.global_threshold = tune_thresholds(probabilities, targets)

    def state(self, prefix: str) -> tuple[dict, dict]:
        meta = {"config": self.config(), "platt": list(self.platt), "global_threshold": self.global_threshold,
                "confidence_platt": list(self.confidence_platt)}
        arrays = {f"{prefix}_weights": self.weights, f"{prefix}_intercepts": self.intercepts,
                  f"{prefix}_thresholds": self.thresholds}
        return meta, arrays

    @classmethod
    def from_state(cls, prefix: str, meta: dict, arrays: dict) -> LabelHead:
        head = cls(**meta["config"])
        head.platt = tuple(meta["platt"])
        head.global_threshold = meta["global_threshold"]
        head.confidence_platt = tuple(meta["confidence_platt"])
        head.weights = arrays[f"{prefix}_weights"]
        head.intercepts = arrays[f"{prefix}_intercepts"]
        head.thresholds = arrays[f"{prefix}_thresholds"]
        return head


# Upper edges (months) of the term buckets; the last bucket is open-ended.
TERM_BUCKET_EDGES = (0, 2, 4, 6, 9, 12, 18, 24, 36, 48, 60, 84, 120, 180)
_FIXED, _LIFE, _DEATH = 0, 1, 2

# Folds of the out-of-fold ridge predictions that the boosted term model learns from.
RIDGE_FOLDS = 5

# Shares of the middle of the recommended range tried when learning how far below it sentences fall.
RECOMMENDATION_SHARES = np.round(np.arange(0.40, 1.001, 0.05), 2)
# Training cases with a sentencing recommendation needed before that share is learned and used.
MIN_RECOMMENDATION_CASES = 20


def _share_of_middle(share: float, recommendation: tuple[int, int]) -> int:
    """Return ``share`` of the middle of a recommended range, in whole months."""
    return int(round(share * sum(recommendation) / 2))


def _term_kind(term: Term) -> int:
    if term.death_penalty:
        return _DEATH
    if term.life_imprisonment:
        return _LIFE
    return _FIXED


def _bucket_of(months: int) -> int:
    for index, edge in enumerate(TERM_BUCKET_EDGES):
        if months <= edge:
            return index
    return len(TERM_BUCKET_EDGES)


class TermHead:
    """Prison term: a fixed-term model, plus a classifier for fixed term, life imprisonment or death.

    Modes of the fixed-term model:

    * ``boosted``: gradient-boosted trees classify the term into month buckets
      from the amounts, weights and circumstances in the facts
      (``tianping.prediction.quantities``), the case's charges and a ridge
      regression on the text features (out of fold during training);
    * ``buckets``: logistic regression over month buckets on the text features;
    * ``regression``: ridge regression on log(months + 1).

    Both bucket modes predict the bucket median with the highest expected
    CAIL2018 term score under the bucket probabilities. The life-or-death
    classifier needs at least two training cases of life or death before it
    predicts them.

    When the facts quote a sentencing recommendation (建议判处……一年以上二年以下),
    every mode predicts a learned share of the middle of the recommended range
    instead. The share is the one that scores best on the training cases with a
    recommendation. It is learned only when there are at least
    ``MIN_RECOMMENDATION_CASES`` of them.
    """

    def __init__(self, mode: str = "regression", alpha: float = 1.0):
        self.mode = mode
        self.alpha = alpha
        self.kind_weights: np.ndarray | None = None
        self.kind_intercepts: np.ndarray | None = None
        self.kind_classes: list[int] = [_FIXED]
        self.term_weights: np.ndarray | None = None
        self.term_intercepts: np.ndarray | None = None
        self.bucket_classes: list[int] = []
        self.bucket_centers: np.ndarray | None = None
        self.trees: BoostedTrees | None = None
        self.recommendation_share: float | None = None

    def config(self) -> dict:
        return {"mode": self.mode, "alpha": self.alpha}

    def fit_steps(self) -> int:
        """Return how many steps ``fit`` reports to its progress callable."""
        return 4 if self.mode == "boosted" else 2

    def fit(self, X, terms: Sequence[Term], charges: np.ndarray | None = None,
            facts: Sequence[str] | None = None, progress=None) -> None:
        """Fit on text features ``X``. The boosted mode also needs the charges (multi-hot) and the facts.

        ``progress`` is called with 1 after each of the ``fit_steps()`` stages.
        """
        advance = progress or (lambda step: None)
        kinds = np.array([_term_kind(term) for term in terms])
        self._fit_kind(X, kinds)
        advance(1)
        fixed_rows = np.flatnonzero(kinds == _FIXED)
        if facts is not None:
            self.recommendation_share = self._fit_recommendation_share(
                [facts[i] for i in fixed_rows], [terms[i] for i in fixed_rows])
        months = np.array([terms[i].months for i in fixed_rows], dtype=np.float64)
        if len(fixed_rows) == 0:
            months, fixed_rows = np.zeros(1), np.zeros(1, dtype=int)
        if self.mode == "regression":
            self.term_weights, self.term_intercepts = self._ridge(X[fixed_rows], np.log1p(months))
            advance(1)
            return
        buckets = np.array([_bucket_of(int(m)) for m in months])
        self.bucket_classes = sorted(set(buckets.tolist()))
        self.bucket_centers = self._bucket_centers(months, buckets)
        if self.mode == "buckets":
            self.term_weights, self.term_intercepts = self._bucket_logistic(X[fixed_rows], buckets)
            advance(1)
            return
        self.term_weights, self.term_intercepts = self._ridge(X[fixed_rows], np.log1p(months))
        advance(1)
        if len(self.bucket_classes) < 2:
            advance(2)
            return
        ridge = self._held_out_ridge(X[fixed_rows], np.log1p(months))
        advance(1)
        features = self._boosted_features(ridge, charges[fixed_rows], [facts[i] for i in fixed_rows])
        # Leaves of at least 10 cases on a full data set. Smaller ones let a few hundred cases split at all.
        leaf = int(np.clip(len(fixed_rows) // 50, 2, 10))
        self.trees = BoostedTrees.fit(features, buckets, min_samples_leaf=leaf, max_leaf_nodes=TERM_TREE_LEAVES)
        advance(1)

    @staticmethod
    def _fit_recommendation_share(facts: Sequence[str], terms: Sequence[Term]) -> float | None:
        """Return the share of the recommended range's middle that best predicts the terms, or None."""
        pairs = [(recommended_months(fact), term) for fact, term in zip(facts, terms)]
        pairs = [(recommendation, term) for recommendation, term in pairs if recommendation]
        if len(pairs) < MIN_RECOMMENDATION_CASES:
            return None
        # The CAIL2018 score is a step function, so several shares can tie. The smaller
        # log error breaks the tie.
        keys = []
        for share in RECOMMENDATION_SHARES:
            predicted = [_share_of_middle(share, recommendation) for recommendation, _ in pairs]
            score = sum(term_case_score(term, Term(months)) for (_, term), months in zip(pairs, predicted))
            error = sum(abs(math.log1p(term.months) - math.log1p(months))
                        for (_, term), months in zip(pairs, predicted))
            keys.append((round(score, 9), -error))
        best = float(RECOMMENDATION_SHARES[keys.index(max(keys))])
        logger.info("%d training cases quote a sentencing recommendation, so the term there is %.2f of its middle",
                    len(pairs), best)
        return best

    def _apply_recommendations(self, months: np.ndarray, facts: Sequence[str] | None) -> np.ndarray:
        if self.recommendation_share is None or facts is None:
            return months
        months = months.copy()
        for row, fact in enumerate(facts):
            recommendation = recommended_months(fact)
            if recommendation:
                months[row] = _share_of_middle(self.recommendation_share, recommendation)
        return months

    def recommendation_basis(self, fact: str, term: Term) -> dict | None:
        """Return the recommendation that ``term`` was derived from, or None when the model predicted it."""
        if self.recommendation_share is None or term.death_penalty or term.life_imprisonment:
            return None
        recommendation = recommended_months(fact)
        if recommendation is None:
            return None
        return {"recommended_months": list(recommendation), "share": self.recommendation_share}

    def _bucket_logistic(self, X, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fit logistic regression over month buckets and return one weight row per class of ``bucket_classes``.

        A class missing from ``buckets`` (a fold without it) gets zero weights and
        a very low intercept, so its probability is practically zero.
        """
        present = sorted(set(buckets.tolist()))
        coef = np.zeros((len(self.bucket_classes), X.shape[1]), dtype=np.float32)
        intercept = np.full(len(self.bucket_classes), _NO_DATA_SCORE)
        if len(present) == 1:
            intercept[self.bucket_classes.index(present[0])] = 0.0
            return coef, intercept
        linear_model = require("sklearn.linear_model", "predict", "scikit-learn")
        model = linear_model.LogisticRegression(C=10.0, max_iter=300).fit(X, buckets)
        fitted_coef = np.asarray(model.coef_, dtype=np.float32)
        fitted_intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(present) == 2:
            # Binary logistic regression keeps one row; expand to one row per class.
            fitted_coef = np.vstack([-fitted_coef / 2, fitted_coef / 2])
            fitted_intercept = np.array([-fitted_intercept[0] / 2, fitted_intercept[0] / 2])
        for row, bucket in enumerate(present):
            column = self.bucket_classes.index(bucket)
            coef[column], intercept[column] = fitted_coef[row], fitted_intercept[row]
        return coef, intercept

    def _ridge(self, X, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        linear_model = require("sklearn.linear_model", "predict", "scikit-learn")
        model = linear_model.Ridge(alpha=self.alpha).fit(X, targets)
        return np.asarray(model.coef_, dtype=np.float32).reshape(1, -1), np.array([model.intercept_], dtype=np.float64)

    def _held_out_ridge(self, X, log_months: np.ndarray) -> np.ndarray:
        """Return ridge predictions of log months for every row from fits that did not see it."""
        if X.shape[0] < 2 * RIDGE_FOLDS:
            return (np.asarray(X @ self.term_weights.T) + self.term_intercepts)[:, 0]

        def fit_fold(X_part, Y_part):
            return self._ridge(X_part, Y_part[:, 0])

        def score_fold(state, X_part):
            weights, intercepts = state
            return np.asarray(X_part @ weights.T) + intercepts

        return out_of_fold_scores(X, log_months[:, None], RIDGE_FOLDS, fit_fold, score_fold)[:, 0]

    @staticmethod
    def _boosted_features(ridge: np.ndarray, charges: np.ndarray, facts: Sequence[str]) -> np.ndarray:
        return np.hstack([quantity_matrix(list(facts)), np.asarray(charges, dtype=np.float64), ridge[:, None]])

    def _bucket_centers(self, months: np.ndarray, buckets: np.ndarray) -> np.ndarray:
        return np.array([float(np.median(months[buckets == b])) for b in self.bucket_classes])

    def _fit_kind(self, X, kinds: np.ndarray) -> None:
        present = [k for k in (_FIXED, _LIFE, _DEATH) if (kinds == k).sum() >= (1 if k == _FIXED else 2)]
        self.kind_classes = present or [_FIXED]
        if len(self.kind_classes) < 2:
            self.kind_weights = np.zeros((1, X.shape[1]), dtype=np.float32)
            self.kind_intercepts = np.zeros(1)
            return
        mask = np.isin(kinds, self.kind_classes)
        model = _svm(1.0, None).fit(X[mask], kinds[mask])
        coef = np.asarray(model.coef_, dtype=np.float32)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(self.kind_classes) == 2:
            coef = np.vstack([-coef, coef])
            intercept = np.array([-intercept[0], intercept[0]])
        self.kind_weights, self.kind_intercepts = coef, intercept

    def predict(self, X, charges: np.ndarray | None = None, facts: Sequence[str] | None = None) -> list[Term]:
        """Predict terms. The boosted mode also needs the charges (multi-hot) and the facts, as in ``fit``."""
        kind_scores = np.asarray(X @ self.kind_weights.T) + self.kind_intercepts
        kinds = [self.kind_classes[int(np.argmax(row))] if len(self.kind_classes) > 1 else _FIXED
                 for row in kind_scores]
        months = self._apply_recommendations(self.predict_months(X, charges, facts), facts)
        result = []
        for kind, month in zip(kinds, months):
            if kind == _DEATH:
                result.append(Term(months=0, death_penalty=True))
            elif kind == _LIFE:
                result.append(Term(months=0, life_imprisonment=True))
            else:
                result.append(Term(months=int(month)))
        return result

    def predict_months(self, X, charges: np.ndarray | None = None, facts: Sequence[str] | None = None) -> np.ndarray:
        raw = np.asarray(X @ self.term_weights.T) + self.term_intercepts
        if self.mode == "regression":
            return np.clip(np.rint(np.expm1(raw[:, 0])), 0, 300).astype(int)
        if len(self.bucket_classes) <= 1:
            center = self.bucket_centers[0] if self.bucket_centers is not None else 0.0
            return np.full(raw.shape[0], int(round(center)))
        if self.mode == "boosted":
            if charges is None or facts is None:
                raise ValueError("the boosted term model needs the charges and the facts")
            probabilities = self.trees.probabilities(self._boosted_features(raw[:, 0], charges, facts))
        else:
            probabilities = _softmax(raw)
        return self.bucket_centers[np.argmax(probabilities @ self._expected_scores(), axis=1)].astype(int)

    def _expected_scores(self) -> np.ndarray:
        """Return the CAIL2018 score of predicting each bucket median (columns) when the gold is each (rows)."""
        centers = [int(center) for center in self.bucket_centers]
        return np.array([[term_case_score(Term(gold), Term(candidate)) for candidate in centers] for gold in centers])

    def state(self) -> tuple[dict, dict]:
        meta = {"config": self.config(), "kind_classes": self.kind_classes, "bucket_classes": self.bucket_classes,
                "recommendation_share": self.recommendation_share}
        arrays = {"kind_weights": self.kind_weights, "kind_intercepts": self.kind_intercepts,
                  "term_weights": self.term_weights, "term_intercepts": self.term_intercepts}
        if self.bucket_centers is not None:
            arrays["bucket_centers"] = self.bucket_centers
        if self.trees is not None:
            arrays.update(self.trees.arrays("term_trees"))
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> TermHead:
        head = cls(**meta["config"])
        head.kind_classes = meta["kind_classes"]
        head.bucket_classes = meta["bucket_classes"]
        head.recommendation_share = meta["recommendation_share"]
        head.kind_weights = arrays["kind_weights"]
        head.kind_intercepts = arrays["kind_intercepts"]
        head.term_weights = arrays["term_weights"]
        head.term_intercepts = arrays["term_intercepts"]
        head.bucket_centers = arrays.get("bucket_centers")
        if "term_trees_roots" in arrays:
            head.trees = BoostedTrees.from_arrays("term_trees", arrays)
        return head

