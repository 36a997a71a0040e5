"""Loading a finished run's model and predicting with it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tianping.errors import InvalidInputError, NotFoundError, require
from tianping.finetune.config import CONFIG_NAME, RunConfig, load_config
from tianping.finetune.data import TaskSpace, encode_sft

LABELS_NAME = "labels.json"
MODEL_DIR = "model"
ENSEMBLE_NAME = "ensemble.json"


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exponent = np.exp(shifted)
    return exponent / exponent.sum(axis=-1, keepdims=True)


def _label_results(probabilities: np.ndarray, space: TaskSpace, threshold: float) -> list[dict]:
    results = []
    for row in probabilities:
        scores = {label: round(float(p), 6) for label, p in zip(space.labels, row)}
        if space.task == "classification":
            results.append({"label": space.labels[int(np.argmax(row))], "probabilities": scores})
        else:
            chosen = [label for label, p in zip(space.labels, row) if p >= threshold]
            results.append({"labels": chosen, "probabilities": scores})
    return results


class FinetunedModel:
    """A fine-tuned model with its tokenizer, label space and run configuration."""

    def __init__(self, model, tokenizer, space: TaskSpace, config: RunConfig):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.space = space
        self.config = config

    @property
    def is_adapter(self) -> bool:
        return hasattr(self.model, "peft_config")

    @classmethod
    def load(cls, run_dir: str | Path, model_dir: str | Path | None = None) -> FinetunedModel:
        """Load ``run_dir/model`` (or ``model_dir``); a peft adapter is loaded on top of its local base model."""
        transformers = require("transformers", "finetune")
        from tianping.finetune.models import load_base_model, resolve_model

        run_dir = Path(run_dir)
        config_path = run_dir / CONFIG_NAME
        if not config_path.is_file():
            raise NotFoundError(f"{run_dir} 不是微调运行目录（缺少 {CONFIG_NAME}）",
                                hint="请指定 tianping finetune run 的 output_dir")
        config = load_config(config_path, for_training=False)
        directory = Path(model_dir) if model_dir else run_dir / MODEL_DIR
        labels_path = directory / LABELS_NAME
        if not labels_path.is_file():
            raise NotFoundError(f"{directory} 中没有训练好的模型（缺少 {LABELS_NAME}）",
                                hint=f"请先完成训练，或运行 tianping finetune resume {run_dir}")
        space = TaskSpace.from_dict(json.loads(labels_path.read_text(encoding="utf-8")))
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        if (directory / "adapter_config.json").is_file():
            peft = require("peft", "finetune")
            source = resolve_model(config.model.path, config.model.gguf_file)
            base = load_base_model(config, source, space, tokenizer)
            model = peft.PeftModel.from_pretrained(base, str(directory), is_trainable=False)
        else:
            model_class = (transformers.AutoModelForCausalLM if config.task == "sft"
                           else transformers.AutoModelForSequenceClassification)
            model = model_class.from_pretrained(str(directory), local_files_only=True)
        return cls(model, tokenizer, space, config)

    # ------------------------------------------------------------ inputs

    def batch(self, texts: Sequence[str]) -> dict:
        """Tokenise texts into padded tensors (SFT: prompts without answers)."""
        if isinstance(texts, str):
            raise InvalidInputError("texts 应为字符串列表，而不是单个字符串", hint="单条文本请传入 [text]")
        if not texts or any(not isinstance(text, str) or not text.strip() for text in texts):
            raise InvalidInputError("待预测的文本为空", hint="请提供非空文本")
        return self.tokenizer(list(texts), truncation=True, max_length=self.config.model.max_length,
                              padding=True, return_tensors="pt")

    def logits(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Return the classification or regression head's raw outputs, one row per text."""
        torch = require("torch", "finetune")
        if self.space.task == "sft":
            raise InvalidInputError("SFT 模型没有分类输出", hint="请使用 generate")
        rows = []
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                encoded = self.batch(texts[start:start + batch_size])
                rows.append(self.model(**encoded).logits.float().numpy())
        return np.concatenate(rows, axis=0)

    # ------------------------------------------------------------ outputs

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Return label probabilities: softmax for classification, one sigmoid per label for multi-label."""
        logits = self.logits(texts)
        if self.space.task == "classification":
            return _softmax(logits)
        if self.space.task == "multilabel":
            return 1.0 / (1.0 + np.exp(-logits))
        raise InvalidInputError(f"{self.space.task} 模型没有标签概率", hint="回归模型请使用 predict")

    def values(self, texts: Sequence[str]) -> np.ndarray:
        """Return regression predictions in the target's unit."""
        if self.space.task != "regression":
            raise InvalidInputError(f"{self.space.task} 模型没有数值输出", hint="请使用 probabilities")
        return self.logits(texts).reshape(-1) * self.space.target_std + self.space.target_mean

    def predict(self, texts: Sequence[str]) -> list[dict]:
        """Return per text the label (classification), labels (multi-label) or value (regression)."""
        if self.space.task == "regression":
            return [{"value": float(value)} for value in self.values(texts)]
        return _label_results(self.probabilities(texts), self.space, self.config.training.threshold)

    def generate(self, question: str, instruction: str = "", max_new_tokens: int = 64) -> str:
        """Return the model's greedy answer to an instruction item (SFT models)."""
        torch = require("torch", "finetune")
        if self.space.task != "sft":
            raise InvalidInputError(f"{self.space.task} 模型不能生成文本", hint="请使用 predict")
        prompt = f"{instruction.strip()}\n{question.strip()}\n" if instruction.strip() else f"{question.strip()}\n"
        ids = self.tokenizer(prompt, return_tensors="pt")
        with torch.no_grad():
            output = self.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                                         pad_token_id=self.tokenizer.pad_token_id)
        return self.tokenizer.decode(output[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()

    def sft_loss(self, items: Sequence[tuple[str, str]]) -> float:
        """Return the mean answer-token loss over ``(prompt, answer)`` pairs."""
        torch = require("torch", "finetune")
        from tianping.finetune.trainer import task_loss

        losses = []
        with torch.no_grad():
            for prompt, answer in items:
                feature = encode_sft(prompt, answer, self.tokenizer, self.config.model.max_length)
                ids = torch.tensor([feature["input_ids"]])
                labels = torch.tensor([feature["labels"]])
                logits = self.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
                losses.append(float(task_loss("sft", logits[:, -ids.shape[1]:, :], labels, 0.0)))
        return float(np.mean(losses))


class EnsembleModel:
    """Several fine-tuned models of one task and label set whose predictions are averaged.

    Classification and multi-label probabilities are the mean of the members'
    probabilities (not of their logits); regression values are the mean of the
    members' values in the target's unit.
    """

    def __init__(self, members: Sequence[FinetunedModel]):
        if not members:
            raise InvalidInputError("没有可平均的模型", hint="请至少给出一个运行目录")
        first = members[0]
        for member in members[1:]:
            if member.space.task != first.space.task or member.space.labels != first.space.labels:
                raise InvalidInputError("要平均的模型任务或标签表不同",
                                        hint=f"第一个模型为 {first.space.task}（{', '.join(first.space.labels)}），"
                                             f"另一个为 {member.space.task}（{', '.join(member.space.labels)}）")
        if first.space.task == "sft":
            raise InvalidInputError("SFT 模型不能平均预测", hint="请分别用各个运行目录生成答案")
        self.members = list(members)
        self.space = first.space
        self.config = first.config

    @classmethod
    def load(cls, *run_dirs: str | Path) -> EnsembleModel:
        """Load the members of an ensemble directory (``training.seeds``) or of several run directories."""
        directories = []
        for run_dir in run_dirs:
            directories.extend(member_dirs(run_dir))
        return cls([FinetunedModel.load(directory) for directory in directories])

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Return the mean of the members' label probabilities."""
        return np.mean([member.probabilities(texts) for member in self.members], axis=0)

    def values(self, texts: Sequence[str]) -> np.ndarray:
        """Return the mean of the members' regression values."""
        return np.mean([member.values(texts) for member in self.members], axis=0)

    def predict(self, texts: Sequence[str]) -> list[dict]:
        """Return per text the label, labels or value from the averaged predictions."""
        if self.space.task == "regression":
            return [{"value": float(value)} for value in self.values(texts)]
        return _label_results(self.probabilities(texts), self.space, self.config.training.threshold)


def member_dirs(run_dir: str | Path) -> list[Path]:
    """Return the member run directories of an ensemble directory, or ``[run_dir]`` for a single run."""
    run_dir = Path(run_dir)
    manifest = run_dir / ENSEMBLE_NAME
    if not manifest.is_file():
        return [run_dir]
    members = json.loads(manifest.read_text(encoding="utf-8"))["members"]
    return [run_dir / name for name in members]


def load_predictor(*run_dirs: str | Path) -> FinetunedModel | EnsembleModel:
    """Load one run's model, or an ``EnsembleModel`` for an ensemble directory or several run directories."""
    directories = []
    for run_dir in run_dirs:
        directories.extend(member_dirs(run_dir))
    if len(directories) == 1:
        return FinetunedModel.load(directories[0])
    return EnsembleModel([FinetunedModel.load(directory) for directory in directories])
