"""Checking statute citations against the store for a given date."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from tianping import config
from tianping.errors import InvalidInputError
from tianping.statutes.aliases import REPEALED_LAWS, aliases_for, find_repealed
from tianping.statutes.citations import Citation, CitationParser
from tianping.statutes.models import STATUS_REPEALED, Article, format_article_number
from tianping.statutes.store import (
    StatuteStore,
    apply_amendment,
    check_date,
    is_repealed_on,
    today,
    version_start,
)
from tianping.text.numerals import int_to_cn

# Stable reason codes of the public JSON shape, with the Chinese label shown to users.
REASONS = {
    "ok": "引用有效",
    "unchecked_article": "该法在该日期有效，但本库未收录其条文，条号未核对",
    "unknown_law": "法律不存在或未收录",
    "unresolved_reference": "无法确定“本法/该法”所指的法律",
    "article_out_of_range": "条文不存在",
    "paragraph_out_of_range": "款不存在",
    "item_out_of_range": "项不存在",
    "repealed": "法律已废止",
    "not_yet_in_force": "尚未施行",
    "amended": "该条在此日期之后已被修改",
    "deleted": "该条已被删去",
    "quote_mismatch": "引文与法条原文不一致",
}

_PUNCTUATION = re.compile(r"[\s，,、；;：:。.！!？?“”\"'‘’「」『』（）()《》\-—…]")
_ELLIPSIS = re.compile(r"…+|\.{3,}|⋯+")


@dataclass
class CitationCheck:
    """The result of checking one citation."""

    citation: Citation
    valid: bool
    reason: str
    message: str
    date: str
    article_text: str | None = None
    effective_date: str | None = None
    status: str | None = None
    successor: str | None = None
    diff: str | None = None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        citation = self.citation
        return {
            "text": citation.text,
            "start": citation.start,
            "end": citation.end,
            "law": citation.law,
            "law_as_written": citation.law_as_written,
            "article": citation.article,
            "article_number": citation.article_number,
            "paragraph": citation.paragraph,
            "item": citation.item,
            "end_article": citation.end_article,
            "reference": citation.reference,
            "quote": citation.quote,
            "valid": self.valid,
            "reason": self.reason,
            "reason_label": REASONS[self.reason],
            "message": self.message,
            "date": self.date,
            "status": self.status,
            "effective_date": self.effective_date,
            "article_text": self.article_text,
            "successor": self.successor,
            "diff": self.diff,
        }


def known_names(store: StatuteStore) -> dict[str, str]:
    """Return every citable name with its canonical law, including repealed laws the store lacks."""
    names = {}
    law_names = {}
    for alias, law_id in store.alias_map().items():
        if law_id not in law_names:
            law_names[law_id] = store.law(law_id).name
        names[alias] = law_names[law_id]
    for repealed in REPEALED_LAWS:
        for alias in aliases_for(repealed.name):
            names.setdefault(alias, repealed.name)
    return names


class CitationVerifier:
    """Check citations in texts against one statute store."""

    def __init__(self, store: StatuteStore):
        self.store = store
        self.parser = CitationParser(known_names(store))

    def check_text(self, text: str, date: str | None = None) -> list[CitationCheck]:
        """Find and check every citation in ``text`` as of ``date`` (today when None)."""
        if len(text) > config.MAX_TEXT_CHARS:
            raise InvalidInputError(
                f"文本过长：{len(text)} 字，上限为 {config.MAX_TEXT_CHARS} 字",
                hint="请把文本拆成几段分别检查",
            )
        on_date = check_date(date) or today()
        return [self.check(citation, on_date, dated=date is not None) for citation in self.parser.parse(text)]

    def check(self, citation: Citation, date: str, dated: bool = True) -> CitationCheck:
        if citation.law is None:
            return CitationCheck(citation, False, "unresolved_reference",
                                 "“本法/该法”之前没有可指代的法律名称，请写明法律全称", date)
        law = self.store.find_law(citation.law)
        if law is None:
            return self._check_unstored_law(citation, date)

        version = self.store.version_on(law.id, date)
        if version is None:
            first = self.store.versions(law.id)[0]
            if law.first_effective_date and law.first_effective_date <= date:
                return self._check_unstored_version(citation, law.name, first, date)
            return CitationCheck(
                citation, False, "not_yet_in_force",
                f"《{law.name}》在 {date} 尚未施行，自 {version_start(first)} 起施行", date,
                effective_date=version_start(first))
        if is_repealed_on(version, date):
            when = f"于 {version.repealed_date} " if version.repealed_date else "（废止日期不详）"
            message = f"《{law.name}》已{when}废止"
            if version.successor:
                message += f"，{date} 应适用《{version.successor}》"
            return CitationCheck(citation, False, "repealed", message, date, status=version.status,
                                 effective_date=version_start(version), successor=version.successor)
        numbers = [(citation.article_number, citation.article_suffix)]
        if citation.end_article_number is not None:
            numbers.append((citation.end_article_number, citation.end_article_suffix or 0))
        amendments = {number: self.store.outdated_by(version.id, date, number) for number in numbers}
        deleted = next((found for found in amendments.values() if found and found["deleted"]), None)
        if deleted is not None:
            number = next(number for number, found in amendments.items() if found is deleted)
            return CitationCheck(
                citation, False, "deleted",
                f"《{law.name}》{format_article_number(*number)}已被{deleted['act_article']}删去"
                f"（{deleted['effective_date']} 起施行），{date} 已不能引用",
                date, effective_date=deleted["effective_date"], status=STATUS_REPEALED)
        unrestated = next((found for found in amendments.values() if found and found["amended_text"] is None), None)
        if unrestated is not None:
            return CitationCheck(
                citation, True, "unchecked_article",
                f"本库中《{law.name}》的文本（{version_start(version)} 起施行）已被《{unrestated['act']}》修改"
                f"（{unrestated['effective_date']} 起施行），本库没有修改后的全文，条文未核对",
                date, effective_date=version_start(version), status=version.status)

        articles: list[Article] = []
        for number, suffix in numbers:
            article = self.store.article(version.id, number, suffix)
            amendment = amendments[(number, suffix)]
            if amendment is not None:
                article = _amended_article(article, amendment, law, version, number, suffix)
            if article is None:
                return self._missing_article(citation, law.id, law.name, version, number, suffix, date)
            articles.append(article)
        article = articles[0]
        message = f"有效：《{law.name}》{article.number_text}"
        if amendments[numbers[0]] is not None:
            message += f"（按{amendments[numbers[0]]['act_article']}修改后的条文核对）"
        result = CitationCheck(citation, True, "ok", message, date,
                               article_text=article.text, effective_date=article.effective_date,
                               status=article.status)

        paragraph_problem = _check_paragraph_and_item(citation, article)
        if paragraph_problem:
            result.valid, result.reason, result.message = False, paragraph_problem[0], paragraph_problem[1]
            return result

        if citation.quote:
            diff = quote_difference(citation.quote, article.text)
            if diff is not None:
                result.valid, result.reason = False, "quote_mismatch"
                start = article.effective_date or version_start(version)
                result.message = f"引文与《{law.name}》{article.number_text}（{start} 施行的版本）原文不一致"
                result.diff = diff
                return result

        if dated:
            amendment = self._later_amendment(law.id, version.id, article, date)
            if amendment is not None:
                result.valid, result.reason = False, "amended"
                result.message = (
                    f"《{law.name}》{article.number_text}在 {date} 之后已被修改"
                    f"（{amendment}），引用时请注明所依据的版本"
                )
                result.details["amended_on"] = amendment
        return result

    def _check_unstored_law(self, citation: Citation, date: str) -> CitationCheck:
        repealed = find_repealed(citation.law or "")
        if repealed is None:
            return CitationCheck(citation, False, "unknown_law",
                                 f"未找到《{citation.law}》：本库没有这部法律，请核对名称", date)
        if date >= repealed.repealed_date:
            return CitationCheck(
                citation, False, "repealed",
                f"《{repealed.name}》已于 {repealed.repealed_date} 废止，{date} 应适用《{repealed.successor}》",
                date, successor=repealed.successor, status="已废止")
        if date < repealed.effective_date:
            return CitationCheck(citation, False, "not_yet_in_force",
                                 f"《{repealed.name}》自 {repealed.effective_date} 起施行，{date} 尚未施行", date,
                                 effective_date=repealed.effective_date)
        return CitationCheck(
            citation, True, "unchecked_article",
            f"《{repealed.name}》在 {date} 有效（{repealed.repealed_date} 废止），本库未收录其条文，条号未核对",
            date, effective_date=repealed.effective_date, successor=repealed.successor)

    def _check_unstored_version(self, citation: Citation, law_name: str, first, date: str) -> CitationCheck:
        """Report a law in force on ``date`` whose text of that time the store lacks."""
        earliest = self.store.article(first.id, citation.article_number, citation.article_suffix)
        found = "该条见于" if earliest else "该条不见于"
        return CitationCheck(
            citation, True, "unchecked_article",
            f"《{law_name}》在 {date} 有效，但本库没有当时的文本（最早收录的版本自 {version_start(first)} 起施行，"
            f"{found}该版本），条号未核对",
            date, effective_date=version_start(first))

    def _missing_article(self, citation: Citation, law_id: int, law_name: str, version, number: int,
                         suffix: int, date: str) -> CitationCheck:
        article_name = format_article_number(number, suffix)
        for later in self.store.versions(law_id):
            if version_start(later) > date and self.store.article(later.id, number, suffix):
                return CitationCheck(
                    citation, False, "not_yet_in_force",
                    f"《{law_name}》{article_name}自 {version_start(later)} 起才有（{date} 适用的版本中没有该条）",
                    date, effective_date=version_start(later))
        low, high = self.store.article_bounds(version.id)
        return CitationCheck(
            citation, False, "article_out_of_range",
            f"《{law_name}》没有{article_name}：{version_start(version)} 施行的版本共第{low}条至第{high}条",
            date, effective_date=version_start(version))

    def _later_amendment(self, law_id: int, version_id: int, article: Article, date: str) -> str | None:
        """Return a description of the first later version in which this article's text differs."""
        current_date = today()
        for later in self.store.versions(law_id):
            start = version_start(later)
            if later.id == version_id or start <= date or start > current_date:
                continue
            later_article = self.store.article(later.id, article.number, article.suffix)
            if later_article is None or _normalize(later_article.text) != _normalize(article.text):
                label = later.amended_by or f"{later.version_date} 修订版本"
                return f"{label}，{start} 起施行"
        # A stored amending act that restates the article, where the store lacks the text it produced.
        amendment = self.store.outdated_by(version_id, current_date, (article.number, article.suffix))
        if amendment is not None and amendment["effective_date"] and amendment["effective_date"] > date:
            return f"{amendment['act']}，{amendment['effective_date']} 起施行"
        return None


