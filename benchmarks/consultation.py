"""Benchmark of grounded consultation on LawBench task 3-8 (legal consultation) dev items.

For each item it answers the question and reports, per mode:

- ROUGE-L F1 over characters against the reference answer;
- the share of cited articles that exist and are in force on the date used;
- the share of answers with at least one verified citation;
- the share of items whose reference cites an article that is among the sources (retrieval recall).

Modes: ``retrieval`` (no LLM, always run); ``grounded`` and ``ungrounded`` when an
OpenAI-compatible backend is configured through TIANPING_LLM_BASE_URL and
TIANPING_LLM_MODEL. ``ungrounded`` sends the bare question to the same backend,
and its citations are checked the same way but not corrected.

Usage:
    python benchmarks/consultation.py [--data DIR] [--home DIR] [--limit N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
_NOISE = re.compile(r"[\s，,。.；;：:！!？?“”\"'（）()《》、]")


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over characters, punctuation and spaces removed."""
    a, b = _NOISE.sub("", candidate), _NOISE.sub("", reference)
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for char in a:
        current = [0]
        for index, other in enumerate(b, start=1):
            current.append(previous[index - 1] + 1 if char == other else max(previous[index], current[-1]))
        previous = current
    lcs = previous[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def summarize(rows: list[dict]) -> dict:
    cited = sum(row["citations"] for row in rows)
    valid = sum(row["valid_citations"] for row in rows)
    return {
        "items": len(rows),
        "rouge_l": sum(row["rouge_l"] for row in rows) / len(rows),
        "cited_articles": cited,
        "valid_share": valid / cited if cited else None,
        "answers_with_verified_citation": sum(1 for row in rows if row["valid_citations"]) / len(rows),
        "reference_article_in_sources": sum(1 for row in rows if row["reference_in_sources"]) / len(rows),
        "seconds_per_item": sum(row["seconds"] for row in rows) / len(rows),
    }


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--data", default=os.environ.get("TIANPING_DATA", REPOSITORY.parent / "shared" / "data"))
    arguments.add_argument("--home", help="TIANPING_HOME to use (default: a temporary folder)")
    arguments.add_argument("--limit", type=int, default=50)
    arguments.add_argument("--out", default=REPOSITORY / "benchmarks" / "results" / "consultation.json")
    options = arguments.parse_args()
    items_path = Path(options.data) / "lawbench" / "zero_shot" / "3-8.json"
    if not items_path.is_file():
        sys.exit(f"{items_path} not found; set --data or TIANPING_DATA")
    os.environ["TIANPING_HOME"] = options.home or tempfile.mkdtemp(prefix="tianping-bench-")

    from tianping.generation import GroundedAnswerer, make_backend
    from tianping.retrieval import LegalSearch
    from tianping.statutes.importers import ensure_default
    from tianping.statutes.store import StatuteStore
    from tianping.statutes.verify import CitationVerifier

    store = StatuteStore()
    ensure_default(store)
    searcher = LegalSearch(store)
    searcher.index.ensure()
    verifier = CitationVerifier(store)
    items = json.loads(items_path.read_text("utf-8"))[: options.limit]

    modes = {"retrieval": GroundedAnswerer(searcher)}
    backend = None
    if os.environ.get("TIANPING_LLM_BASE_URL"):
        backend = make_backend("openai", base_url=os.environ["TIANPING_LLM_BASE_URL"],
                               model=os.environ.get("TIANPING_LLM_MODEL"))
        modes["grounded"] = GroundedAnswerer(searcher, backend)

    report = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "dense_coverage": dict(zip(("covered", "total"), searcher.index.dense_coverage())), "modes": {}}
    for name, answerer in modes.items():
        rows = []
        for item in items:
            reference_citations = {(c.law, c.article_number) for c in verifier.parser.parse(item["answer"]) if c.law}
            start = time.perf_counter()
            result = answerer.answer(item["question"]).to_dict()
            seconds = time.perf_counter() - start
            source_keys = {(hit["law"], hit["article_number"]) for hit in result["sources"]}
            kept = [c for c in result["citations"] if c["action"] == "kept"]
            rows.append({
                "rouge_l": rouge_l(result["answer"], item["answer"]),
                "citations": len(kept),
                "valid_citations": sum(1 for c in kept if c["valid"]),
                "reference_in_sources": bool(reference_citations & source_keys),
                "seconds": seconds,
            })
        report["modes"][name] = summarize(rows)
    if backend is not None:
        rows = []
        for item in items:
            start = time.perf_counter()
            answer = backend.generate([{"role": "user", "content": item["question"]}])
            checks = verifier.check_text(answer)
            rows.append({"rouge_l": rouge_l(answer, item["answer"]), "citations": len(checks),
                         "valid_citations": sum(1 for check in checks if check.valid),
                         "reference_in_sources": False, "seconds": time.perf_counter() - start})
        report["modes"]["ungrounded"] = summarize(rows)
    else:
        report["note"] = "no LLM backend configured (TIANPING_LLM_BASE_URL); only the retrieval mode ran"

    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
