"""Training data for fine-tuning: reading records, label spaces, tokenisation and batching."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tianping.errors import InvalidInputError, NotFoundError
from tianping.finetune.augment import augment_texts
from tianping.finetune.config import RunConfig
from tianping.text.encoding import read_text
from tianping.text.structured import json_problem, load_json

# Label value of tokens that the loss ignores (the prompt of an SFT item, padding).
IGNORE_INDEX = -100


@dataclass
class TaskSpace:
    """The model's output space: label names for classification, target scaling for regression."""

    task: str
    labels: list[str] = field(default_factory=list)
    target_mean: float = 0.0
    target_std: float = 1.0

    def to_dict(self) -> dict:
        return {"task": self.task, "labels": self.labels, "target_mean": self.target_mean,
                "target_std": self.target_std}

    @classmethod
    def from_dict(cls, data: dict) -> TaskSpace:
        return cls(task=data["task"], labels=list(data.get("labels", [])),
                   target_mean=float(data.get("target_mean", 0.0)), target_std=float(data.get("target_std", 1.0)))

    @property
    def num_labels(self) -> int:
        return 1 if self.task == "regression" else len(self.labels)


def read_records(path: str | Path) -> list[dict]:
    """Read records from JSON lines, a JSON array or CSV with a header row."""
    source = Path(path)
    if not source.is_file():
        raise NotFoundError(f"数据文件不存在：{source}", hint="请检查配置中的 data.train / data.valid")
    text = read_text(str(source))
    if source.suffix.lower() == ".csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    stripped = text.lstrip()
    if stripped.startswith("["):
        records = load_json(stripped, str(source), hint="请修正文件")
    else:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"JSON 格式错误：{source} {json_problem(exc, number)}",
                                        hint="每行应为一个 JSON 对象") from None
    if not all(isinstance(record, dict) for record in records):
        raise InvalidInputError(f"{source} 中的记录应为 JSON 对象", hint="每条记录应形如 {\"text\": ..., \"label\": ...}")
    return records


def _field(record: dict, name: str, source: str, number: int):
    value = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            raise InvalidInputError(f"{source} 第 {number} 条记录缺少字段 {name}",
                                    hint="请检查配置中的 data.*_field 是否与数据一致")
        value = value[part]
    return value


def _text(record: dict, name: str, source: str, number: int) -> str:
    value = _field(record, name, source, number)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{source} 第 {number} 条记录的字段 {name} 应为非空文本", hint="请修正或删除该记录")
    return value.strip()


def _label_list(value, source: str, number: int, name: str) -> list[str]:
    if isinstance(value, (str, int)):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(item, (str, int)) for item in value):
        return [str(item) for item in value]
    raise InvalidInputError(f"{source} 第 {number} 条记录的字段 {name} 应为标签或标签列表：{value!r}",
                            hint="多标签任务请写成列表，例如 [\"盗窃\", \"诈骗\"]")


@dataclass
class Examples:
    """Parsed examples of one split: texts (or SFT prompt and answer pairs) and targets."""

    texts: list[str]
    targets: list
    answers: list[str] | None = None


def parse_examples(records: Sequence[dict], config: RunConfig, source: str) -> Examples:
    """Turn raw records into texts and raw targets for the configured task."""
    data = config.data
    texts, targets, answers = [], [], []
    for number, record in enumerate(records, start=1):
        if config.task == "sft":
            instruction = record.get(data.instruction_field) or ""
            question = _text(record, data.question_field, source, number)
            answer = _text(record, data.answer_field, source, number)
            prompt = f"{instruction.strip()}\n{question}\n" if instruction.strip() else f"{question}\n"
            texts.append(prompt)
            answers.append(answer)
            continue
        texts.append(_text(record, data.text_field, source, number))
        value = _field(record, data.label_field, source, number)
        if config.task == "regression":
            try:
                number_value = float(value)
            except (TypeError, ValueError):
                raise InvalidInputError(f"{source} 第 {number} 条记录的字段 {data.label_field} 应为数值：{value!r}",
                                        hint="回归任务的标签应为数字，例如刑期月数") from None
            if not math.isfinite(number_value):
                raise InvalidInputError(f"{source} 第 {number} 条记录的标签不是有限数值：{value!r}", hint="请修正该记录")
            targets.append(number_value)
        elif config.task == "multilabel":
            targets.append(_label_list(value, source, number, data.label_field))
        else:
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise InvalidInputError(f"{source} 第 {number} 条记录的字段 {data.label_field} 应为单个标签：{value!r}",
                                        hint="多个标签请使用 multilabel 任务")
            targets.append(str(value))
    if not texts:
        raise InvalidInputError(f"{source} 中没有记录", hint="请提供至少一条训练数据")
    return Examples(texts=texts, targets=targets, answers=answers if config.task == "sft" else None)


def build_space(config: RunConfig, train: Examples) -> TaskSpace:
    """Derive the label list (or the regression target scaling) from the configuration and training data."""
    if config.task == "sft":
        return TaskSpace(task="sft")
    if config.task == "regression":
        values = train.targets
        mean = sum(values) / len(values)
        variance = sum((value - mean) ** 2 for value in values) / len(values)
        return TaskSpace(task="regression", target_mean=mean, target_std=math.sqrt(variance) or 1.0)
    if config.data.labels:
        labels = list(dict.fromkeys(config.data.labels))
    else:
        seen = set()
        for target in train.targets:
            seen.update(target if isinstance(target, list) else [target])
        labels = sorted(seen)
    if config.task == "classification" and len(labels) < 2:
        raise InvalidInputError(f"分类任务至少需要 2 个标签，训练数据只有 {len(labels)} 个：{labels}",
                                hint="请检查 data.label_field，或在 data.labels 中列出全部标签")
    return TaskSpace(task=config.task, labels=labels)


