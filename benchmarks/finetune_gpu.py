"""GPU benchmark of the fine-tuning engine against a plain ``transformers.Trainer`` script.

Needs torch with CUDA, transformers (with accelerate, which its Trainer
requires), peft, and this repository on the Python path; nothing is downloaded.
The model is built from a configuration with random weights: a Gemma-3-style
decoder (hidden 768, 12 layers, 32,000-token vocabulary, about 100M parameters)
trained as a sequence classifier on random word sequences of 256 tokens.
Both sides use bf16 mixed precision (fp16 where bf16 is unsupported), AdamW,
linear decay, batch 32, and one evaluation and one checkpoint at the last step.
Each measurement runs in its own subprocess so that peak GPU memory
(``torch.cuda.max_memory_allocated``) is per run. The engine and the plain
script alternate ``--repeats`` times and the report gives medians. It also
compares LoRA against full fine-tuning in the engine.

Usage (about 3 to 6 minutes on one recent data-centre GPU with the defaults):
    python benchmarks/finetune_gpu.py [--steps 150] [--repeats 2] > gpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

VOCABULARY = 32_000
SEQUENCE = 256
BATCH = 32
LABELS = 8


def build(directory: Path, train_count: int, valid_count: int) -> tuple[Path, Path, Path]:
    """Write a word-level tokenizer, a random Gemma-3-style model and random labelled texts."""
    import torch
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = {"<pad>": 0, "<unk>": 1, "<bos>": 2, "<eos>": 3}
    words.update({f"w{i}": i + 4 for i in range(VOCABULARY - 4)})
    tokenizer = Tokenizer(models.WordLevel(vocab=words, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>",
                                                bos_token="<bos>", eos_token="<eos>")
    model_dir = directory / "model"
    fast.save_pretrained(model_dir)
    torch.manual_seed(0)
    config = transformers.Gemma3TextConfig(vocab_size=VOCABULARY, hidden_size=768, intermediate_size=2048,
                                           num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=4,
                                           head_dim=64, max_position_embeddings=1024, sliding_window=512,
                                           pad_token_id=0, bos_token_id=2, eos_token_id=3)
    transformers.Gemma3ForCausalLM(config).save_pretrained(model_dir)

    rng = random.Random(0)

    def texts(count: int) -> list[dict]:
        rows = []
        for _ in range(count):
            label = rng.randrange(LABELS)
            # Each label owns a band of the vocabulary, so the task is learnable.
            band = [f"w{label * 1000 + rng.randrange(1000)}" for _ in range(SEQUENCE // 4)]
            noise = [f"w{rng.randrange(VOCABULARY - 4)}" for _ in range(SEQUENCE - len(band) - 2)]
            tokens = band + noise
            rng.shuffle(tokens)
            rows.append({"text": " ".join(tokens), "label": f"class{label}"})
        return rows

    paths = []
    for name, count in (("train.jsonl", train_count), ("valid.jsonl", valid_count)):
        path = directory / name
        path.write_text("".join(json.dumps(row) + "\n" for row in texts(count)), encoding="utf-8")
        paths.append(path)
    return model_dir, paths[0], paths[1]


def _precision() -> dict:
    import torch

    return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}


def worker_engine(arguments) -> dict:
    from tianping.finetune import engine, load_config

    precision = next(iter(_precision()), "no")
    config = load_config({
        "task": "classification", "output_dir": arguments.run_dir,
        "model": {"path": arguments.model, "max_length": SEQUENCE},
        "data": {"train": arguments.train, "valid": arguments.valid},
        "method": {"name": arguments.method},
        "training": {"max_steps": arguments.steps, "batch_size": BATCH, "eval_batch_size": 64,
                     "learning_rate": 2e-4, "eval_steps": arguments.steps, "save_steps": arguments.steps,
                     "logging_steps": 25, "seed": 1, "mixed_precision": precision, "save_total_limit": 1},
    })
    summary = engine.run(config, progress=False)
    return {"samples_per_second": summary["train_samples_per_second"],
            "accuracy": summary["final_metrics"].get("accuracy"),
            "trainable_parameters": summary["parameters"]["trainable_parameters"]}


def worker_plain(arguments) -> dict:
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(arguments.model, local_files_only=True)

    def read(path):
        return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]

    train, valid = read(arguments.train), read(arguments.valid)
    labels = sorted({row["label"] for row in train})
    index = {label: i for i, label in enumerate(labels)}

    class Rows(torch.utils.data.Dataset):
        def __init__(self, rows):
            encoded = tokenizer([row["text"] for row in rows], truncation=True, max_length=SEQUENCE)
            self.items = [{"input_ids": ids, "attention_mask": mask, "labels": index[row["label"]]}
                          for ids, mask, row in zip(encoded["input_ids"], encoded["attention_mask"], rows)]

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            return self.items[i]

    transformers.set_seed(1)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        arguments.model, num_labels=len(labels), local_files_only=True, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id

    def accuracy(prediction):
        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        return {"accuracy": float((logits.argmax(-1) == prediction.label_ids).mean())}

    args = transformers.TrainingArguments(
        output_dir=arguments.run_dir, max_steps=arguments.steps, per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=64, learning_rate=2e-4, weight_decay=0.01, lr_scheduler_type="linear",
        optim="adamw_torch", max_grad_norm=1.0, eval_strategy="steps", eval_steps=arguments.steps,
        save_strategy="steps", save_steps=arguments.steps, save_total_limit=1, logging_steps=25,
        load_best_model_at_end=True, metric_for_best_model="accuracy", report_to=[], seed=1, data_seed=1,
        disable_tqdm=True, **_precision())
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Rows(train), eval_dataset=Rows(valid),
                                   data_collator=transformers.DataCollatorWithPadding(tokenizer),
                                   compute_metrics=accuracy)
    result = trainer.train()
    metrics = trainer.evaluate()
    return {"samples_per_second": result.metrics["train_samples_per_second"], "accuracy": metrics["eval_accuracy"]}


def run_worker(kind: str, paths: tuple[Path, Path, Path], steps: int, method: str = "full") -> dict:
    with tempfile.TemporaryDirectory(prefix="tianping-gpu-bench-") as run_dir:
        command = [sys.executable, __file__, "--worker", kind, "--model", str(paths[0]), "--train", str(paths[1]),
                   "--valid", str(paths[2]), "--steps", str(steps), "--method", method,
                   "--run-dir", str(Path(run_dir) / "run")]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{kind} ({method}) failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", choices=["engine", "plain"])
    parser.add_argument("--model")
    parser.add_argument("--train")
    parser.add_argument("--valid")
    parser.add_argument("--method", default="full")
    parser.add_argument("--run-dir")
    arguments = parser.parse_args()

    import torch

    if arguments.worker:
        import transformers

        transformers.logging.set_verbosity_error()
        torch.cuda.reset_peak_memory_stats()
        result = worker_engine(arguments) if arguments.worker == "engine" else worker_plain(arguments)
        result["peak_gpu_memory_mib"] = torch.cuda.max_memory_allocated() / 2 ** 20
        print(json.dumps(result))
        return

    if not torch.cuda.is_available():
        sys.exit("benchmarks/finetune_gpu.py needs a CUDA GPU; use benchmarks/finetune.py on CPU")
    report = {"command": " ".join(["python", "benchmarks/finetune_gpu.py", *sys.argv[1:]]),
              "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "precision": "bf16" if torch.cuda.is_bf16_supported() else "fp16",
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "settings": {"batch": BATCH, "sequence": SEQUENCE, "steps": arguments.steps}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tianping-gpu-bench-") as work:
        paths = build(Path(work), BATCH * arguments.steps, 512)
        results = {"plain_trainer": [], "engine_full": [], "engine_lora": []}
        for _ in range(arguments.repeats):
            results["plain_trainer"].append(run_worker("plain", paths, arguments.steps))
            results["engine_full"].append(run_worker("engine", paths, arguments.steps))
        results["engine_lora"].append(run_worker("engine", paths, arguments.steps, "lora"))
    for name, runs in results.items():
        report[name] = {"samples_per_second": _median([run["samples_per_second"] for run in runs]),
                        "peak_gpu_memory_mib": _median([run["peak_gpu_memory_mib"] for run in runs]), "runs": runs}
    report["throughput_ratio_engine_over_plain"] = (report["engine_full"]["samples_per_second"]
                                                    / report["plain_trainer"]["samples_per_second"])
    report["memory_ratio_lora_over_full"] = (report["engine_lora"]["peak_gpu_memory_mib"]
                                             / report["engine_full"]["peak_gpu_memory_mib"])
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
