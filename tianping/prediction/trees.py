"""Gradient-boosted trees fitted by scikit-learn and kept as plain arrays.

scikit-learn's ``HistGradientBoostingClassifier`` does the fitting. Its trees are
then copied into flat NumPy arrays (split feature, threshold, children, leaf
value), so a saved model needs no pickle and prediction needs no scikit-learn
internals. ``BoostedTrees.raw_scores`` walks every tree of every class at once.
"""

from __future__ import annotations

import numpy as np

from tianping.errors import require


class BoostedTrees:
    """A multi-class boosted tree ensemble: per-class raw scores, softmax probabilities."""

    def __init__(self, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
                 is_leaf: np.ndarray, value: np.ndarray, roots: np.ndarray, tree_class: np.ndarray,
                 baseline: np.ndarray, classes: np.ndarray):
        self.feature = feature
        self.threshold = threshold
        self.left = left
        self.right = right
        self.is_leaf = is_leaf
        self.value = value
        self.roots = roots
        self.tree_class = tree_class
        self.baseline = baseline
        self.classes = classes

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, *, learning_rate: float = 0.05, max_iter: int = 200,
            max_leaf_nodes: int = 15, min_samples_leaf: int = 10, l2_regularization: float = 1.0,
            seed: int = 0) -> BoostedTrees:
        """Fit a classifier of ``y`` (at least two classes) on dense features ``X``."""
        ensemble = require("sklearn.ensemble", "predict", "scikit-learn")
        model = ensemble.HistGradientBoostingClassifier(
            learning_rate=learning_rate, max_iter=max_iter, max_leaf_nodes=max_leaf_nodes,
            min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization, early_stopping=False,
            random_state=seed).fit(X, y)
        return cls.from_sklearn(model)

    @classmethod
    def from_sklearn(cls, model) -> BoostedTrees:
        """Copy the trees of a fitted ``HistGradientBoostingClassifier``."""
        parts = {name: [] for name in ("feature", "threshold", "left", "right", "is_leaf", "value")}
        roots, tree_class = [], []
        offset = 0
        for iteration in model._predictors:
            for class_index, predictor in enumerate(iteration):
                nodes = predictor.nodes
                if nodes["is_categorical"].any():
                    raise ValueError("categorical splits are not supported")
                roots.append(offset)
                tree_class.append(class_index)
                parts["feature"].append(nodes["feature_idx"].astype(np.int32))
                parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
                parts["left"].append(nodes["left"].astype(np.int64) + offset)
                parts["right"].append(nodes["right"].astype(np.int64) + offset)
                parts["is_leaf"].append(nodes["is_leaf"].astype(bool))
                parts["value"].append(nodes["value"].astype(np.float64))
                offset += len(nodes)
        flat = {name: np.concatenate(values) for name, values in parts.items()}
        return cls(flat["feature"], flat["threshold"], flat["left"], flat["right"], flat["is_leaf"],
                   flat["value"], np.array(roots, dtype=np.int64), np.array(tree_class, dtype=np.int32),
                   np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1),
                   np.asarray(model.classes_))

    def raw_scores(self, X: np.ndarray) -> np.ndarray:
        """Return the summed leaf values per class (rows × classes), before the softmax."""
        X = np.asarray(X, dtype=np.float64)
        rows = np.arange(X.shape[0])[:, None]
        nodes = np.broadcast_to(self.roots, (X.shape[0], len(self.roots))).copy()
        while True:
            inner = ~self.is_leaf[nodes]
            if not inner.any():
                break
            goes_left = X[rows, self.feature[nodes]] <= self.threshold[nodes]
            nodes = np.where(inner, np.where(goes_left, self.left[nodes], self.right[nodes]), nodes)
        leaf_values = self.value[nodes]
        scores = np.zeros((X.shape[0], len(self.baseline)))
        for class_index in range(len(self.baseline)):
            scores[:, class_index] = leaf_values[:, self.tree_class == class_index].sum(axis=1)
        scores += self.baseline
        if len(self.baseline) == 1:
            # Binary classification keeps one score: the log-odds of the second class.
            scores = np.hstack([np.zeros_like(scores), scores])
        return scores

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        scores = self.raw_scores(X)
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        names = ("feature", "threshold", "left", "right", "is_leaf", "value", "roots", "tree_class", "baseline",
                 "classes")
        return {f"{prefix}_{name}": getattr(self, name) for name in names}

    @classmethod
    def from_arrays(cls, prefix: str, arrays: dict) -> BoostedTrees:
        names = ("feature", "threshold", "left", "right", "is_leaf", "value", "roots", "tree_class", "baseline",
                 "classes")
        return cls(**{name: arrays[f"{prefix}_{name}"] for name in names})
