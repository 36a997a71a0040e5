"""Law names: normalisation, customary abbreviations and laws repealed before the store's data begins."""

from __future__ import annotations

import re
from dataclasses import dataclass

STATE_PREFIX = "中华人民共和国"

# Abbreviations used in practice that cannot be derived by dropping 中华人民共和国.
CUSTOMARY_ALIASES = {
    "刑诉法": "中华人民共和国刑事诉讼法",
    "民诉法": "中华人民共和国民事诉讼法",
    "行诉法": "中华人民共和国行政诉讼法",
    "消法": "中华人民共和国消费者权益保护法",
    "消保法": "中华人民共和国消费者权益保护法",
    "个保法": "中华人民共和国个人信息保护法",
    "道交法": "中华人民共和国道路交通安全法",
    "治安法": "中华人民共和国治安管理处罚法",
    "劳动法": "中华人民共和国劳动法",
    "反垄断法": "中华人民共和国反垄断法",
    "著作权法": "中华人民共和国著作权法",
    "宪法": "中华人民共和国宪法",
}


@dataclass(frozen=True)
class RepealedLaw:
    """A law repealed by a later one, known even when the store has no text of it."""

    name: str
    effective_date: str
    repealed_date: str
    successor: str


# Article 1260 of the Civil Code repealed these nine laws on 2021-01-01; the
# Contract Law (Article 428) repealed the three earlier contract laws on 1999-10-01.
REPEALED_LAWS = [
    RepealedLaw("中华人民共和国合同法", "1999-10-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国民法通则", "1987-01-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国民法总则", "2017-10-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国物权法", "2007-10-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国担保法", "1995-10-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国婚姻法", "1981-01-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国继承法", "1985-10-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国收养法", "1992-04-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国侵权责任法", "2010-07-01", "2021-01-01", "中华人民共和国民法典"),
    RepealedLaw("中华人民共和国经济合同法", "1982-07-01", "1999-10-01", "中华人民共和国合同法"),
    RepealedLaw("中华人民共和国涉外经济合同法", "1985-07-01", "1999-10-01", "中华人民共和国合同法"),
    RepealedLaw("中华人民共和国技术合同法", "1987-11-01", "1999-10-01", "中华人民共和国合同法"),
]

_BRACKETS = str.maketrans({"(": "（", ")": "）", " ": None, "\u3000": None})
_TITLE_MARKS = re.compile(r"[《》〈〉<>]")


def normalize_name(name: str) -> str:
    """Normalise a law name for lookup: strip 《》, spaces and use full-width brackets."""
    return _TITLE_MARKS.sub("", name).translate(_BRACKETS).strip()


def short_name(name: str) -> str | None:
    """Return the name without 中华人民共和国, or None when there is no such prefix."""
    normalized = normalize_name(name)
    if normalized.startswith(STATE_PREFIX) and len(normalized) > len(STATE_PREFIX) + 1:
        return normalized[len(STATE_PREFIX):]
    return None


def aliases_for(name: str) -> set[str]:
    """Return every name under which a law can be cited: canonical, short and customary."""
    normalized = normalize_name(name)
    names = {normalized}
    short = short_name(normalized)
    if short:
        names.add(short)
    for alias, target in CUSTOMARY_ALIASES.items():
        if target == normalized:
            names.add(alias)
    return names


def find_repealed(name: str) -> RepealedLaw | None:
    normalized = normalize_name(name)
    for law in REPEALED_LAWS:
        if normalized in (law.name, short_name(law.name)):
            return law
    return None