def _amended_article(stored: Article | None, amendment: dict, law, version, number: int, suffix: int) -> Article:
    """Return the article with the text that a later amending act gave it, in force since that act."""
    if stored is None:
        # An article that the amending act inserted (第一百三十四条之一).
        stored = Article(0, law.name, law.short_name, law.level, format_article_number(number, suffix), number,
                         suffix, "", None, None, None, version.id, version.version_date, None, version.status,
                         None)
    return apply_amendment(stored, amendment)


def _check_paragraph_and_item(citation: Citation, article: Article) -> tuple[str, str] | None:
    if citation.paragraph is None:
        return None
    paragraphs = article.paragraphs
    if citation.paragraph > len(paragraphs):
        return ("paragraph_out_of_range",
                f"{article.number_text}只有 {len(paragraphs)} 款，没有第{int_to_cn(citation.paragraph)}款")
    if citation.item is not None:
        items = paragraphs[citation.paragraph - 1].items
        if not items:
            return ("item_out_of_range",
                    f"{article.number_text}第{int_to_cn(citation.paragraph)}款不分项，没有第{int_to_cn(citation.item)}项")
        if citation.item > len(items):
            return ("item_out_of_range",
                    f"{article.number_text}第{int_to_cn(citation.paragraph)}款只有 {len(items)} 项，"
                    f"没有第{int_to_cn(citation.item)}项")
    return None


