"""Legal search over statute articles: BM25, dense embeddings and reciprocal rank fusion."""

from tianping.retrieval.index import ArticleIndex
from tianping.retrieval.search import Hit, LegalSearch, SearchFilters, SearchResult

__all__ = ["ArticleIndex", "LegalSearch", "SearchFilters", "SearchResult", "Hit"]
