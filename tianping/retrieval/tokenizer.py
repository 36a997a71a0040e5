"""Chinese segmentation for legal search: jieba (through rjieba) with a legal user dictionary."""

from __future__ import annotations

import re

import rjieba

# Function words and question words that carry no legal meaning in a query.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 对 于 由 从 被 把 及 或 并 等 请问 我 你 他 她 它 我们 他们 这 那 个 之 其 "
    "什么 怎么 怎样 如何 怎么办 咨询 一下 有关 关于 应该 可以 是否 有没有 如果 因为 所以 但是 然后 "
    "因此 进行 予以 哪些 哪个 哪条 根据 法律 规定 法条 条款 情况 时候 属于 需要 能否 能不能 会不会 "
    "吗 呢 吧 啊 也 都 就 还 又 要 会 能 没有 不 有 为 以 将 上 下 中 该 本 第 条 款 项 场景 问题".split()
)
_TOKEN_CHARS = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")


class LegalTokenizer:
    """jieba segmentation in search mode, with law names and charge names as whole words."""

    def __init__(self, user_words: set[str] | None = None):
        self._jieba = rjieba.Jieba()
        self.user_words = set(user_words or ())
        for word in sorted(self.user_words):
            self._jieba.add_word(word, None, None)

    def tokenize(self, text: str) -> list[str]:
        """Return the indexable tokens of a text: search-mode words without stopwords or punctuation."""
        tokens = []
        for token in self._jieba.cut_for_search(text, True):
            token = token.strip()
            if not token or token in STOPWORDS or not _TOKEN_CHARS.search(token):
                continue
            tokens.append(token)
        return tokens


def legal_user_words(law_names: list[str], extra_terms: list[str] | None = None) -> set[str]:
    """Build the user dictionary: law names, their short forms, and given terms such as charge names."""
    words = set()
    for name in law_names:
        if 2 <= len(name) <= 30:
            words.add(name)
    for term in extra_terms or []:
        if 2 <= len(term) <= 20:
            words.add(term)
    return words
