"""Export of a finished run: merged LoRA weights, dynamic int8 quantisation and ONNX.

Every export compares the exported model with the model it came from on sample
inputs and reports the largest difference. The merge writes nothing when that
difference exceeds the tolerance.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from tianping.errors import InvalidInputError, TianpingError, require
from tianping.finetune.data import parse_examples, read_records
from tianping.finetune.inference import LABELS_NAME, FinetunedModel

EXPORT_DIR = "export"

# Merged and unmerged float32 outputs may differ by rounding only: the merge adds
# B·A·scale to W once instead of computing x·A then ·B on every call.
MERGE_ATOL = 1e-4
MERGE_RTOL = 1e-4

# Texts used when the run has no readable validation file.
FALLBACK_TEXTS = [
    "被告人趁无人之机窃取被害人手机一部，经鉴定价值人民币三千元。",
    "被告人醉酒驾驶机动车在道路上行驶，被公安机关查获。",
    "被告人虚构投资项目骗取被害人钱款五万元，归案后如实供述。",
    "当事人一方不履行合同义务，应当承担继续履行、采取补救措施或者赔偿损失等违约责任。",
]


class ExportError(TianpingError):
    """An export was refused because its check failed, or the exporter is unavailable."""

    code = "export_failed"
    exit_code = 7


def sample_texts(model: FinetunedModel, limit: int = 8) -> tuple[list[str], list]:
    """Return validation texts (SFT: prompts) and their targets, or built-in texts without targets."""
    source = model.config.data.valid
    if source and Path(source).is_file():
        examples = parse_examples(read_records(source)[:limit], model.config, source)
        return examples.texts, examples.answers if model.space.task == "sft" else examples.targets
    return FALLBACK_TEXTS[:limit], []


def _outputs(model: FinetunedModel, texts: list[str]) -> np.ndarray:
    """Return classification logits, or for SFT the last-position next-token logits of each prompt."""
    torch = require("torch", "finetune")
    if model.space.task != "sft":
        return model.logits(texts)
    rows = []
    with torch.no_grad():
        for text in texts:
            encoded = model.tokenizer(text, return_tensors="pt", truncation=True, max_length=model.config.model.max_length)
            rows.append(model.model(**encoded).logits[0, -1].float().numpy())
    return np.stack(rows)


def _export_dir(run_dir: Path, name: str, overwrite: bool) -> Path:
    target = run_dir / EXPORT_DIR / name
    if target.exists():
        if not overwrite:
            raise InvalidInputError(f"导出目录已存在：{target}", hint="加 --overwrite 覆盖，或先删除该目录")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    return target


def merge_checked(model: FinetunedModel, texts: list[str], atol: float = MERGE_ATOL, rtol: float = MERGE_RTOL):
    """Merge the adapter into the base weights and return (merged model, report).

    Raises ``ExportError`` when any output differs by more than ``atol + rtol * max|unmerged|``.
    """
    if not model.is_adapter:
        raise InvalidInputError(f"运行使用 {model.config.method.name} 方法，没有可合并的适配器",
                                hint="--merge 只适用于 lora、adalora 和 ia3")
    if model.config.method.name in ("prefix", "prompt"):
        raise InvalidInputError(f"{model.config.method.name} tuning 的虚拟标记无法合并进权重",
                                hint="请直接部署适配器，或改用 lora 训练")
    before = _outputs(model, texts)
    merged_model = model.model.merge_and_unload()
    merged = FinetunedModel(merged_model, model.tokenizer, model.space, model.config)
    after = _outputs(merged, texts)
    difference = float(np.max(np.abs(after - before)))
    tolerance = atol + rtol * float(np.max(np.abs(before)))
    report = {"samples": len(texts), "max_abs_difference": difference, "tolerance": tolerance,
              "atol": atol, "rtol": rtol, "passed": difference <= tolerance}
    if not report["passed"]:
        raise ExportError(f"合并后的模型输出与未合并的适配器不一致：最大差 {difference:.3g}，超过容差 {tolerance:.3g}",
                          hint="未写出合并模型；请检查基座模型是否与训练时相同（例如量化或 dtype 不同）")
    return merged, report


def export_merged(run_dir: str | Path, overwrite: bool = False, atol: float = MERGE_ATOL,
                  rtol: float = MERGE_RTOL) -> dict:
    """Write the LoRA-merged model to ``run_dir/export/merged`` after the output check passes."""
    run_dir = Path(run_dir)
    model = FinetunedModel.load(run_dir)
    texts, _ = sample_texts(model)
    merged, report = merge_checked(model, texts, atol, rtol)
    target = _export_dir(run_dir, "merged", overwrite)
    merged.model.save_pretrained(str(target))
    merged.tokenizer.save_pretrained(str(target))
    (target / LABELS_NAME).write_text(json.dumps(model.space.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    report["path"] = str(target)
    (target / "merge_report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report


def _plain(model: FinetunedModel, texts: list[str]) -> FinetunedModel:
    """Return a model without adapter wrappers, merged with the output check when needed."""
    if model.is_adapter and model.config.method.name not in ("prefix", "prompt"):
        merged, _ = merge_checked(model, texts)
        return merged
    if model.is_adapter:
        raise InvalidInputError(f"{model.config.method.name} tuning 的模型无法导出为单一权重",
                                hint="int8 与 ONNX 导出需要 full、freeze、lora、adalora 或 ia3 方法")
    return model


def _quality(model: FinetunedModel, texts: list[str], targets: list) -> dict:
    """Return the task metric on sample texts with targets: accuracy, micro-F1, MAE or answer loss."""
    if not targets:
        return {}
    task = model.space.task
    if task == "sft":
        return {"answer_loss": model.sft_loss(list(zip(texts, targets)))}
    predictions = model.predict(texts)
    if task == "classification":
        return {"accuracy": float(np.mean([p["label"] == t for p, t in zip(predictions, targets)]))}
    if task == "multilabel":
        from tianping.finetune.trainer import multilabel_metrics

        labels = model.space.labels
        predicted = np.array([[label in p["labels"] for label in labels] for p in predictions])
        gold = np.array([[label in t for label in labels] for t in targets])
        return {"micro_f1": multilabel_metrics(predicted, gold)["micro_f1"]}
    return {"mae": float(np.mean([abs(p["value"] - t) for p, t in zip(predictions, targets)]))}


def _latency_ms(model: FinetunedModel, texts: list[str], repeats: int = 3) -> float:
    """Return the median time in milliseconds to run the model once per text, batch size 1."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            _outputs(model, [text])
        timings.append((time.perf_counter() - started) * 1000 / len(texts))
    return float(np.median(timings))


