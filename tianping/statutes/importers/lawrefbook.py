"""Importer for a LawRefBook-style folder: Markdown files indexed by db.sqlite3."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tianping.errors import ImportFailedError, InvalidInputError
from tianping.statutes.importers.plaintext import parse_law_text
from tianping.statutes.models import STATUS_IN_FORCE, STATUS_REPEALED, LawDraft
from tianping.text.encoding import read_text

logger = logging.getLogger(__name__)

SOURCE_NAME = "lawrefbook"
# Folders of court cases, which are not statutes.
_CASE_GROUP = "司法案例"


@dataclass
class _Entry:
    name: str
    level: str
    folder: str
    filename: str | None
    publish: str | None
    valid_from: str | None
    expired: bool
    order: int | None
    files: list[Path] = field(default_factory=list)


def is_lawrefbook(path: Path) -> bool:
    return path.is_dir() and (path / "db.sqlite3").is_file()


class LawRefBookImporter:
    """Read the statutes, judicial interpretations and regulations of a LawRefBook folder.

    Files that contain no 第X条 articles (some 批复 and 通知 are numbered
    一、二、 instead) are listed in ``skipped`` and not imported.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        if not is_lawrefbook(self.root):
            raise ImportFailedError(f"{self.root} 不是 LawRefBook 目录（缺少 db.sqlite3）",
                                    hint="请指定包含 db.sqlite3 和 Markdown 文件的目录")
        self.skipped: list[tuple[str, str]] = []
        self._entries = self._read_index()

    def _read_index(self) -> list[_Entry]:
        try:
            with sqlite3.connect(f"file:{self.root / 'db.sqlite3'}?mode=ro", uri=True) as conn:
                rows = conn.execute(
                    """SELECT l.name, l.level, c.folder, l.filename, l.publish, l.valid_from, l.expired,
                              l."order", c."group"
                       FROM law l JOIN category c ON c.id = l.category_id"""
                ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise ImportFailedError(f"无法读取 {self.root / 'db.sqlite3'}：{exc}",
                                    hint="请确认它是 LawRefBook 的索引数据库") from exc
        entries: dict[tuple[str, str, str | None], _Entry] = {}
        for name, level, folder, filename, publish, valid_from, expired, order, group in rows:
            if group == _CASE_GROUP or level == "案例":
                continue
            file_path = self._locate(folder, name, filename, publish)
            if file_path is None:
                self.skipped.append((f"{folder}/{name}", "索引中的文件不存在"))
                continue
            # The Civil Code is split into one file per 编; they form one law.
            key_name = name.split(" ")[0] if filename else name
            key = (folder, key_name, publish)
            entry = entries.get(key)
            if entry is None:
                entry = _Entry(key_name, level, folder, filename, publish, valid_from, bool(expired), order)
                entries[key] = entry
            entry.files.append((order or 0, file_path))
        for entry in entries.values():
            entry.files = [path for _, path in sorted(entry.files)]
        return list(entries.values())

    def _locate(self, folder: str, name: str, filename: str | None, publish: str | None) -> Path | None:
        candidates = [self.root / folder / f"{name}({publish}).md", self.root / folder / f"{name}.md"]
        if filename:
            candidates.insert(0, self.root / folder / f"{filename}.md")
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        return None

    def count(self) -> int:
        return len(self._entries)

    def drafts(self) -> Iterator[LawDraft]:
        for entry in self._entries:
            draft = self._parse(entry)
            if draft is not None:
                yield draft

    def _parse(self, entry: _Entry) -> LawDraft | None:
        first_draft: LawDraft | None = None
        articles = []
        for file_path in entry.files:
            reference = str(file_path.relative_to(self.root))
            try:
                text = read_text(file_path)
            except InvalidInputError as exc:
                raise ImportFailedError(f"{reference}：{exc}") from exc
            try:
                draft = parse_law_text(text, reference, source=SOURCE_NAME)
            except ImportFailedError as exc:
                if "没有解析出任何条文" in exc.message:
                    self.skipped.append((reference, "没有“第X条”格式的条文"))
                    continue
                if "条号重复" in exc.message:
                    self.skipped.append((reference, exc.message.split("：", 1)[1]))
                    continue
                raise
            if first_draft is None:
                first_draft = draft
            articles.extend(draft.articles)
        if first_draft is None:
            return None
        first_draft.articles = articles
        first_draft.level = entry.level
        first_draft.category = entry.folder.split("/")[0]
        first_draft.status = STATUS_REPEALED if entry.expired else STATUS_IN_FORCE
        if not first_draft.version_date:
            first_draft.version_date = entry.publish
        if not first_draft.promulgation_date:
            first_draft.promulgation_date = entry.publish
        if entry.valid_from and entry.publish == first_draft.version_date:
            first_draft.effective_date = entry.valid_from
        if not first_draft.effective_date:
            first_draft.effective_date = first_draft.version_date
        first_draft.source_ref = str(entry.files[0].relative_to(self.root))
        return first_draft
