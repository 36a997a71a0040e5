"""Parsing of statute text into articles, shared by the Markdown and plain-text importers."""

from __future__ import annotations

import datetime as dt
import re

from tianping.errors import ImportFailedError
from tianping.statutes.models import ArticleDraft
from tianping.text.numerals import CN_NUMERAL_CHARS, parse_number

_NUMERAL = rf"[0-9０-９{CN_NUMERAL_CHARS}]+"
ARTICLE_START = re.compile(rf"^(第({_NUMERAL})条(?:之({_NUMERAL}))?)[\s\u3000]+(.*)$")
HEADING = re.compile(rf"^(?:#+\s*)?(第{_NUMERAL}(编|分编|章|节))(?:[\s\u3000]+.*)?$")
# Standalone headings without a number: 总则, 分则, 附则.
NAMED_HEADING = re.compile(r"^(?:#+\s*)?([总分附])\s*则$")
DATE_LINE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日[\s\u3000]*(.*)$")


def parse_date_line(line: str) -> tuple[str, str] | None:
    """Parse '2020年5月28日 第十三届…通过' into ('2020-05-28', the event)."""
    match = DATE_LINE.match(line.strip())
    if not match:
        return None
    year, month, day, event = match.groups()
    try:
        date = dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise ImportFailedError(f"日期无效：{line.strip()}", hint="请改正这一行的年、月、日") from None
    return date, event.strip()


def dates_from_events(events: list[tuple[str, str]]) -> tuple[str | None, str | None, str | None]:
    """Return (promulgation, version, effective) dates from a law's dated events.

    The version date is the latest event that is not an entry into force (施行 or 生效).
    The effective date is the latest entry into force on or after the version date, if any.
    """
    if not events:
        return None, None, None
    enactments = [date for date, event in events if "施行" not in event and "生效" not in event]
    entries_into_force = [date for date, event in events if "施行" in event or "生效" in event]
    promulgation = min(enactments) if enactments else min(date for date, _ in events)
    version = max(enactments) if enactments else promulgation
    effective = None
    later_entries = [date for date in entries_into_force if date >= version]
    if later_entries:
        effective = max(later_entries)
    return promulgation, version, effective


def parse_articles(lines: list[str]) -> list[ArticleDraft]:
    """Parse body lines into articles with their 编/章/节 headings.

    An article starts with 第X条 (or 第X条之Y) followed by whitespace; the lines
    after it, up to the next article or heading, are its further paragraphs.
    """
    articles: list[ArticleDraft] = []
    part = chapter = section = None
    current: ArticleDraft | None = None
    paragraphs: list[str] = []

    def finish() -> None:
        if current is not None:
            current.text = "\n".join(paragraphs)
            articles.append(current)

    for raw_line in lines:
        line = raw_line.strip().replace("\u3000", " ").strip()
        if not line or line.startswith("<!--"):
            continue
        heading = HEADING.match(line)
        if heading and (line.startswith("#") or len(line) <= 40):
            finish()
            current, paragraphs = None, []
            title = line.lstrip("#").strip()
            kind = heading.group(2)
            if kind == "编" or kind == "分编":
                part, chapter, section = title, None, None
            elif kind == "章":
                chapter, section = title, None
            else:
                section = title
            continue
        named = NAMED_HEADING.match(line)
        if named:
            finish()
            current, paragraphs = None, []
            part, chapter, section = f"{named.group(1)}则", None, None
            continue
        if line.startswith("#"):
            continue
        start = ARTICLE_START.match(line)
        if start:
            finish()
            number_text, number, suffix, rest = start.groups()
            current = ArticleDraft(
                number_text=number_text,
                number=parse_number(number),
                suffix=parse_number(suffix) if suffix else 0,
                text="",
                part=part,
                chapter=chapter,
                section=section,
            )
            paragraphs = [rest.strip()] if rest.strip() else []
            continue
        if current is not None:
            paragraphs.append(line)
    finish()
    return articles


def find_duplicate_number(articles: list[ArticleDraft]) -> ArticleDraft | None:
    """Return the first article whose number (with its 之X suffix) already occurred, or None."""
    seen = set()
    for article in articles:
        key = (article.number, article.suffix)
        if key in seen:
            return article
        seen.add(key)
    return None