def export_int8(run_dir: str | Path, overwrite: bool = False, samples: int = 32) -> dict:
    """Quantise the Linear layers to int8 (dynamic) and report the quality and speed change."""
    torch = require("torch", "finetune")
    run_dir = Path(run_dir)
    model = FinetunedModel.load(run_dir)
    texts, targets = sample_texts(model, samples)
    plain = _plain(model, texts)
    quantized_module = torch.ao.quantization.quantize_dynamic(plain.model, {torch.nn.Linear}, dtype=torch.qint8)
    # quantize_dynamic returns a quantised copy (inplace=False), so ``plain`` stays float32.
    quantized = FinetunedModel(quantized_module, plain.tokenizer, plain.space, plain.config)
    reference = plain
    before, after = _outputs(reference, texts), _outputs(quantized, texts)
    report = {
        "samples": len(texts),
        "max_abs_output_difference": float(np.max(np.abs(after - before))),
        "float32": {**_quality(reference, texts, targets), "latency_ms": _latency_ms(reference, texts)},
        "int8": {**_quality(quantized, texts, targets), "latency_ms": _latency_ms(quantized, texts)},
        "quality_from": "validation file" if targets else "built-in texts (no targets, no quality metric)",
    }
    report["speedup"] = report["float32"]["latency_ms"] / max(report["int8"]["latency_ms"], 1e-9)
    target = _export_dir(run_dir, "int8", overwrite)
    torch.save(quantized_module.state_dict(), target / "model_int8.pt")
    plain.model.config.save_pretrained(str(target))
    plain.tokenizer.save_pretrained(str(target))
    (target / LABELS_NAME).write_text(json.dumps(model.space.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    report["path"] = str(target)
    (target / "int8_report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report


def _logits_module(model):
    """Return a module that maps (input_ids, attention_mask) to logits, the graph that ONNX exports."""
    torch = require("torch", "finetune")

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    return LogitsOnly(model)


def export_onnx(run_dir: str | Path, overwrite: bool = False, samples: int = 16) -> dict:
    """Export to ONNX with the TorchScript exporter and check onnxruntime's outputs against PyTorch."""
    torch = require("torch", "finetune")
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ExportError("ONNX 导出需要 onnx 包", hint="请运行 pip install onnx") from None
    run_dir = Path(run_dir)
    model = FinetunedModel.load(run_dir)
    texts, _ = sample_texts(model, samples)
    plain = _plain(model, texts)
    target = _export_dir(run_dir, "onnx", overwrite)
    path = target / "model.onnx"
    example = plain.tokenizer(texts[:2], return_tensors="pt", padding=True, truncation=True,
                              max_length=plain.config.model.max_length)
    wrapper = _logits_module(plain.model).eval()
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
            "logits": {0: "batch"} if plain.space.task != "sft" else {0: "batch", 1: "sequence"}}
    try:
        with torch.no_grad():
            torch.onnx.export(wrapper, (example["input_ids"], example["attention_mask"]), str(path),
                              input_names=["input_ids", "attention_mask"], output_names=["logits"],
                              dynamic_axes=axes, dynamo=False, opset_version=17)
    except Exception as exc:  # the exporters raise many unrelated types for unsupported operators
        shutil.rmtree(target, ignore_errors=True)
        raise ExportError(f"ONNX 导出失败：{type(exc).__name__}: {str(exc)[:300]}",
                          hint="该模型结构可能含有导出器不支持的算子；可改用 --int8 导出") from None
    report = {"path": str(path), "samples": len(texts), "size_bytes": path.stat().st_size}
    try:
        import onnxruntime
    except ImportError:
        report["check"] = "skipped: onnxruntime is not installed"
    else:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        differences, onnx_times, torch_times = [], [], []
        for text in texts:
            encoded = plain.tokenizer([text], return_tensors="pt", truncation=True,
                                      max_length=plain.config.model.max_length)
            started = time.perf_counter()
            with torch.no_grad():
                expected = wrapper(encoded["input_ids"], encoded["attention_mask"]).float().numpy()
            torch_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            (actual,) = session.run(["logits"], {"input_ids": encoded["input_ids"].numpy(),
                                                 "attention_mask": encoded["attention_mask"].numpy()})
            onnx_times.append(time.perf_counter() - started)
            differences.append(float(np.max(np.abs(actual - expected))))
        report.update({"max_abs_difference": max(differences),
                       "pytorch_latency_ms": 1000 * float(np.median(torch_times)),
                       "onnxruntime_latency_ms": 1000 * float(np.median(onnx_times))})
        report["speedup"] = report["pytorch_latency_ms"] / max(report["onnxruntime_latency_ms"], 1e-9)
    plain.tokenizer.save_pretrained(str(target))
    (target / LABELS_NAME).write_text(json.dumps(model.space.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    (target / "onnx_report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report