def _normalize(text: str) -> str:
    return _PUNCTUATION.sub("", text)


def quote_difference(quote: str, article_text: str) -> str | None:
    """Return None when the quote occurs in the article, else a character diff.

    Punctuation and spaces are ignored, and an ellipsis (……) in the quote
    matches any omitted text, as long as the fragments appear in order.
    """
    normalized_article = _normalize(article_text)
    position = 0
    fragments = [_normalize(fragment) for fragment in _ELLIPSIS.split(quote)]
    matched = True
    for fragment in fragments:
        if not fragment:
            continue
        found = normalized_article.find(fragment, position)
        if found < 0:
            matched = False
            break
        position = found + len(fragment)
    if matched:
        return None
    return _render_diff(_normalize(quote), normalized_article)


def _render_diff(quote: str, article: str) -> str:
    """Mark what the quote changed against the closest passage: [-原文-]{+引文+}."""
    matcher = difflib.SequenceMatcher(None, article, quote, autojunk=False)
    blocks = [block for block in matcher.get_matching_blocks() if block.size]
    if blocks:
        window_start = max(0, blocks[0].a - blocks[0].b)
        window_end = min(len(article), blocks[-1].a + blocks[-1].size + (len(quote) - blocks[-1].b - blocks[-1].size))
        article = article[window_start:window_end]
        matcher = difflib.SequenceMatcher(None, article, quote, autojunk=False)
    pieces = []
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(article[a_start:a_end])
        if tag in ("replace", "delete"):
            pieces.append(f"[-{article[a_start:a_end]}-]")
        if tag in ("replace", "insert"):
            pieces.append(f"{{+{quote[b_start:b_end]}+}}")
    return "".join(pieces)


def check_citations(store: StatuteStore, text: str, date: str | None = None) -> list[CitationCheck]:
    """Find and check every citation in ``text``; see :class:`CitationVerifier`."""
    return CitationVerifier(store).check_text(text, date)
