"""Benchmark of the fine-tuning engine on CPU.

1. Throughput (training samples per second) and peak resident memory of
   ``tianping.finetune`` against a plain ``transformers.Trainer`` script. Both use
   the same randomly initialised BERT-like model and the same synthetic legal
   data. Both use the same settings: AdamW, linear decay, batch 16, 128 tokens,
   one evaluation and one checkpoint at the last step. Each measurement runs in its own
   subprocess so peak memory is per run. The two are interleaved ``--repeats``
   times, in alternating order, and the report gives medians, the engine/plain
   ratio of the medians, and the geometric mean of the per-repeat ratios. Throughput is
   reported twice: the Trainer's samples per second over the whole ``train()``
   call, and the batch size over the median optimiser-step time.
2. Peak memory of LoRA against full fine-tuning in the engine, same model.
3. With ``--gemma``: Gemma-3-270m (the packaged GGUF) with LoRA as a
   single-label charge classifier, trained for ``--gemma-steps`` CPU steps on the
   first ``--gemma-train`` cases of CAIL2018 train.jsonl and scored on the first
   ``--gemma-valid`` cases of valid.jsonl with the CAIL score
   ((micro-F1 + macro-F1) / 2 × 100 over charges; the predicted set is the arg-max
   charge, and gold charges the classifier has no label for count as misses).

Usage:
    python benchmarks/finetune.py [--steps 30] [--repeats 2] [--gemma] [--data DIR]

``--data`` defaults to TIANPING_DATA or ../shared/data beside the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "tests"))

BATCH = 16
MAX_LENGTH = 128


def build_model(directory: Path, hidden: int, layers: int) -> Path:
    """Save a random BERT-like model with a WordPiece tokenizer trained on the synthetic corpus."""
    import torch
    import transformers
    from finetune_helpers import build_bert

    build_bert(directory)
    tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                                     num_attention_heads=4, intermediate_size=hidden * 4,
                                     max_position_embeddings=512, pad_token_id=0)
    transformers.BertModel(config).save_pretrained(directory)
    return directory


def write_data(directory: Path, count: int) -> tuple[Path, Path]:
    from finetune_helpers import make_cases, write_jsonl

    # Long facts: each case is repeated so batches are close to MAX_LENGTH tokens.
    cases = make_cases(count + 64, 3)
    for case in cases:
        case["text"] = (case["text"] * 4)[:MAX_LENGTH]
    return (write_jsonl(directory / "train.jsonl", cases[:count]),
            write_jsonl(directory / "valid.jsonl", cases[count:]))


# ---------------------------------------------------------------------- workers


def step_timer():
    """Return a Trainer callback that records the wall time of every optimiser step.

    The median step time is robust to bursts of load from other processes, which
    the Trainer's own samples per second (whole ``train()`` call) is not.
    """
    import transformers

    class StepTimer(transformers.TrainerCallback):
        durations: list[float] = []

        def on_step_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            StepTimer.durations.append(time.perf_counter() - self.started)

    return StepTimer()


def _step_result(timer, trainer_samples_per_second: float) -> dict:
    durations = sorted(type(timer).durations[1:])  # the first step includes warm-up
    median = durations[len(durations) // 2]
    return {"samples_per_second": trainer_samples_per_second,
            "median_step_samples_per_second": BATCH / median}


def worker_engine(arguments) -> dict:
    from tianping.finetune import engine, load_config

    config = load_config({
        "task": "classification",
        "output_dir": arguments.run_dir,
        "model": {"path": arguments.model, "max_length": MAX_LENGTH},
        "data": {"train": arguments.train, "valid": arguments.valid},
        "method": {"name": arguments.method},
        "training": {"max_steps": arguments.steps, "batch_size": BATCH, "eval_batch_size": 32,
                     "learning_rate": 5e-4, "eval_steps": arguments.steps, "save_steps": arguments.steps,
                     "logging_steps": 10, "seed": 1, "mixed_precision": "no", "save_total_limit": 1},
    })
    timer = step_timer()
    build_trainer = engine.build_trainer

    def build_timed_trainer(*args, **kwargs):
        trainer = build_trainer(*args, **kwargs)
        trainer.add_callback(timer)
        return trainer

    engine.build_trainer = build_timed_trainer
    summary = engine.run(config, progress=False)
    return {**_step_result(timer, summary["train_samples_per_second"]),
            "trainable_parameters": summary["parameters"]["trainable_parameters"]}


def worker_plain(arguments) -> dict:
    """Train with a plain Trainer script: tokenise, pad per batch, softmax classifier, the same settings."""
    import json as json_module

    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(arguments.model, local_files_only=True)

    def read(path):
        return [json_module.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]

    train, valid = read(arguments.train), read(arguments.valid)
    labels = sorted({record["label"] for record in train})
    index = {label: i for i, label in enumerate(labels)}

    class Records(torch.utils.data.Dataset):
        def __init__(self, records):
            encoded = tokenizer([record["text"] for record in records], truncation=True, max_length=MAX_LENGTH)
            self.items = [{"input_ids": ids, "attention_mask": mask, "labels": index[record["label"]]}
                          for ids, mask, record in zip(encoded["input_ids"], encoded["attention_mask"], records)]

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            return self.items[i]

    transformers.set_seed(1)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        arguments.model, num_labels=len(labels), local_files_only=True)

    def accuracy(prediction):
        return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}

    args = transformers.TrainingArguments(
        output_dir=arguments.run_dir, max_steps=arguments.steps, per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=32, learning_rate=5e-4, weight_decay=0.01, lr_scheduler_type="linear",
        optim="adamw_torch", max_grad_norm=1.0, eval_strategy="steps", eval_steps=arguments.steps,
        save_strategy="steps", save_steps=arguments.steps, save_total_limit=1, logging_steps=10,
        load_best_model_at_end=True, metric_for_best_model="accuracy", report_to=[], seed=1, data_seed=1,
        use_cpu=not torch.cuda.is_available(), disable_tqdm=True, dataloader_num_workers=0)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Records(train), eval_dataset=Records(valid),
                                   data_collator=transformers.DataCollatorWithPadding(tokenizer),
                                   compute_metrics=accuracy)
    timer = step_timer()
    trainer.add_callback(timer)
    result = trainer.train()
    return _step_result(timer, result.metrics["train_samples_per_second"])


def run_worker(kind: str, model: Path, train: Path, valid: Path, steps: int, method: str = "full") -> dict:
    """Run one measurement in a subprocess; return its result with the subprocess's peak RSS in MiB."""
    with tempfile.TemporaryDirectory(prefix="tianping-bench-") as run_dir:
        command = [sys.executable, __file__, "--worker", kind, "--model", str(model), "--train", str(train),
                   "--valid", str(valid), "--steps", str(steps), "--method", method, "--run-dir",
                   str(Path(run_dir) / "run")]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        output, errors = process.stdout.read(), process.stderr.read()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"{kind} worker failed:\n{errors[-3000:]}")
        result = json.loads(output.strip().splitlines()[-1])
        # ru_maxrss is in KiB on Linux.
        result["peak_rss_mib"] = usage.ru_maxrss / 1024
        return result


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(value) for value in values) / len(values))


