"""Benchmark judgment prediction on CAIL2018 and LawBench tasks 3-1, 3-3 and 3-4.

Trains each model on cail2018/train.jsonl (calibration and thresholds out of
fold, so valid.jsonl stays unseen), evaluates on cail2018/valid.jsonl and on the
LawBench zero-shot items, and prints the scores beside GPT-4 zero-shot.

    python benchmarks/prediction.py [--models tfidf,grounded,embed] [--json FILE]

The data folder is TIANPING_DATA, by default ../shared/data beside the repository.
Each model runs in its own process, so the peak memory reported is that model's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent

# GPT-4 zero-shot scores from the LawBench README (open-compass/LawBench), measured on
# the full task sets; the items here are the first 50 of each task.
GPT4_ZERO_SHOT = {"3-1": 52.47, "3-3": 41.99, "3-4": 82.62}

# Resamples of the evaluated cases for the 95% bootstrap intervals of the scores.
BOOTSTRAP_RESAMPLES = 1000

TARGETS = {"charges": 75.0, "articles": 72.0, "term": 65.0, "3-3": 50.0, "3-1": 60.0}


def data_dir() -> Path:
    return Path(os.environ.get("TIANPING_DATA", REPOSITORY.parent / "shared" / "data")).resolve()


def run_model(kind: str, data: str, queue) -> None:
    """Train, evaluate and time one model; put its results on ``queue``."""
    sys.path.insert(0, str(REPOSITORY))
    from tianping.datasets import load_cail, load_label_file, load_lawbench, normalize_charge
    from tianping.prediction import create_model
    from tianping.prediction import lawbench
    from tianping.prediction.evaluate import evaluate
    from tianping.prediction.metrics import bootstrap_interval

    root = Path(data)
    train = load_cail(root / "cail2018" / "train.jsonl").cases
    valid = load_cail(root / "cail2018" / "valid.jsonl").cases
    extra = load_label_file(root / "cail2018" / "accu.txt") if kind == "grounded" else []

    started = time.perf_counter()
    model = create_model(kind)
    model.fit(train, None, extra_charges=extra)
    training_seconds = time.perf_counter() - started

    report = evaluate(model, valid, bootstrap=BOOTSTRAP_RESAMPLES)
    items = {task: load_lawbench(root / "lawbench" / "zero_shot" / f"{task}.json") for task in ("3-1", "3-3", "3-4")}
    charges = model.predict([item.fact for item in items["3-3"]], article_texts=False, evidence=0)
    articles = model.predict([item.fact for item in items["3-1"]], charges=[item.given_charges for item in items["3-1"]],
                             article_texts=False, evidence=0)
    terms = model.predict([item.fact for item in items["3-4"]], article_texts=False, evidence=0)
    charge_gold = [item.answer for item in items["3-3"]]
    charge_answers = [lawbench.format_answer("3-3", charges=[normalize_charge(c["name"]) for c in p.charges])
                      for p in charges]
    scores = {
        "3-3": lawbench.score_charges(charge_gold, charge_answers),
        "3-1": lawbench.score_articles(
            [item.answer for item in items["3-1"]],
            [lawbench.format_answer("3-1", articles=[a["article_number"] for a in p.articles]) for p in articles]),
        "3-4": lawbench.score_terms(
            [item.answer for item in items["3-4"]],
            [lawbench.format_answer("3-4", months=None if p.term.death_penalty or p.term.life_imprisonment
                                    else p.term.months) for p in terms]),
    }

    def charge_score(gold, predicted):
        return lawbench.score_charges(gold, predicted)["score"]

    charge_interval = bootstrap_interval(charge_score, charge_gold, charge_answers, resamples=BOOTSTRAP_RESAMPLES)
    queue.put({
        "model": kind,
        "cail": {"charges": report["charges"]["cail_score"], "charges_micro_f1": report["charges"]["micro_f1"],
                 "charges_macro_f1": report["charges"]["macro_f1"], "articles": report["articles"]["cail_score"],
                 "articles_micro_f1": report["articles"]["micro_f1"],
                 "articles_macro_f1": report["articles"]["macro_f1"], "term": report["term"]["term_score"],
                 "term_mae_months": report["term"]["mae_months"], "abstained": report["abstained"]},
        "confidence": report["confidence"],
        "lawbench": {task: result["score"] for task, result in scores.items()},
        "intervals": {**report["intervals"], "3-3": [round(value, 2) for value in charge_interval]},
        "training_seconds": round(training_seconds, 1),
        "cases_per_second": report["cases_per_second"],
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tfidf,grounded", help="comma-separated: tfidf, grounded, embed")
    parser.add_argument("--json", dest="json_path", help="also write the results to this JSON file")
    args = parser.parse_args()
    data = data_dir()
    if not (data / "cail2018" / "train.jsonl").is_file():
        print(f"data not found under {data}; set TIANPING_DATA", file=sys.stderr)
        return 2

    results = []
    context = multiprocessing.get_context("spawn")
    for kind in [name.strip() for name in args.models.split(",") if name.strip()]:
        queue = context.Queue()
        process = context.Process(target=run_model, args=(kind, str(data), queue))
        process.start()
        result = queue.get()
        process.join()
        results.append(result)
        print(f"{kind}: done in {result['training_seconds']} s of training", file=sys.stderr)

    print_table(results)
    print_intervals(results)
    print_confidence(results)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({
            "date": time.strftime("%Y-%m-%d"), "machine": machine(), "results": results}, indent=1),
            encoding="utf-8")
    return 0


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def print_table(results: list[dict]) -> None:
    names = [result["model"] for result in results]
    rows = [
        ("CAIL charges score", [r["cail"]["charges"] for r in results], None, TARGETS["charges"]),
        ("CAIL articles score", [r["cail"]["articles"] for r in results], None, TARGETS["articles"]),
        ("CAIL term score", [r["cail"]["term"] for r in results], None, TARGETS["term"]),
        ("term MAE (months)", [r["cail"]["term_mae_months"] for r in results], None, None),
        ("LawBench 3-1 F1", [r["lawbench"]["3-1"] for r in results], GPT4_ZERO_SHOT["3-1"], TARGETS["3-1"]),
        ("LawBench 3-3 F1", [r["lawbench"]["3-3"] for r in results], GPT4_ZERO_SHOT["3-3"], TARGETS["3-3"]),
        ("LawBench 3-4 score", [r["lawbench"]["3-4"] for r in results], GPT4_ZERO_SHOT["3-4"], None),
        ("training (s)", [r["training_seconds"] for r in results], None, None),
        ("prediction (cases/s)", [r["cases_per_second"] for r in results], None, None),
        ("peak memory (MiB)", [r["peak_memory_mib"] for r in results], None, None),
    ]
    header = f"{'metric':<22}" + "".join(f"{name:>12}" for name in names) + f"{'GPT-4 0-shot':>14}{'target':>9}"
    print(header)
    for label, values, gpt4, target in rows:
        cells = "".join(f"{value:>12.2f}" if value is not None else f"{'-':>12}" for value in values)
        print(f"{label:<22}{cells}{(f'{gpt4:.2f}' if gpt4 else '-'):>14}{(f'{target:.0f}' if target else '-'):>9}")


def print_intervals(results: list[dict]) -> None:
    print(f"\n95% bootstrap intervals ({BOOTSTRAP_RESAMPLES} resamples of the evaluated cases)")
    for name, label in (("charges", "CAIL charges score"), ("articles", "CAIL articles score"),
                        ("term", "CAIL term score"), ("3-3", "LawBench 3-3 F1")):
        spans = [f"{r['intervals'][name][0]:.1f}-{r['intervals'][name][1]:.1f}" for r in results]
        cells = "".join(f"{span:>12}" for span in spans)
        print(f"{label:<22}{cells}")


def print_confidence(results: list[dict]) -> None:
    """Print, per model, how often the top charge is right at each level of stated confidence."""
    for result in results:
        table = result["confidence"]
        print(f"\n{result['model']}: confidence against top charge correct on CAIL2018 valid "
              f"(overall {table['correct']:.1%} correct, mean confidence {table['mean_confidence']:.2f}, "
              f"ECE {table['ece']:.3f})")
        for entry in table["bins"]:
            low, high = entry["range"]
            correct = f"{entry['correct']:.0%}" if entry["cases"] else "-"
            mean = f"{entry['mean_confidence']:.2f}" if entry["cases"] else "-"
            print(f"  {low:.1f}-{high:.1f}{entry['cases']:>8} cases{correct:>8} correct   mean {mean}")


if __name__ == "__main__":
    sys.exit(main())
