"""Label vocabularies: the charges or articles a model can predict, in a fixed order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from tianping.datasets.records import Case


class LabelVocabulary:
    """An ordered set of labels (charge names or article numbers) with training counts."""

    def __init__(self, labels: Iterable, counts: dict | None = None):
        self.labels: list = []
        self.index: dict = {}
        for label in labels:
            if label not in self.index:
                self.index[label] = len(self.labels)
                self.labels.append(label)
        self.counts: dict = {label: int((counts or {}).get(label, 0)) for label in self.labels}

    @classmethod
    def from_cases(cls, cases: Sequence[Case], kind: str, extra: Iterable = ()) -> LabelVocabulary:
        """Build the vocabulary of ``kind`` ("charges" or "articles"), most frequent first.

        ``extra`` adds labels that no case carries, such as the full charge list of a
        data set, so that a statute-grounded model can still predict them.
        """
        counter: Counter = Counter()
        for case in cases:
            counter.update(getattr(case, kind))
        ordered = [label for label, _ in sorted(counter.items(), key=lambda pair: (-pair[1], str(pair[0])))]
        ordered += [label for label in extra if label not in counter]
        return cls(ordered, dict(counter))

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label) -> bool:
        return label in self.index

    def encode(self, label_sets: Sequence[Iterable]) -> np.ndarray:
        """Return a 0/1 matrix (cases × labels); labels outside the vocabulary are ignored."""
        matrix = np.zeros((len(label_sets), len(self.labels)), dtype=np.int8)
        for row, labels in enumerate(label_sets):
            for label in labels:
                column = self.index.get(label)
                if column is not None:
                    matrix[row, column] = 1
        return matrix

    def unknown(self, label_sets: Iterable[Iterable]) -> Counter:
        """Count the labels that are not in the vocabulary."""
        counter: Counter = Counter()
        for labels in label_sets:
            counter.update(label for label in labels if label not in self.index)
        return counter

    def to_dict(self) -> dict:
        return {"labels": self.labels, "counts": [self.counts[label] for label in self.labels]}

    @classmethod
    def from_dict(cls, data: dict) -> LabelVocabulary:
        return cls(data["labels"], dict(zip(data["labels"], data["counts"])))
