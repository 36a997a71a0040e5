"""Finding statute citations in free Chinese text.

Recognised forms include 《中华人民共和国刑法》第二百六十四条, 《刑法》第264条第一款第（二）项,
刑法第一百三十三条之一, 海商法第94条, ranges (第X条至第Y条), lists (第47条和第49条,
第四十七条、第四十九条, 第47、49条) and references back to a law already cited
(本法, 该法, 同法, or a bare 第X条 right after a citation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from tianping.statutes.aliases import STATE_PREFIX, normalize_name
from tianping.statutes.models import format_article_number
from tianping.text.numerals import CN_NUMERAL_CHARS, parse_number

_NUM = rf"[0-9０-９{CN_NUMERAL_CHARS}]+"
_ARTICLE = (
    rf"第\s*(?P<number>{_NUM})\s*条(?:\s*之\s*(?P<suffix>{_NUM}))?"
    rf"(?:\s*(?:至|到|—|－|-|～|~)\s*第?\s*(?P<end_number>{_NUM})\s*条(?:\s*之\s*(?P<end_suffix>{_NUM}))?)?"
    rf"(?:\s*第\s*(?P<paragraph>{_NUM})\s*款)?"
    rf"(?:\s*第\s*[（(]?\s*(?P<item>{_NUM})\s*[)）]?\s*项)?"
)
# 第47、49条: several article numbers sharing one 条.
_COMPACT_LIST = rf"第\s*(?P<list>{_NUM}(?:\s*[、，,和及]\s*{_NUM})+)\s*条"
ANCHOR = re.compile(rf"(?:{_COMPACT_LIST})|(?:{_ARTICLE})")

_TITLE_BEFORE = re.compile(
    r"《(?P<name>[^《》\n]{1,80})》\s*(?:[\u4e00-\u9fff]{0,8}?(?:编|分编|章|节|分则|总则))?\s*(?:的)?\s*$"
)
_SELF_REFERENCE = re.compile(r"(本法|该法|同法|此法|本条例|该条例|本规定|该规定|本解释|该解释)\s*$")
_GENERIC_LAW = re.compile(
    r"(?P<name>[\u4e00-\u9fff（）()]{1,40}?(?:法典|法|条例|规定|办法|解释|细则|决定|规则|决议))\s*$"
)
# Words that end a phrase before a law name written without 《》 (根据刑法…, 违反了劳动法…).
_LEAD_WORDS = re.compile(
    r"^.*(?:根据|依据|依照|按照|遵照|违反|适用|参照|援引|引用|对照|关于|以及|或者|并且|但是|其中|"
    r"了|的|和|及|与|或|是|在|对|按|依|据|即|由|经|中|为|以|将|把|向|从|于|因)"
)
_CONNECTORS = re.compile(r"^[\s、，,和及与以及或者或并]*$")
_QUOTE_AFTER = re.compile(
    r"^\s*(?:之?(?:明确)?规定|载明|指出|写道|称|规定为)?\s*[：:，,]?\s*[“「『\"](?P<quote>[^”」』\"]{1,2000})[”」』\"]"
)
_NOT_LAW_NAMES = {"方法", "办法", "说法", "看法", "做法", "想法", "用法", "依法", "合法", "非法", "违法",
                  "守法", "执法", "司法", "立法", "犯法", "无法", "设法", "宪法规定"}


@dataclass
class Citation:
    """One statute citation found in a text, with its character span."""

    text: str
    start: int
    end: int
    law: str | None
    law_as_written: str | None
    article: str
    article_number: int
    article_suffix: int = 0
    paragraph: int | None = None
    item: int | None = None
    end_article: str | None = None
    end_article_number: int | None = None
    end_article_suffix: int | None = None
    reference: str = "explicit"
    quote: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class CitationParser:
    """Parse citations, resolving names against a set of known law names.

    ``known_names`` maps every citable name (full, short, customary) to the
    canonical law name. Names written in 《》 are taken as they are even
    when unknown, so invented laws can be reported.
    """

    def __init__(self, known_names: dict[str, str] | None = None):
        self.known_names = {normalize_name(name): canonical for name, canonical in (known_names or {}).items()}
        self._max_name_length = max((len(name) for name in self.known_names), default=0)

    def parse(self, text: str) -> list[Citation]:
        citations: list[Citation] = []
        last_law: tuple[str | None, str | None] | None = None
        last_end = 0
        for match in ANCHOR.finditer(text):
            prefix = text[max(0, match.start() - 90):match.start()]
            law, written, reference, name_start = self._law_before(prefix, match.start())
            if reference == "self" and last_law is None:
                # 本法 with no law cited before it: reported so the verifier can flag it.
                law, written, reference = None, None, "unresolved"
            elif reference in ("self", None):
                gap = text[last_end:match.start()]
                if last_law is None:
                    continue
                if reference is None and not _CONNECTORS.match(gap):
                    continue
                law, written = last_law
                reference = "same_law" if reference == "self" else "inherited"
            start = name_start if name_start is not None else match.start()
            end = match.end()
            quote = None
            quote_match = _QUOTE_AFTER.match(text[end:end + 2100])
            if quote_match:
                quote = quote_match.group("quote")
            for citation in self._citations_from_match(match, text, start, end, law, written, reference):
                citation.quote = quote
                citations.append(citation)
            last_law = (law, written)
            last_end = end
        return citations

    def _law_before(self, prefix: str, anchor_start: int) -> tuple[str | None, str | None, str | None, int | None]:
        """Return (canonical law, name as written, reference kind, start of the name) for a prefix."""
        titled = _TITLE_BEFORE.search(prefix)
        if titled:
            written = normalize_name(titled.group("name"))
            start = anchor_start - (len(prefix) - titled.start())
            canonical = self._canonical(written)
            if canonical is None and "的" in written:
                # 《民法商法类中的证券法》: a known law named after a description.
                tail = written.rsplit("的", 1)[1]
                if self._canonical(tail):
                    return self._canonical(tail), tail, "explicit", start
            return canonical, written, "explicit", start

        # Known names come before 本法/同法, because a name can end in one of them (合同法).
        compact = prefix.rstrip()
        if compact.endswith("的"):
            # 公司法的第六十三条
            compact = compact[:-1].rstrip()
        for length in range(min(self._max_name_length, len(compact)), 1, -1):
            candidate = compact[-length:]
            if candidate in self.known_names:
                start = anchor_start - (len(prefix) - (len(compact) - length))
                return self.known_names[candidate], candidate, "explicit", start

        self_reference = _SELF_REFERENCE.search(prefix)
        if self_reference:
            return None, None, "self", anchor_start - (len(prefix) - self_reference.start())

        generic = _GENERIC_LAW.search(compact)
        if generic:
            name = _strip_lead_words(generic.group("name"))
            if len(name) >= 3 and name not in _NOT_LAW_NAMES and not name.endswith(("依法", "合法", "违法")):
                start = anchor_start - (len(prefix) - (len(compact) - len(name)))
                return self._canonical(name), name, "explicit", start
        return None, None, None, None

    def _canonical(self, written: str) -> str | None:
        if written in self.known_names:
            return self.known_names[written]
        return None

    def _citations_from_match(self, match: re.Match, text: str, start: int, end: int, law: str | None,
                              written: str | None, reference: str) -> Iterable[Citation]:
        law_name = law or written
        if match.group("list"):
            for number_text in re.split(r"\s*[、，,和及]\s*", match.group("list")):
                number = parse_number(number_text)
                yield Citation(text[start:end], start, end, law_name, written,
                               format_article_number(number), number, reference=reference)
            return
        number = parse_number(match.group("number"))
        suffix = parse_number(match.group("suffix")) if match.group("suffix") else 0
        citation = Citation(
            text=text[start:end],
            start=start,
            end=end,
            law=law_name,
            law_as_written=written,
            article=format_article_number(number, suffix),
            article_number=number,
            article_suffix=suffix,
            paragraph=parse_number(match.group("paragraph")) if match.group("paragraph") else None,
            item=parse_number(match.group("item")) if match.group("item") else None,
            reference=reference,
        )
        if match.group("end_number"):
            end_number = parse_number(match.group("end_number"))
            end_suffix = parse_number(match.group("end_suffix")) if match.group("end_suffix") else 0
            citation.end_article = format_article_number(end_number, end_suffix)
            citation.end_article_number = end_number
            citation.end_article_suffix = end_suffix
        yield citation


def _strip_lead_words(name: str) -> str:
    """Drop the words before a law name: 根据利率法 → 利率法, keeping 中华人民共和国 intact."""
    protected = name.replace(STATE_PREFIX, "\x00")
    stripped = _LEAD_WORDS.sub("", protected)
    if not stripped.strip("\x00"):
        stripped = protected
    return stripped.replace("\x00", STATE_PREFIX)


def parse_citations(text: str, known_names: dict[str, str] | None = None) -> list[Citation]:
    """Find every statute citation in ``text``; see :class:`CitationParser`."""
    return CitationParser(known_names).parse(text)
