"""Benchmark judgment prediction on CAIL2018 and LawBench tasks 3-1, 3-3 and 3-4.

Trains each model on cail2018/train.jsonl (calibration and thresholds out of
fold, so valid.jsonl stays unseen), evaluates on cail2018/valid.jsonl and on the
LawBench zero-shot items, and prints the scores beside GPT-4 zero-shot.

    python benchmarks/prediction.py [--models tfidf,grounded,embed] [--json FILE]

With --curve, it instead trains each model on growing random shares of the
training file (each share contains the smaller ones) and prints the CAIL
scores on valid.jsonl against the number of training cases, a learning curve;
--plot FILE also draws it as a PNG.

    python benchmarks/prediction.py --models tfidf,grounded --curve 0.25,0.5,0.75,1 --plot curve.png

The data folder is TIANPING_DATA, by default ../shared/data beside the repository.
Each model runs in its own process, so the peak memory reported is that model's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
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

# Seed of the order in which the learning curve adds training cases.
CURVE_SEED = 0


def data_dir() -> Path:
    return Path(os.environ.get("TIANPING_DATA", REPOSITORY.parent / "shared" / "data")).resolve()


def run_model(kind: str, data: str, queue) -> None:
    """Train, evaluate and time one model; put its results on ``queue``."""
    sys.path.insert(0, str(REPOSITORY))
    from tianping.datasets import load_lawbench, normalize_charge
    from tianping.prediction import lawbench
    from tianping.prediction.evaluate import evaluate
    from tianping.prediction.metrics import bootstrap_interval

    root = Path(data)
    train, valid, extra = load_data(kind, root)
    model, training_seconds = train_model(kind, train, extra)

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


def load_data(kind: str, root: Path) -> tuple[list, list, list[str]]:
    """Return the training cases, the validation cases and the extra charge names that ``kind`` gets."""
    from tianping.datasets import load_cail, load_label_file

    train = load_cail(root / "cail2018" / "train.jsonl").cases
    valid = load_cail(root / "cail2018" / "valid.jsonl").cases
    extra = load_label_file(root / "cail2018" / "accu.txt") if kind == "grounded" else []
    return train, valid, extra


def train_model(kind: str, train: list, extra: list[str]):
    """Train a model of ``kind`` with out-of-fold calibration; return it and the seconds it took."""
    from tianping.prediction import create_model

    started = time.perf_counter()
    model = create_model(kind)
    model.fit(train, None, extra_charges=extra)
    return model, time.perf_counter() - started


def run_curve(kind: str, data: str, shares: list[float], queue) -> None:
    """Train on growing shares of the training cases; put the CAIL scores of each on ``queue``."""
    sys.path.insert(0, str(REPOSITORY))
    from tianping.prediction.evaluate import evaluate

    train, valid, extra = load_data(kind, Path(data))
    order = list(range(len(train)))
    random.Random(CURVE_SEED).shuffle(order)
    points = []
    for share in shares:
        subset = [train[index] for index in sorted(order[:max(1, round(share * len(train)))])]
        model, seconds = train_model(kind, subset, extra)
        report = evaluate(model, valid)
        points.append({"share": share, "cases": len(subset), "charges": report["charges"]["cail_score"],
                       "articles": report["articles"]["cail_score"], "term": report["term"]["term_score"],
                       "training_seconds": round(seconds, 1)})
        print(f"{kind}: {len(subset)} training cases done in {seconds:.0f} s", file=sys.stderr)
    queue.put({"model": kind, "curve": points})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tfidf,grounded", help="comma-separated: tfidf, grounded, embed")
    parser.add_argument("--json", dest="json_path", help="also write the results to this JSON file")
    parser.add_argument("--curve", help="comma-separated shares of the training file (0.25,0.5,1): "
                                        "print a learning curve instead of the full benchmark")
    parser.add_argument("--plot", help="with --curve, also draw the learning curve to this PNG file")
    args = parser.parse_args()
    data = data_dir()
    if not (data / "cail2018" / "train.jsonl").is_file():
        print(f"data not found under {data}; set TIANPING_DATA", file=sys.stderr)
        return 2
    shares = None
    if args.curve:
        try:
            shares = sorted(float(value) for value in args.curve.split(",") if value.strip())
        except ValueError:
            shares = []
        if not shares or not all(0 < share <= 1 for share in shares):
            print(f"invalid --curve {args.curve!r}: give shares above 0 and at most 1, such as 0.25,0.5,1",
                  file=sys.stderr)
            return 2

    results = []
    context = multiprocessing.get_context("spawn")
    for kind in [name.strip() for name in args.models.split(",") if name.strip()]:
        queue = context.Queue()
        if shares:
            process = context.Process(target=run_curve, args=(kind, str(data), shares, queue))
        else:
            process = context.Process(target=run_model, args=(kind, str(data), queue))
        process.start()
        result = queue.get()
        process.join()
        results.append(result)
        if not shares:
            print(f"{kind}: done in {result['training_seconds']} s of training", file=sys.stderr)

    if shares:
        print_curve(results)
        if args.plot:
            plot_curve(results, Path(args.plot))
    else:
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


def print_curve(results: list[dict]) -> None:
    print(f"{'model':<10}{'cases':>7}{'charges':>9}{'articles':>9}{'term':>8}{'training (s)':>14}")
    for result in results:
        for point in result["curve"]:
            print(f"{result['model']:<10}{point['cases']:>7}{point['charges']:>9.2f}{point['articles']:>9.2f}"
                  f"{point['term']:>8.2f}{point['training_seconds']:>14.1f}")


def plot_curve(results: list[dict], path: Path) -> None:
    """Draw the CAIL scores against the number of training cases, one panel per score, targets dashed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, 3, figsize=(12, 3.8), sharey=True)
    for axis, (name, title) in zip(axes, (("charges", "charge score"), ("articles", "article score"),
                                          ("term", "term score"))):
        for result in results:
            cases = [point["cases"] for point in result["curve"]]
            axis.plot(cases, [point[name] for point in result["curve"]], marker="o", label=result["model"])
        axis.axhline(TARGETS[name], color="grey", linestyle="--", linewidth=1, label="target")
        axis.set_title(f"CAIL {title}")
        axis.set_xlabel("training cases")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("score on valid.jsonl (506 cases)")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"learning curve written to {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
