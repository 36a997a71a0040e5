"""Legal-synonym replacement: extra training texts that keep the legal meaning of the original.

Each group lists words that a Chinese judgment uses interchangeably for the same
thing. Replacement picks, for each occurrence of a listed word, another member of
its group with a fixed probability. A seeded ``random.Random`` makes the output
reproducible, so a resumed run trains on the same augmented data.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("被告人", "被告"),
    ("被害人", "受害人"),
    ("公诉机关", "检察机关", "人民检察院"),
    ("窃取", "偷盗", "盗走"),
    ("殴打", "击打", "打伤"),
    ("驾驶", "驾驭"),
    ("醉酒", "酒后"),
    ("机动车", "汽车"),
    ("人民币", "元钱"),
    ("抢走", "夺走"),
    ("诈骗", "骗取"),
    ("隐瞒", "掩盖"),
    ("事实清楚", "事实明确"),
    ("证据确实、充分", "证据确凿"),
    ("如实供述", "坦白交代"),
    ("自首", "主动投案"),
    ("赔偿", "补偿"),
    ("谅解", "原谅"),
    ("经鉴定", "经过鉴定"),
    ("价值", "价格"),
    ("当事人", "双方当事人"),
    ("合同", "协议"),
    ("违约", "不履行约定"),
    ("借款", "借贷"),
    ("归案", "被抓获"),
    ("轻伤", "轻微伤害"),
    ("租赁", "租用"),
)

_LOOKUP = {word: group for group in SYNONYM_GROUPS for word in group}
# Longest words first so 证据确实、充分 is matched before any shorter member inside it.
_PATTERN = re.compile("|".join(re.escape(word) for word in sorted(_LOOKUP, key=len, reverse=True)))


def replace_synonyms(text: str, probability: float, rng: random.Random) -> str:
    """Return ``text`` with each listed word replaced by a synonym with ``probability``."""

    def substitute(match: re.Match) -> str:
        word = match.group(0)
        if rng.random() >= probability:
            return word
        others = [candidate for candidate in _LOOKUP[word] if candidate != word]
        return rng.choice(others)

    return _PATTERN.sub(substitute, text)


def augment_texts(texts: Sequence[str], copies: int, probability: float, seed: int) -> list[tuple[int, str]]:
    """Return ``(source index, new text)`` for up to ``copies`` variants of each text.

    Variants identical to their source (no listed word, or none drawn) are dropped.
    """
    rng = random.Random(seed)
    produced = []
    for index, text in enumerate(texts):
        seen = {text}
        for _ in range(copies):
            variant = replace_synonyms(text, probability, rng)
            if variant not in seen:
                seen.add(variant)
                produced.append((index, variant))
    return produced