def compare(work: Path, steps: int, repeats: int, hidden: int, layers: int) -> dict:
    model = build_model(work / "model", hidden, layers)
    train, valid = write_data(work, 640)
    runs = {"plain": [], "engine": []}
    for repeat in range(repeats):
        # The order alternates, so neither side always runs first in a pair.
        order = ("plain", "engine") if repeat % 2 == 0 else ("engine", "plain")
        for kind in order:
            runs[kind].append(run_worker(kind, model, train, valid, steps))
    lora = [run_worker("engine", model, train, valid, steps, "lora") for _ in range(repeats)]
    summary = {}
    for kind, results in (("plain_trainer", runs["plain"]), ("engine_full", runs["engine"]), ("engine_lora", lora)):
        summary[kind] = {"samples_per_second": _median([r["samples_per_second"] for r in results]),
                         "median_step_samples_per_second": _median([r["median_step_samples_per_second"]
                                                                    for r in results]),
                         "peak_rss_mib": _median([r["peak_rss_mib"] for r in results]),
                         "runs": results}
    summary["throughput_ratio_engine_over_plain"] = (summary["engine_full"]["samples_per_second"]
                                                     / summary["plain_trainer"]["samples_per_second"])
    summary["step_throughput_ratio_engine_over_plain"] = (summary["engine_full"]["median_step_samples_per_second"]
                                                          / summary["plain_trainer"]["median_step_samples_per_second"])
    # Each repeat pairs one engine run with the plain run next to it. The geometric mean of
    # the pair ratios cancels the drift of the machine's speed across repeats.
    summary["paired_throughput_ratio_engine_over_plain"] = _geometric_mean(
        [engine["samples_per_second"] / plain["samples_per_second"]
         for engine, plain in zip(runs["engine"], runs["plain"])])
    summary["memory_ratio_engine_over_plain"] = (summary["engine_full"]["peak_rss_mib"]
                                                 / summary["plain_trainer"]["peak_rss_mib"])
    summary["memory_ratio_lora_over_full"] = (summary["engine_lora"]["peak_rss_mib"]
                                              / summary["engine_full"]["peak_rss_mib"])
    summary["model"] = {"hidden": hidden, "layers": layers, "batch": BATCH, "max_length": MAX_LENGTH,
                        "steps": steps, "train_cases": 640}
    return summary