def split_valid(train: Examples, fraction: float, seed: int) -> tuple[Examples, Examples]:
    """Hold out ``fraction`` of the training examples (at least one) as a validation set."""
    count = len(train.texts)
    order = list(range(count))
    random.Random(seed).shuffle(order)
    held = max(1, int(round(count * fraction))) if count > 1 else 0
    if held == 0:
        raise InvalidInputError("训练数据只有 1 条，无法划出验证集", hint="请提供 data.valid 或更多训练数据")
    valid_ids, train_ids = set(order[:held]), order[held:]
    return _subset(train, sorted(train_ids)), _subset(train, sorted(valid_ids))


def _subset(examples: Examples, ids: Sequence[int]) -> Examples:
    return Examples(texts=[examples.texts[i] for i in ids], targets=[examples.targets[i] for i in ids] if examples.targets else [],
                    answers=[examples.answers[i] for i in ids] if examples.answers is not None else None)


def augment(examples: Examples, config: RunConfig) -> Examples:
    """Append legal-synonym variants of the training texts (SFT: of the prompts)."""
    if config.augment.copies == 0:
        return examples
    variants = augment_texts(examples.texts, config.augment.copies, config.augment.synonym_probability,
                             config.training.seed)
    return add_variants(examples, variants)


def add_variants(examples: Examples, variants: Sequence[tuple[int, str]]) -> Examples:
    """Append ``(source index, new text)`` variants, each with the target (and answer) of its source."""
    texts = examples.texts + [text for _, text in variants]
    targets = examples.targets + [examples.targets[i] for i, _ in variants] if examples.targets else []
    answers = None
    if examples.answers is not None:
        answers = examples.answers + [examples.answers[i] for i, _ in variants]
    return Examples(texts=texts, targets=targets, answers=answers)


class EncodedDataset:
    """A map-style dataset of tokenised features, ready for ``Collator``."""

    def __init__(self, features: list[dict]):
        self.features = features

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> dict:
        return self.features[index]


def encode(examples: Examples, space: TaskSpace, tokenizer, max_length: int) -> EncodedDataset:
    """Tokenise texts and attach targets in the form the model's loss expects."""
    if space.task == "sft":
        return EncodedDataset([encode_sft(prompt, answer, tokenizer, max_length)
                               for prompt, answer in zip(examples.texts, examples.answers)])
    encoded = tokenizer(examples.texts, truncation=True, max_length=max_length)
    index = {label: i for i, label in enumerate(space.labels)}
    features = []
    for row, target in enumerate(examples.targets):
        feature = {"input_ids": encoded["input_ids"][row], "attention_mask": encoded["attention_mask"][row]}
        if space.task == "classification":
            if target not in index:
                raise InvalidInputError(f"标签 {target!r} 不在标签表中", hint=f"标签表为 {', '.join(space.labels)}")
            feature["labels"] = index[target]
        elif space.task == "multilabel":
            vector = [0.0] * len(space.labels)
            for label in target:
                if label in index:
                    vector[index[label]] = 1.0
            feature["labels"] = vector
        else:
            feature["labels"] = (target - space.target_mean) / space.target_std
        features.append(feature)
    return EncodedDataset(features)


def encode_sft(prompt: str, answer: str, tokenizer, max_length: int) -> dict:
    """Tokenise one instruction item so that only the answer tokens (and EOS) carry labels.

    When prompt and answer are too long, the answer keeps at most half the window
    and the prompt keeps its end, where the question sits.
    """
    prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        answer_ids = answer_ids + [tokenizer.eos_token_id]
    if len(prompt_ids) + len(answer_ids) > max_length:
        answer_ids = answer_ids[: max(1, max_length // 2)]
        room = max_length - len(answer_ids)
        prompt_ids = prompt_ids[-room:] if room > 0 else []
    input_ids = prompt_ids + answer_ids
    labels = [IGNORE_INDEX] * len(prompt_ids) + answer_ids
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}


class Collator:
    """Pad a batch on the right; SFT labels are padded with ``IGNORE_INDEX``."""

    def __init__(self, pad_token_id: int, task: str):
        self.pad_token_id = pad_token_id
        self.task = task

    def __call__(self, features: list[dict]) -> dict:
        import torch

        width = max(len(feature["input_ids"]) for feature in features)
        input_ids, attention, labels = [], [], []
        for feature in features:
            missing = width - len(feature["input_ids"])
            input_ids.append(list(feature["input_ids"]) + [self.pad_token_id] * missing)
            attention.append(list(feature["attention_mask"]) + [0] * missing)
            if self.task == "sft":
                labels.append(list(feature["labels"]) + [IGNORE_INDEX] * missing)
            elif "labels" in feature:
                labels.append(feature["labels"])
        batch = {"input_ids": torch.tensor(input_ids, dtype=torch.long),
                 "attention_mask": torch.tensor(attention, dtype=torch.long)}
        if labels:
            dtype = torch.long if self.task in ("sft", "classification") else torch.float32
            batch["labels"] = torch.tensor(labels, dtype=dtype)
        return batch
