"""Fine-tuning runs: prepare data and model, train with checkpoints, resume, and write the run directory.

A run directory holds:

- ``config.json``: the validated configuration;
- ``labels.json``: the label list, or the regression target scaling;
- ``metrics.jsonl``: one JSON object per evaluation (step, epoch, metrics);
- ``checkpoints/checkpoint-N``: Trainer checkpoints (weights, optimiser, scheduler, RNG states);
- ``tensorboard/``: TensorBoard event files when tensorboard is installed;
- ``mlflow.db`` and ``mlflow.json``: the MLflow store and run id when ``tracking.mlflow`` is on;
- ``back_translation.jsonl``: the translator's answers when back-translation is on;
- ``model/``: the final model (the best checkpoint by the chosen metric), with tokenizer;
- ``summary.json`` and ``README.md``: the run summary and a generated model card.

With ``training.seeds`` the directory holds one such member run per seed
(``seed-N/``), ``ensemble.json`` naming them, and a ``summary.json`` with the
validation metrics of the averaged predictions.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from tianping.errors import InvalidInputError, NotFoundError, TianpingError, require
from tianping.finetune import card
from tianping.finetune.backtranslate import CACHE_NAME as BACK_TRANSLATION_NAME
from tianping.finetune.backtranslate import back_translate, read_cache, write_cache
from tianping.finetune.config import CONFIG_NAME, LOWER_IS_BETTER, RunConfig, load_config
from tianping.finetune.data import (
    Collator,
    EncodedDataset,
    TaskSpace,
    add_variants,
    augment,
    build_space,
    encode,
    parse_examples,
    read_records,
    split_valid,
)
from tianping.finetune.inference import ENSEMBLE_NAME, LABELS_NAME, MODEL_DIR
from tianping.finetune.models import (
    ModelSource,
    apply_method,
    load_base_model,
    load_tokenizer,
    resolve_model,
    trainable_summary,
)

logger = logging.getLogger(__name__)

METRICS_NAME = "metrics.jsonl"
SUMMARY_NAME = "summary.json"
CHECKPOINT_DIR = "checkpoints"


class TrainingFailedError(TianpingError):
    """Training stopped because the device or host ran out of memory."""

    code = "training_failed"
    exit_code = 6


@dataclass
class Prepared:
    """Everything a run needs before training starts."""

    config: RunConfig
    source: ModelSource
    space: TaskSpace
    tokenizer: object
    model: object
    train: EncodedDataset
    valid: EncodedDataset
    counts: dict
    back_translations: list[dict] | None = None


def load_data(config: RunConfig, run_dir: Path | None = None):
    """Read, split and augment the data; return (train examples, valid examples, space, counts, translations).

    ``translations`` are the back-translation cache entries (None when it is off);
    the cache in ``run_dir`` is read first, so a resumed run reuses its answers.
    """
    train_records = read_records(config.data.train)
    if config.data.max_train_samples:
        train_records = train_records[: config.data.max_train_samples]
    train = parse_examples(train_records, config, config.data.train)
    if config.data.valid:
        valid_records = read_records(config.data.valid)
        if config.data.max_valid_samples:
            valid_records = valid_records[: config.data.max_valid_samples]
        valid = parse_examples(valid_records, config, config.data.valid)
    else:
        train, valid = split_valid(train, config.data.valid_fraction, config.training.seed)
    space = build_space(config, train)
    original = len(train.texts)
    settings = config.augment.back_translation
    paraphrases, translations, translation_counts = [], None, None
    if settings.translator != "none":
        # NOTE: under torchrun every process calls the translator for texts missing from the
        # cache; a translator that answers differently per call gives the processes different data.
        cache = read_cache(run_dir / BACK_TRANSLATION_NAME) if run_dir is not None else {}
        paraphrases, translations, translation_counts = back_translate(train.texts, settings, cache)
    # Both kinds of variants index the original texts, which stay at the front of the list.
    train = add_variants(augment(train, config), paraphrases)
    counts = {"train": original, "train_augmented": len(train.texts) - original, "valid": len(valid.texts)}
    if translation_counts is not None:
        counts["back_translation"] = translation_counts
    return train, valid, space, counts, translations


def total_steps(config: RunConfig, train_size: int, world_size: int = 1) -> int:
    """Return the number of optimiser updates the run will make."""
    if config.training.max_steps > 0:
        return config.training.max_steps
    per_device = math.ceil(train_size / (config.training.batch_size * world_size))
    per_epoch = max(1, per_device // config.training.gradient_accumulation_steps)
    return max(1, math.ceil(per_epoch * config.training.epochs))


def prepare(config: RunConfig, run_dir: Path | None = None) -> Prepared:
    """Load data, tokenizer and model, and apply the fine-tuning method."""
    transformers = require("transformers", "finetune")
    train_examples, valid_examples, space, counts, translations = load_data(config, run_dir)
    source = resolve_model(config.model.path, config.model.gguf_file)
    tokenizer = load_tokenizer(source)
    train = encode(train_examples, space, tokenizer, config.model.max_length)
    valid = encode(valid_examples, space, tokenizer, config.model.max_length)
    # The seed is set before the model is built, so new heads and adapters start identical across runs.
    transformers.set_seed(config.training.seed)
    model = load_base_model(config, source, space, tokenizer)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    model = apply_method(model, config, total_steps(config, len(train), world_size))
    return Prepared(config, source, space, tokenizer, model, train, valid, counts, translations)


def _precision(config: RunConfig) -> dict:
    torch = require("torch", "finetune")
    choice = config.training.mixed_precision
    cuda = torch.cuda.is_available()
    if choice == "auto":
        if cuda and torch.cuda.is_bf16_supported():
            return {"bf16": True}
        if cuda:
            return {"fp16": True}
        return {}
    if choice == "fp16" and not cuda:
        raise InvalidInputError("training.mixed_precision 为 fp16，但没有可用的 CUDA 设备", code="invalid_config",
                                hint="CPU 上请使用 auto、no 或 bf16")
    if choice == "fp16":
        return {"fp16": True}
    if choice == "bf16":
        return {"bf16": True}
    return {}


def training_arguments(config: RunConfig, run_dir: Path, tensorboard: bool):
    transformers = require("transformers", "finetune")
    settings = config.training
    metric = config.metric_name
    scheduler = settings.scheduler
    if scheduler == "constant" and settings.warmup_ratio > 0:
        scheduler = "constant_with_warmup"
    arguments = dict(
        output_dir=str(run_dir / CHECKPOINT_DIR),
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.eval_batch_size,
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps,
        learning_rate=settings.learning_rate,
        weight_decay=settings.weight_decay,
        warmup_steps=settings.warmup_ratio,
        lr_scheduler_type=scheduler,
        optim="adamw_torch",
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        max_grad_norm=settings.max_grad_norm,
        seed=settings.seed,
        data_seed=settings.seed,
        eval_strategy="steps",
        eval_steps=settings.eval_steps,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=settings.save_total_limit,
        logging_strategy="steps",
        logging_steps=settings.logging_steps,
        report_to=["tensorboard"] if tensorboard else [],
        # AdaLoRA prunes ranks during training, so an earlier checkpoint no longer fits
        # the model's shapes; its final model is the last step's.
        load_best_model_at_end=config.method.name != "adalora",
        metric_for_best_model=metric,
        greater_is_better=metric not in LOWER_IS_BETTER,
        disable_tqdm=True,
        remove_unused_columns=False,
        prediction_loss_only=config.task == "sft",
        label_names=["labels"],
        dataloader_num_workers=0,
        save_only_model=False,
        **_precision(config),
    )
    if settings.gradient_checkpointing:
        # transformers 5 renamed gradient_checkpointing to activation_checkpointing.
        accepted = inspect.signature(transformers.TrainingArguments.__init__).parameters
        name = "activation_checkpointing" if "activation_checkpointing" in accepted else "gradient_checkpointing"
        arguments[name] = True
        arguments[f"{name}_kwargs"] = {"use_reentrant": False}
    torch = require("torch", "finetune")
    if not torch.cuda.is_available():
        arguments["use_cpu"] = True
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            arguments["ddp_backend"] = "gloo"
    return transformers.TrainingArguments(**arguments)


def _tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def build_trainer(prepared: Prepared, run_dir: Path, progress: bool = True, tracker=None):
    from tianping.finetune.trainer import (
        AdaLoraCallback,
        FinetuneTrainer,
        MetricsLogCallback,
        ProgressCallback,
        metrics_function,
    )

    transformers = require("transformers", "finetune")
    config = prepared.config
    tensorboard = _tensorboard_available()
    if tensorboard:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "tensorboard")
    args = training_arguments(config, run_dir, tensorboard)
    callbacks = [MetricsLogCallback(run_dir / METRICS_NAME),
                 ProgressCallback(config.training.batch_size * config.training.gradient_accumulation_steps
                                  * args.world_size, enabled=progress)]
    if config.training.early_stopping_patience:
        callbacks.append(transformers.EarlyStoppingCallback(early_stopping_patience=config.training.early_stopping_patience))
    if config.method.name == "adalora":
        callbacks.append(AdaLoraCallback(prepared.model))
    if tracker is not None:
        from tianping.finetune.tracking import mlflow_callback

        callbacks.append(mlflow_callback(tracker))
    if config.training.gradient_checkpointing and hasattr(prepared.model, "enable_input_require_grads"):
        # With frozen embeddings, checkpointed blocks need inputs that require grad.
        prepared.model.enable_input_require_grads()
    trainer = FinetuneTrainer(
        model=prepared.model,
        args=args,
        data_collator=Collator(prepared.tokenizer.pad_token_id, config.task),
        train_dataset=prepared.train,
        eval_dataset=prepared.valid,
        processing_class=prepared.tokenizer,
        compute_metrics=metrics_function(config, prepared.space.target_std),
        callbacks=callbacks,
        run_config=config,
    )
    # ProgressCallback replaces the Trainer's printing of every log dictionary.
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
    return trainer


def latest_checkpoint(run_dir: Path) -> Path | None:
    directory = run_dir / CHECKPOINT_DIR
    if not directory.is_dir():
        return None
    found = []
    for path in directory.glob("checkpoint-*"):
        suffix = path.name.split("-", 1)[1]
        if suffix.isdigit() and (path / "trainer_state.json").is_file():
            found.append((int(suffix), path))
    return max(found)[1] if found else None


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop evaluations after ``step``: the resumed run repeats them."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("step", 0) <= step:
            kept.append(line)
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def run(config: RunConfig, *, progress: bool = True, resume: bool = False) -> dict:
    """Train a model as ``config`` describes and return the run summary (with seeds: the ensemble summary)."""
    if config.training.seeds:
        return run_ensemble(config, progress=progress, resume=resume)
    run_dir = Path(config.output_dir)
    checkpoint = None
    if resume:
        checkpoint = latest_checkpoint(run_dir)
    elif _is_main_process() and (run_dir / CONFIG_NAME).exists():
        raise InvalidInputError(f"运行目录已存在：{run_dir}", code="run_exists",
                                hint=f"续训请运行 tianping finetune resume {run_dir}，或换一个 output_dir")

    # The run directory is written only after data, tokenizer and model loaded, so a
    # run that fails on its inputs leaves no directory that blocks the next attempt.
    prepared = prepare(config, run_dir if resume else None)
    tracker = None
    if _is_main_process():
        run_dir.mkdir(parents=True, exist_ok=True)
        config.save(run_dir)
        if checkpoint is None:
            (run_dir / METRICS_NAME).unlink(missing_ok=True)
        else:
            state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
            _truncate_metrics(run_dir / METRICS_NAME, int(state.get("global_step", 0)))
        (run_dir / LABELS_NAME).write_text(json.dumps(prepared.space.to_dict(), ensure_ascii=False, indent=1),
                                           encoding="utf-8")
        if prepared.back_translations is not None:
            write_cache(run_dir / BACK_TRANSLATION_NAME, prepared.back_translations)
        if config.tracking.mlflow:
            from tianping.finetune.tracking import MlflowTracker

            tracker = MlflowTracker(config, run_dir)
            tracker.start(resume=checkpoint is not None)
    trainer = build_trainer(prepared, run_dir, progress=progress, tracker=tracker)
    started = time.perf_counter()
    torch = require("torch", "finetune")
    try:
        try:
            result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        except torch.OutOfMemoryError as exc:
            raise TrainingFailedError(f"训练时显存或内存不足：{exc}", hint="请减小 training.batch_size、model.max_length，"
                                      "或开启 training.gradient_checkpointing、改用 lora") from None
        seconds = time.perf_counter() - started
        final = trainer.evaluate()
    except BaseException:
        if tracker is not None:
            tracker.finish("FAILED")
        raise
    final = {key[5:] if key.startswith("eval_") else key: value for key, value in final.items()}
    if config.task == "sft" and "loss" in final:
        final["perplexity"] = float(math.exp(min(final["loss"], 50.0)))
    if tracker is not None:
        tracker.log_metrics(final, trainer.state.global_step, prefix="final_")
        tracker.finish()

    summary = {
        "run_dir": str(run_dir),
        "task": config.task,
        "method": config.method.name,
        "base_model": prepared.source.describe(),
        "data": prepared.counts,
        "parameters": trainable_summary(prepared.model),
        "steps": trainer.state.global_step,
        "epochs": round(trainer.state.epoch or 0.0, 4),
        "train_loss": float(result.training_loss),
        "train_seconds": round(seconds, 2),
        "train_samples_per_second": result.metrics.get("train_samples_per_second"),
        "resumed_from": str(checkpoint) if checkpoint else None,
        "metric": config.metric_name,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "best_metric": trainer.state.best_metric,
        "final_metrics": final,
    }
    if trainer.is_world_process_zero():
        save_final(trainer, prepared, run_dir)
        (run_dir / SUMMARY_NAME).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        (run_dir / "README.md").write_text(card.model_card(config, summary, prepared.space), encoding="utf-8")
    return summary


def save_final(trainer, prepared: Prepared, run_dir: Path) -> Path:
    """Write the final model (adapter only for peft methods), tokenizer and labels to ``run_dir/model``."""
    target = run_dir / MODEL_DIR
    if target.exists():
        shutil.rmtree(target)
    trainer.save_model(str(target))
    prepared.tokenizer.save_pretrained(str(target))
    (target / LABELS_NAME).write_text(json.dumps(prepared.space.to_dict(), ensure_ascii=False, indent=1),
                                      encoding="utf-8")
    return target


def run_file(path: str | Path, overrides: dict | None = None, progress: bool = True) -> dict:
    """Validate the configuration file, then train."""
    return run(load_config(path, overrides), progress=progress)


def resume(run_dir: str | Path, progress: bool = True) -> dict:
    """Continue the run in ``run_dir`` from its latest checkpoint (or from the start when it has none)."""
    directory = Path(run_dir)
    config_path = directory / CONFIG_NAME
    if not config_path.is_file():
        raise NotFoundError(f"{directory} 不是微调运行目录（缺少 {CONFIG_NAME}）",
                            hint="请指定 tianping finetune run 的 output_dir")
    config = load_config(config_path)
    config.output_dir = str(directory)
    return run(config, progress=progress, resume=True)


# ------------------------------------------------------------ several seeds


def member_config(config: RunConfig, seed: int) -> RunConfig:
    """Return the configuration of the member run for ``seed``: one seed, in ``OUTPUT_DIR/seed-N``."""
    member = copy.deepcopy(config)
    member.training.seed = seed
    member.training.seeds = None
    member.output_dir = str(Path(config.output_dir) / f"seed-{seed}")
    return member


def run_ensemble(config: RunConfig, *, progress: bool = True, resume: bool = False) -> dict:
    """Train one member run per seed of ``training.seeds``, then score the averaged predictions on validation.

    Resuming skips finished members, resumes a started one and starts the rest.
    """
    run_dir = Path(config.output_dir)
    if _is_main_process():
        if not resume and (run_dir / CONFIG_NAME).exists():
            raise InvalidInputError(f"运行目录已存在：{run_dir}", code="run_exists",
                                    hint=f"续训请运行 tianping finetune resume {run_dir}，或换一个 output_dir")
        run_dir.mkdir(parents=True, exist_ok=True)
        config.save(run_dir)
        members = [f"seed-{seed}" for seed in config.training.seeds]
        (run_dir / ENSEMBLE_NAME).write_text(
            json.dumps({"seeds": config.training.seeds, "members": members}, indent=1), encoding="utf-8")
    summaries = []
    for seed in config.training.seeds:
        member = member_config(config, seed)
        member_dir = Path(member.output_dir)
        if (member_dir / SUMMARY_NAME).is_file():
            logger.info("member %s is finished; skipping it", member_dir)
            summaries.append(json.loads((member_dir / SUMMARY_NAME).read_text(encoding="utf-8")))
            continue
        logger.info("training member %s with seed %d", member_dir, seed)
        summaries.append(run(member, progress=progress, resume=(member_dir / CONFIG_NAME).is_file()))
    if not _is_main_process():
        return summaries[-1]
    summary = {
        "run_dir": str(run_dir),
        "task": config.task,
        "method": config.method.name,
        "seeds": config.training.seeds,
        "members": [{"run_dir": item["run_dir"], "final_metrics": item["final_metrics"]} for item in summaries],
        "metric": config.metric_name,
        "final_metrics": ensemble_metrics(config, run_dir),
    }
    (run_dir / SUMMARY_NAME).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def ensemble_metrics(config: RunConfig, run_dir: Path) -> dict:
    """Return the task metrics of the members' averaged predictions on the validation set."""
    import numpy as np

    from tianping.finetune.inference import EnsembleModel
    from tianping.finetune.trainer import classification_metrics, multilabel_metrics

    member = member_config(config, config.training.seeds[0])
    _, valid, _, _, _ = load_data(member, Path(member.output_dir))
    model = EnsembleModel.load(run_dir)
    labels = model.space.labels
    if config.task == "regression":
        values = np.array([item["value"] for item in model.predict(valid.texts)])
        errors = values - np.array(valid.targets, dtype=float)
        return {"mae": float(np.mean(np.abs(errors))), "rmse": float(np.sqrt(np.mean(errors ** 2)))}
    probabilities = model.probabilities(valid.texts)
    if config.task == "classification":
        gold = np.array([labels.index(target) for target in valid.targets])
        return classification_metrics(np.argmax(probabilities, axis=-1), gold, len(labels))
    gold = np.array([[label in target for label in labels] for target in valid.targets])
    return multilabel_metrics(probabilities >= config.training.threshold, gold)


def read_metrics(run_dir: str | Path) -> list[dict]:
    path = Path(run_dir) / METRICS_NAME
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