def gemma_cail(work: Path, data_dir: Path, steps: int, train_count: int, valid_count: int) -> dict:
    """LoRA on Gemma-3-270m as a charge classifier; return the CAIL score on a slice of valid.jsonl."""
    from tianping.datasets import load_cail
    from tianping.finetune import engine, load_config
    from tianping.finetune.inference import FinetunedModel
    from tianping.prediction.metrics import multilabel_scores

    train_cases = load_cail(data_dir / "cail2018" / "train.jsonl").cases[:train_count]
    valid_cases = load_cail(data_dir / "cail2018" / "valid.jsonl").cases[:valid_count]
    train_path = work / "cail_train.jsonl"
    valid_path = work / "cail_valid.jsonl"
    labels = sorted({case.charges[0] for case in train_cases})
    train_path.write_text("".join(json.dumps({"text": case.fact, "label": case.charges[0]}, ensure_ascii=False) + "\n"
                                  for case in train_cases), encoding="utf-8")
    # A validation case whose first charge is not a training label cannot be encoded as a
    # target, so the engine validates on the others. The CAIL score below uses all cases.
    known = [case for case in valid_cases if case.charges[0] in labels]
    valid_path.write_text("".join(json.dumps({"text": case.fact, "label": case.charges[0]}, ensure_ascii=False) + "\n"
                                  for case in known), encoding="utf-8")
    config = load_config({
        "task": "classification", "output_dir": str(work / "gemma-run"),
        "model": {"path": "gemma3-270m", "max_length": 256},
        "data": {"train": str(train_path), "valid": str(valid_path), "labels": labels},
        "method": {"name": "lora", "lora": {"r": 8, "alpha": 16}},
        "training": {"max_steps": steps, "batch_size": 4, "eval_batch_size": 8, "learning_rate": 5e-4,
                     "eval_steps": steps, "save_steps": steps, "logging_steps": 5, "seed": 1,
                     "warmup_ratio": 0.1, "mixed_precision": "no"},
    })
    started = time.perf_counter()
    summary = engine.run(config, progress=False)
    train_seconds = time.perf_counter() - started
    model = FinetunedModel.load(config.output_dir)
    started = time.perf_counter()
    predictions = model.predict([case.fact for case in valid_cases])
    predict_seconds = time.perf_counter() - started
    scores = multilabel_scores([case.charges for case in valid_cases], [[p["label"]] for p in predictions])
    return {"steps": steps, "train_cases": len(train_cases), "valid_cases": len(valid_cases),
            "labels": len(labels), "run_seconds_including_load": round(train_seconds, 1),
            "train_samples_per_second": summary["train_samples_per_second"],
            "predict_seconds": round(predict_seconds, 1), "cail_score": scores["cail_score"],
            "micro_f1": scores["micro_f1"], "macro_f1": scores["macro_f1"],
            "trainable_parameters": summary["parameters"]["trainable_parameters"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--gemma", action="store_true", help="also run the Gemma-3-270m CAIL measurement")
    parser.add_argument("--gemma-only", action="store_true", help="run only the Gemma-3-270m CAIL measurement")
    parser.add_argument("--gemma-steps", type=int, default=40)
    parser.add_argument("--gemma-train", type=int, default=400)
    parser.add_argument("--gemma-valid", type=int, default=100)
    parser.add_argument("--data", default=os.environ.get("TIANPING_DATA", str(REPOSITORY.parent / "shared" / "data")))
    # Internal: one measurement in a subprocess.
    parser.add_argument("--worker", choices=["engine", "plain"])
    parser.add_argument("--model")
    parser.add_argument("--train")
    parser.add_argument("--valid")
    parser.add_argument("--method", default="full")
    parser.add_argument("--run-dir")
    arguments = parser.parse_args()

    if arguments.worker:
        import transformers

        transformers.logging.set_verbosity_error()
        result = worker_engine(arguments) if arguments.worker == "engine" else worker_plain(arguments)
        print(json.dumps(result))
        return

    import torch

    report = {"command": " ".join(["python", "benchmarks/finetune.py", *sys.argv[1:]]),
              "machine": f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, "
                         f"{'CUDA' if torch.cuda.is_available() else 'no GPU'}",
              "torch": torch.__version__, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with tempfile.TemporaryDirectory(prefix="tianping-bench-") as work:
        work = Path(work)
        if not arguments.gemma_only:
            report["engine_vs_plain"] = compare(work, arguments.steps, arguments.repeats, arguments.hidden,
                                                arguments.layers)
        if arguments.gemma or arguments.gemma_only:
            data_dir = Path(arguments.data)
            if not (data_dir / "cail2018" / "valid.jsonl").is_file():
                report["gemma"] = f"skipped: {data_dir}/cail2018/valid.jsonl not found"
            else:
                report["gemma"] = gemma_cail(work, data_dir, arguments.gemma_steps, arguments.gemma_train,
                                             arguments.gemma_valid)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
