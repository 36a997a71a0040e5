"""The fine-tuning engine on tiny random models built in the test: each task and method end to end."""

import json

import numpy as np
import pytest

from finetune_helpers import (
    base_config,
    build_bert,
    build_gemma3,
    build_gpt2,
    make_cases,
    make_instructions,
    write_jsonl,
)

torch = pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
transformers = pytest.importorskip("transformers", reason="needs the finetune extra: pip install 'tianping[finetune]'")
pytest.importorskip("peft", reason="needs the finetune extra: pip install 'tianping[finetune]'")

from tianping.finetune import engine, export, load_config  # noqa: E402
from tianping.finetune.inference import FinetunedModel  # noqa: E402

# Few steps keep each run to seconds on two CPU cores; checkpoints every 2 steps.
SHORT = {"max_steps": 4, "eval_steps": 2, "save_steps": 2, "logging_steps": 2}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("finetune")
    paths = {
        "bert": build_bert(root / "bert"),
        "gpt2": build_gpt2(root / "gpt2"),
        "gemma3": build_gemma3(root / "gemma3"),
        "train": write_jsonl(root / "train.jsonl", make_cases(48, 1)),
        "valid": write_jsonl(root / "valid.jsonl", make_cases(12, 2)),
        "sft_train": write_jsonl(root / "sft_train.jsonl", make_instructions(24, 1)),
        "sft_valid": write_jsonl(root / "sft_valid.jsonl", make_instructions(6, 2)),
    }
    return paths


def _train(workspace, run_dir, model="bert", task="classification", method="full", training=None, **sections):
    train, valid = (workspace["sft_train"], workspace["sft_valid"]) if task == "sft" else (workspace["train"],
                                                                                          workspace["valid"])
    method = {"name": method} if isinstance(method, str) else method
    config = base_config(workspace[model], run_dir, train, valid, task=task, method=method,
                         training={**SHORT, **(training or {})}, **sections)
    if task == "multilabel":
        config["data"]["label_field"] = "labels"
    if task == "regression":
        config["data"]["label_field"] = "months"
    return engine.run(load_config(config), progress=False)


def _check_run_dir(run_dir, summary):
    for name in ("config.json", "labels.json", "metrics.jsonl", "summary.json", "README.md"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "model").is_dir()
    records = engine.read_metrics(run_dir)
    assert [record["step"] for record in records][:2] == [2, 4]
    card = (run_dir / "README.md").read_text(encoding="utf-8")
    assert summary["method"] in card
    assert "## Metrics" in card
    saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    assert saved["method"]["name"] == summary["method"]


