"""Records of the statute store: laws, versions, articles, paragraphs (款) and items (项)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

from tianping.text.numerals import CN_NUMERAL_CHARS, parse_number

STATUS_IN_FORCE = "现行有效"
STATUS_AMENDED = "已被修改"
STATUS_REPEALED = "已废止"
STATUS_HISTORICAL = "历史版本"
STATUSES = (STATUS_IN_FORCE, STATUS_AMENDED, STATUS_REPEALED, STATUS_HISTORICAL)
# Shown for a version whose effective date is still ahead; never stored.
STATUS_NOT_YET_IN_FORCE = "尚未施行"
# Levels (效力级别) of the sources that the importers read and of plain-text files.
LEVELS = ("宪法", "法律", "行政法规", "监察法规", "司法解释", "部门规章", "地方性法规", "其他")

_ARTICLE_NUMBER = re.compile(
    rf"^第([0-9０-９{CN_NUMERAL_CHARS}]+)条(?:之([{CN_NUMERAL_CHARS}0-9]+))?$"
)
_ITEM_START = re.compile(rf"^[（(]([{CN_NUMERAL_CHARS}0-9]+)[)）]")


def parse_article_number(number_text: str) -> tuple[int, int]:
    """Split 第一百三十三条之一 into (133, 1); a plain article has suffix 0.

    Raises ValueError for text that is not an article number.
    """
    match = _ARTICLE_NUMBER.match(number_text.strip())
    if not match:
        raise ValueError(f"not an article number: {number_text!r}")
    suffix = parse_number(match.group(2)) if match.group(2) else 0
    return parse_number(match.group(1)), suffix


def format_article_number(number: int, suffix: int = 0) -> str:
    """Write (133, 1) as 第一百三十三条之一."""
    from tianping.text.numerals import int_to_cn

    text = f"第{int_to_cn(number)}条"
    if suffix:
        text += f"之{int_to_cn(suffix)}"
    return text


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Item:
    """One item (项) of a paragraph, such as （二）醉酒驾驶机动车的；"""

    number: int
    text: str


@dataclass
class Paragraph:
    """One paragraph (款) of an article with its items (项)."""

    number: int
    text: str
    items: list[Item] = field(default_factory=list)


def split_paragraphs(text: str) -> list[Paragraph]:
    """Split article text into paragraphs (款) and items (项).

    Each line is a paragraph unless it starts with an item marker such as
    （一）, which makes it an item of the paragraph before it.
    """
    paragraphs: list[Paragraph] = []
    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if not line:
            continue
        item_match = _ITEM_START.match(line)
        if item_match and paragraphs:
            try:
                item_number = parse_number(item_match.group(1))
            except ValueError:
                item_number = len(paragraphs[-1].items) + 1
            paragraphs[-1].items.append(Item(item_number, line))
            continue
        paragraphs.append(Paragraph(len(paragraphs) + 1, line))
    return paragraphs


@dataclass
class ArticleDraft:
    """An article as an importer parsed it, before it is stored."""

    number_text: str
    number: int
    suffix: int
    text: str
    part: str | None = None
    chapter: str | None = None
    section: str | None = None


@dataclass
class LawDraft:
    """One version of one law as an importer parsed it."""

    name: str
    articles: list[ArticleDraft]
    level: str = "法律"
    doc_type: str | None = None
    category: str | None = None
    issuing_body: str | None = None
    promulgation_date: str | None = None
    effective_date: str | None = None
    version_date: str | None = None
    status: str = STATUS_IN_FORCE
    repealed_date: str | None = None
    amended_by: str | None = None
    # The day the law itself first took effect, which may precede every stored text.
    first_effective_date: str | None = None
    source: str = "text"
    source_ref: str | None = None

    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for article in self.articles:
            digest.update(article.number_text.encode("utf-8"))
            digest.update(b"\x1f")
            digest.update(article.text.encode("utf-8"))
            digest.update(b"\x1e")
        return digest.hexdigest()[:16]


@dataclass
class Law:
    id: int
    name: str
    short_name: str | None
    level: str | None
    doc_type: str | None
    category: str | None
    issuing_body: str | None
    first_effective_date: str | None = None


@dataclass
class Version:
    id: int
    law_id: int
    version_date: str | None
    promulgation_date: str | None
    effective_date: str | None
    status: str
    repealed_date: str | None
    amended_by: str | None
    source: str
    source_ref: str | None
    successor: str | None = None


@dataclass
class Article:
    """A stored article together with the law and version it belongs to."""

    id: int
    law: str
    short_name: str | None
    level: str | None
    number_text: str
    number: int
    suffix: int
    text: str
    part: str | None
    chapter: str | None
    section: str | None
    version_id: int
    version_date: str | None
    effective_date: str | None
    status: str
    amended_by: str | None

    @property
    def paragraphs(self) -> list[Paragraph]:
        return split_paragraphs(self.text)

    def path(self) -> list[str]:
        """Return the 编/章/节 headings above this article."""
        return [heading for heading in (self.part, self.chapter, self.section) if heading]

    def to_dict(self) -> dict:
        """Return the public JSON shape of an article."""
        return {
            "law": self.law,
            "short_name": self.short_name,
            "level": self.level,
            "article": self.number_text,
            "article_number": self.number,
            "article_suffix": self.suffix,
            "path": self.path(),
            "text": self.text,
            "paragraphs": [asdict(paragraph) for paragraph in self.paragraphs],
            "status": self.status,
            "effective_date": self.effective_date,
            "version_date": self.version_date,
            "amended_by": self.amended_by,
        }
