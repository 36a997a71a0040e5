"""Importer for one law given as a plain-text or Markdown file."""

from __future__ import annotations

import re
from pathlib import Path

from tianping.errors import ImportFailedError
from tianping.statutes.importers.text import (
    dates_from_events,
    find_duplicate_number,
    parse_articles,
    parse_date_line,
)
from tianping.statutes.models import LEVELS, STATUSES, LawDraft
from tianping.text.encoding import read_text

INFO_END = "<!-- INFO END -->"


def parse_law_text(text: str, source_ref: str, *, name: str | None = None, source: str = "text") -> LawDraft:
    """Parse one law: a title line, optional dated event lines, then articles.

    Markdown files in the LawRefBook layout put the title and dates above
    ``<!-- INFO END -->``; plain text puts them before the first heading or article.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if INFO_END in text:
        end = next(index for index, line in enumerate(lines) if INFO_END in line)
        header, body = lines[:end], lines[end + 1:]
    else:
        header, body = _split_plain_header(lines)

    titles = [line.lstrip("#").strip() for line in header
              if line.strip() and not line.strip().startswith("<!--") and parse_date_line(line) is None
              and not line.strip().startswith("---") and ":" not in line]
    events = [event for event in (parse_date_line(line) for line in header) if event]
    law_name = name or (titles[0] if titles else None)
    if not law_name:
        raise ImportFailedError(
            f"{source_ref}：找不到法律名称（标题行）",
            hint="文件第一行应为法律名称，例如“中华人民共和国刑法”，或用 --name 指定",
        )
    articles = parse_articles(body)
    duplicate = find_duplicate_number(articles)
    if duplicate is not None:
        raise ImportFailedError(
            f"{source_ref}：条号重复：{duplicate.number_text}",
            hint="同一部法律中每个条号只能出现一次；如果文件包含多个文件或附件，请拆开分别导入",
        )
    if not articles:
        raise ImportFailedError(
            f"{source_ref}：没有解析出任何条文",
            hint="每条应另起一行，以“第X条”加空格开头，例如“第一条 为了……”",
        )
    promulgation, version, effective = dates_from_events(events)
    return LawDraft(
        amended_by=_last_amendment(events),
        first_effective_date=_first_entry_into_force(events) or promulgation,
        name=law_name,
        articles=articles,
        promulgation_date=promulgation,
        version_date=version,
        effective_date=effective or version,
        source=source,
        source_ref=source_ref,
    )


def _first_entry_into_force(events: list[tuple[str, str]]) -> str | None:
    dates = [date for date, event in events if "施行" in event or "生效" in event]
    return min(dates) if dates else None


def _last_amendment(events: list[tuple[str, str]]) -> str | None:
    """Return the name of the amending act in the latest dated event, such as 中华人民共和国刑法修正案（十二）."""
    for _, event in sorted(events, reverse=True):
        match = re.search(r"《([^》]+)》", event)
        if match:
            return match.group(1)
        if "施行" not in event:
            return None
    return None


def _split_plain_header(lines: list[str]) -> tuple[list[str], list[str]]:
    from tianping.statutes.importers.text import ARTICLE_START, HEADING

    for index, raw_line in enumerate(lines):
        line = raw_line.strip().replace("\u3000", " ").lstrip("#").strip()
        if ARTICLE_START.match(line) or HEADING.match(line) or line in ("目录", "目 录"):
            return lines[:index], lines[index:]
    return lines, []


_LOCAL_PREFIX = re.compile(r"^[\u4e00-\u9fff]{2,12}?(?:省|市|自治区|自治州|自治县|县|区)")


def infer_level(name: str) -> str:
    """Guess the level of a law from its name; ``--level`` overrides the guess."""
    if name.startswith(("最高人民法院", "最高人民检察院")):
        return "司法解释"
    if name.startswith("国务院") or (name.endswith("条例") and not _LOCAL_PREFIX.match(name)
                                    and name.startswith("中华人民共和国")):
        return "行政法规"
    if _LOCAL_PREFIX.match(name) and not name.startswith("中华人民共和国"):
        return "地方性法规"
    if name.endswith(("法", "法典")) or "全国人民代表大会" in name:
        return "法律"
    return "其他"


def import_plain_file(path: Path, *, name: str | None = None, level: str | None = None,
                      status: str | None = None, effective_date: str | None = None,
                      version_date: str | None = None) -> LawDraft:
    """Parse a plain-text law; options given by the user override the values in the file."""
    if status is not None and status not in STATUSES:
        raise ImportFailedError(f"无效的状态：{status}", hint=f"可选值：{'、'.join(STATUSES)}")
    if level is not None and level not in LEVELS:
        raise ImportFailedError(f"无效的效力级别：{level}", hint=f"可选值：{'、'.join(LEVELS)}")
    draft = parse_law_text(read_text(path), str(path), name=name)
    draft.level = level or infer_level(draft.name)
    if status:
        draft.status = status
    if version_date:
        draft.version_date = version_date
    if effective_date:
        draft.effective_date = effective_date
    if not draft.effective_date and not draft.version_date:
        raise ImportFailedError(
            f"{path}：没有找到施行日期或公布日期",
            hint="请在文件中写“2021年1月1日 施行”这样的日期行，或用 --effective-date 指定",
        )
    return draft