@pytest.mark.parametrize("method", ["full", "freeze", "lora", "adalora", "ia3", "prompt"])
def test_classification_methods(workspace, tmp_path, method):
    if method == "freeze":
        method = {"name": "freeze", "freeze": {"embeddings": True, "bottom_layers": 1}}
    run_dir = tmp_path / "run"
    summary = _train(workspace, run_dir, method=method)
    _check_run_dir(run_dir, summary)
    assert {"accuracy", "macro_f1", "loss"} <= set(summary["final_metrics"])
    if summary["method"] != "full":
        assert summary["parameters"]["trainable_parameters"] < summary["parameters"]["total_parameters"]

    model = FinetunedModel.load(run_dir)
    predictions = model.predict(["被告人醉酒驾驶机动车在道路上行驶", "被告人秘密窃取超市商品"])
    assert len(predictions) == 2
    assert predictions[0]["label"] in {"盗窃", "诈骗", "危险驾驶"}
    assert sum(predictions[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_freeze_keeps_frozen_weights(workspace, tmp_path):
    run_dir = tmp_path / "run"
    _train(workspace, run_dir, method={"name": "freeze", "freeze": {"embeddings": True, "bottom_layers": 1}})
    base = transformers.AutoModel.from_pretrained(workspace["bert"])
    tuned = FinetunedModel.load(run_dir).model
    assert torch.equal(base.embeddings.word_embeddings.weight, tuned.bert.embeddings.word_embeddings.weight)
    assert torch.equal(base.encoder.layer[0].output.dense.weight, tuned.bert.encoder.layer[0].output.dense.weight)
    assert not torch.equal(base.encoder.layer[1].output.dense.weight, tuned.bert.encoder.layer[1].output.dense.weight)


def test_classification_learns(workspace, tmp_path):
    summary = _train(workspace, tmp_path / "run", training={"max_steps": 30, "eval_steps": 10, "save_steps": 10})
    assert summary["final_metrics"]["accuracy"] > 0.34


def test_multilabel_sigmoid(workspace, tmp_path):
    run_dir = tmp_path / "run"
    summary = _train(workspace, run_dir, task="multilabel", method="lora")
    assert {"micro_f1", "macro_f1", "exact_match"} <= set(summary["final_metrics"])
    model = FinetunedModel.load(run_dir)
    probabilities = model.probabilities(["被告人虚构事实骗取被害人钱款，被告人秘密窃取超市商品"])
    assert probabilities.shape == (1, 3)
    assert np.all((probabilities > 0) & (probabilities < 1))
    prediction = model.predict(["被告人虚构事实骗取被害人钱款"])[0]
    assert set(prediction["labels"]) <= {"盗窃", "诈骗", "危险驾驶"}


def test_regression_months(workspace, tmp_path):
    run_dir = tmp_path / "run"
    summary = _train(workspace, run_dir, task="regression", training={"label_smoothing": 0.0})
    assert summary["metric"] == "mae"
    assert summary["final_metrics"]["mae"] >= 0
    value = FinetunedModel.load(run_dir).predict(["被告人醉酒驾驶机动车"])[0]["value"]
    assert 0 < value < 60


@pytest.mark.parametrize("model_name,method", [("gpt2", "full"), ("gemma3", "lora"), ("gpt2", "prefix"),
                                               ("gemma3", "prompt"), ("gemma3", "ia3")])
def test_sft_methods(workspace, tmp_path, model_name, method):
    run_dir = tmp_path / "run"
    summary = _train(workspace, run_dir, model=model_name, task="sft", method=method)
    assert summary["metric"] == "loss"
    assert summary["final_metrics"]["perplexity"] > 1
    model = FinetunedModel.load(run_dir)
    answer = model.generate("被告人醉酒驾驶机动车", instruction="请根据案情判断罪名。", max_new_tokens=4)
    assert isinstance(answer, str)


def test_sft_loss_covers_answer_only(workspace):
    from tianping.finetune.data import IGNORE_INDEX, encode_sft

    tokenizer = transformers.AutoTokenizer.from_pretrained(workspace["gpt2"])
    feature = encode_sft("请根据案情判断罪名。\n被告人醉酒驾驶\n", "罪名：危险驾驶罪", tokenizer, 64)
    prompt_length = len(tokenizer("请根据案情判断罪名。\n被告人醉酒驾驶\n")["input_ids"])
    assert feature["labels"][:prompt_length] == [IGNORE_INDEX] * prompt_length
    assert feature["labels"][prompt_length:] == feature["input_ids"][prompt_length:]
    assert feature["labels"][-1] == tokenizer.eos_token_id


def test_sft_truncation_keeps_answer(workspace):
    from tianping.finetune.data import IGNORE_INDEX, encode_sft

    tokenizer = transformers.AutoTokenizer.from_pretrained(workspace["gpt2"])
    feature = encode_sft("很长的案情" * 50, "罪名：盗窃罪", tokenizer, 32)
    assert len(feature["input_ids"]) <= 32
    assert any(label != IGNORE_INDEX for label in feature["labels"])


@pytest.mark.parametrize("attack", ["fgm", "pgd"])
def test_adversarial_training(workspace, tmp_path, attack):
    summary = _train(workspace, tmp_path / "run", method="lora", adversarial={"method": attack, "epsilon": 0.5})
    assert np.isfinite(summary["train_loss"])


def test_adversarial_changes_updates(workspace, tmp_path):
    plain = _train(workspace, tmp_path / "plain", training={"max_steps": 2, "eval_steps": 2, "save_steps": 2})
    attacked = _train(workspace, tmp_path / "fgm", training={"max_steps": 2, "eval_steps": 2, "save_steps": 2},
                      adversarial={"method": "fgm", "epsilon": 5.0})
    assert plain["final_metrics"]["loss"] != attacked["final_metrics"]["loss"]


def test_augmentation_schedule_bf16(workspace, tmp_path):
    summary = _train(workspace, tmp_path / "run", method="lora",
                     augment={"synonym_probability": 0.5, "copies": 1},
                     training={"scheduler": "cosine", "warmup_ratio": 0.25, "gradient_accumulation_steps": 2,
                               "label_smoothing": 0.1, "gradient_checkpointing": True,
                               "mixed_precision": "bf16"})
    assert summary["data"]["train_augmented"] > 0


def test_early_stopping_stops(workspace, tmp_path):
    summary = _train(workspace, tmp_path / "run",
                     training={"max_steps": 40, "eval_steps": 1, "save_steps": 1, "learning_rate": 1e-7,
                               "early_stopping_patience": 1, "metric": "accuracy"})
    assert summary["steps"] < 40


def test_tensorboard_logs(workspace, tmp_path):
    pytest.importorskip("tensorboard")
    run_dir = tmp_path / "run"
    _train(workspace, run_dir)
    assert list((run_dir / "tensorboard").rglob("events.out.tfevents.*"))


def test_existing_run_dir_rejected(workspace, tmp_path):
    from tianping.errors import InvalidInputError

    run_dir = tmp_path / "run"
    _train(workspace, run_dir, training={"max_steps": 2, "eval_steps": 2, "save_steps": 2})
    with pytest.raises(InvalidInputError) as error:
        _train(workspace, run_dir)
    assert "finetune resume" in str(error.value)


def test_missing_model_says_how(workspace, tmp_path):
    from tianping.errors import NotFoundError

    config = base_config(tmp_path / "no-model", tmp_path / "run", workspace["train"], workspace["valid"])
    with pytest.raises(NotFoundError) as error:
        engine.run(load_config(config), progress=False)
    assert "模型目录不存在" in str(error.value)
    assert "config.json" in str(error.value)
    assert not (tmp_path / "run").exists()


def test_prefix_on_bert_rejected(workspace, tmp_path):
    from tianping.errors import InvalidInputError

    with pytest.raises(InvalidInputError) as error:
        _train(workspace, tmp_path / "run", method="prefix")
    assert "prefix" in str(error.value)


# ------------------------------------------------------------------ export


def test_merge_matches_adapter(workspace, tmp_path):
    run_dir = tmp_path / "run"
    _train(workspace, run_dir, method="lora", training={"learning_rate": 0.05})
    report = export.export_merged(run_dir)
    assert report["passed"]
    assert report["max_abs_difference"] <= report["tolerance"]

    adapter = FinetunedModel.load(run_dir)
    merged = FinetunedModel.load(run_dir, model_dir=run_dir / "export" / "merged")
    assert not merged.is_adapter
    texts = ["被告人醉酒驾驶机动车在道路上行驶", "被告人虚构事实骗取被害人钱款"]
    np.testing.assert_allclose(merged.logits(texts), adapter.logits(texts), atol=1e-4, rtol=1e-4)
    # The adapter changed the model, so the comparison is not between two copies of the base.
    base = transformers.AutoModel.from_pretrained(workspace["bert"])
    assert not torch.equal(base.encoder.layer[0].attention.self.query.weight,
                           merged.model.bert.encoder.layer[0].attention.self.query.weight)


def test_merge_refused_on_mismatch(workspace, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    _train(workspace, run_dir, method="lora")
    model = FinetunedModel.load(run_dir)
    original = model.model.merge_and_unload

    def broken_merge():
        merged = original()
        with torch.no_grad():
            merged.classifier.bias.add_(1.0)
        return merged

    monkeypatch.setattr(model.model, "merge_and_unload", broken_merge)
    with pytest.raises(export.ExportError) as error:
        export.merge_checked(model, ["被告人醉酒驾驶机动车"])
    assert "不一致" in str(error.value)
    assert not (run_dir / "export" / "merged").exists()


def test_merge_full_run_rejected(workspace, tmp_path):
    from tianping.errors import InvalidInputError

    run_dir = tmp_path / "run"
    _train(workspace, run_dir)
    with pytest.raises(InvalidInputError):
        export.export_merged(run_dir)


def test_int8_export_reports(workspace, tmp_path):
    run_dir = tmp_path / "run"
    _train(workspace, run_dir, method="lora")
    report = export.export_int8(run_dir)
    assert (run_dir / "export" / "int8" / "model_int8.pt").is_file()
    assert "accuracy" in report["float32"]
    assert "accuracy" in report["int8"]
    assert report["float32"]["latency_ms"] > 0
    assert report["int8"]["latency_ms"] > 0


def test_onnx_export_matches(workspace, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    run_dir = tmp_path / "run"
    _train(workspace, run_dir)
    report = export.export_onnx(run_dir)
    assert (run_dir / "export" / "onnx" / "model.onnx").is_file()
    assert report["max_abs_difference"] < 1e-4
