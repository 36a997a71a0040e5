"""The transformers ``Trainer`` subclass, its callbacks and the per-task losses and metrics."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from tianping.errors import InvalidInputError, require
from tianping.finetune.adversarial import EmbeddingAttack, adversarial_backward
from tianping.finetune.config import RunConfig

transformers = require("transformers", "finetune")
torch = require("torch", "finetune")

ADALORA_STATE_NAME = "adalora_state.pt"


def task_loss(task: str, logits, labels, label_smoothing: float):
    """Return the mean loss of one batch for the task.

    Multi-label targets are smoothed towards 0.5 (``y(1-s) + s/2``); SFT logits are
    shifted so that position t predicts token t+1, and prompt tokens (-100) are ignored.
    """
    functional = torch.nn.functional
    logits = logits.float()
    if task == "classification":
        return functional.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    if task == "multilabel":
        targets = labels.float() * (1.0 - label_smoothing) + 0.5 * label_smoothing
        return functional.binary_cross_entropy_with_logits(logits, targets)
    if task == "regression":
        return functional.mse_loss(logits.squeeze(-1), labels.float())
    shifted_logits = logits[:, :-1, :]
    shifted_labels = labels[:, 1:]
    return functional.cross_entropy(shifted_logits.reshape(-1, shifted_logits.shape[-1]), shifted_labels.reshape(-1),
                                    ignore_index=-100, label_smoothing=label_smoothing)


class FinetuneTrainer(transformers.Trainer):
    """A Trainer with tianping's task losses and optional FGM/PGD adversarial training."""

    def __init__(self, *args, run_config: RunConfig, **kwargs):
        super().__init__(*args, **kwargs)
        self.run_config = run_config
        # compute_loss returns a per-micro-batch mean, so the Trainer divides by the
        # accumulation steps itself.
        self.model_accepts_loss_kwargs = False
        self.loss_is_scaled_for_ga = False
        self.attack = None
        if run_config.adversarial.method != "none":
            self.attack = EmbeddingAttack(self.model.get_input_embeddings())

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.get("labels")
        model_inputs = {key: value for key, value in inputs.items() if key != "labels"}
        outputs = model(**model_inputs)
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        if self.run_config.method.name in ("prefix", "prompt") and self.run_config.task == "sft":
            # peft prepends the virtual tokens to the causal LM's output positions.
            logits = logits[:, -labels.shape[1]:, :]
        loss = task_loss(self.run_config.task, logits, labels, self.run_config.training.label_smoothing)
        return (loss, outputs) if return_outputs else loss

    # ------------------------------------------------------------ AdaLoRA checkpoints

    def _save_checkpoint(self, model, trial):
        # The AdaLoRA state is written first: a checkpoint counts as complete once
        # trainer_state.json exists, and the base class writes that file last.
        if self.run_config.method.name == "adalora" and self.args.should_save:
            directory = Path(self._get_output_dir(trial=trial)) / f"checkpoint-{self.state.global_step}"
            directory.mkdir(parents=True, exist_ok=True)
            save_adalora_state(self.model, directory / ADALORA_STATE_NAME)
        super()._save_checkpoint(model, trial)

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        state_path = Path(resume_from_checkpoint) / ADALORA_STATE_NAME
        if self.run_config.method.name == "adalora" and state_path.is_file():
            # The adapter files of an AdaLoRA checkpoint hold only the ranks kept so far, so
            # they no longer fit the unpruned modules that training continues with.
            load_adalora_state(model if model is not None else self.model, state_path)
            return
        super()._load_from_checkpoint(resume_from_checkpoint, model)

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self.attack is None:
            return super().training_step(model, inputs, num_items_in_batch)
        self.attack.active = True
        try:
            loss = super().training_step(model, inputs, num_items_in_batch)
            prepared = self._prepare_inputs(inputs)
            settings = self.run_config.adversarial

            def forward():
                with self.compute_loss_context_manager():
                    return self.compute_loss(model, prepared)

            def backward(adversarial_loss):
                self.accelerator.backward(adversarial_loss / self.current_gradient_accumulation_steps)

            adversarial_backward(self.attack, settings.method, settings.epsilon, settings.alpha, settings.steps,
                                 forward, backward)
        finally:
            self.attack.active = False
            self.attack.probe = None
        return loss


def metrics_function(config: RunConfig, target_std: float = 1.0):
    """Return ``compute_metrics`` for the task, or None for SFT (loss only)."""
    task = config.task
    threshold = config.training.threshold
    if task == "sft":
        return None

    def compute(prediction) -> dict:
        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        labels = prediction.label_ids
        if task == "classification":
            return classification_metrics(np.argmax(logits, axis=-1), labels, logits.shape[-1])
        if task == "multilabel":
            probabilities = 1.0 / (1.0 + np.exp(-logits))
            return multilabel_metrics(probabilities >= threshold, labels >= 0.5)
        errors = (logits.reshape(-1) - labels.reshape(-1)) * target_std
        return {"mae": float(np.mean(np.abs(errors))), "rmse": float(np.sqrt(np.mean(errors ** 2)))}

    return compute


def classification_metrics(predicted: np.ndarray, gold: np.ndarray, num_labels: int) -> dict:
    """Return accuracy and macro-F1 over the labels that occur in gold or predictions."""
    accuracy = float(np.mean(predicted == gold)) if len(gold) else 0.0
    scores = []
    for label in range(num_labels):
        tp = int(np.sum((predicted == label) & (gold == label)))
        fp = int(np.sum((predicted == label) & (gold != label)))
        fn = int(np.sum((predicted != label) & (gold == label)))
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return {"accuracy": accuracy, "macro_f1": float(np.mean(scores)) if scores else 0.0}


def multilabel_metrics(predicted: np.ndarray, gold: np.ndarray) -> dict:
    """Return micro-F1, macro-F1 (labels present in gold or predictions) and exact-match accuracy."""
    predicted = predicted.astype(bool)
    gold = gold.astype(bool)
    tp = np.sum(predicted & gold, axis=0)
    fp = np.sum(predicted & ~gold, axis=0)
    fn = np.sum(~predicted & gold, axis=0)
    micro_denominator = 2 * tp.sum() + fp.sum() + fn.sum()
    micro = float(2 * tp.sum() / micro_denominator) if micro_denominator else 0.0
    present = (tp + fp + fn) > 0
    macro = float(np.mean((2 * tp / np.maximum(2 * tp + fp + fn, 1))[present])) if present.any() else 0.0
    exact = float(np.mean(np.all(predicted == gold, axis=1))) if len(gold) else 0.0
    return {"micro_f1": micro, "macro_f1": macro, "exact_match": exact}


class MetricsLogCallback(transformers.TrainerCallback):
    """Append every evaluation's metrics to ``metrics.jsonl`` in the run directory (main process only)."""

    def __init__(self, path: Path):
        self.path = path

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero or not metrics:
            return
        record = evaluation_record(args, state, metrics)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def evaluation_record(args, state, metrics: dict) -> dict:
    """Return one evaluation as ``metrics.jsonl`` stores it: step, epoch and metrics without the ``eval_`` prefix."""
    record = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4)}
    for key, value in metrics.items():
        name = key[5:] if key.startswith("eval_") else key
        record[name] = value
    # SFT runs evaluate the loss only (prediction_loss_only), and perplexity is derived from it.
    if "loss" in record and "perplexity" not in record and args.prediction_loss_only:
        record["perplexity"] = _perplexity(record["loss"])
    return record


def _perplexity(loss: float) -> float:
    return float(math.exp(min(loss, 50.0)))


class ProgressCallback(transformers.TrainerCallback):
    """A progress bar on stderr with loss, learning rate and throughput (samples per second)."""

    def __init__(self, samples_per_step: int, enabled: bool = True):
        self.samples_per_step = samples_per_step
        self.enabled = enabled
        self.bar = None
        self.started = None
        self.start_step = 0
        self.postfix: dict = {}

    def on_train_begin(self, args, state, control, **kwargs):
        if not self.enabled or not state.is_world_process_zero:
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="训练", unit="步", file=sys.stderr,
                        dynamic_ncols=True)
        self.started = time.perf_counter()
        self.start_step = state.global_step

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is None:
            return
        self.bar.update(state.global_step - self.bar.n)
        elapsed = time.perf_counter() - self.started
        if elapsed > 0:
            self.postfix["样本/秒"] = f"{(state.global_step - self.start_step) * self.samples_per_step / elapsed:.1f}"
        self.bar.set_postfix(self.postfix, refresh=False)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is None or not logs:
            return
        if "loss" in logs:
            self.postfix["损失"] = f"{logs['loss']:.4f}"
        if "learning_rate" in logs:
            self.postfix["学习率"] = f"{logs['learning_rate']:.2e}"
        if "eval_loss" in logs:
            self.postfix["验证损失"] = f"{logs['eval_loss']:.4f}"
        self.bar.set_postfix(self.postfix)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class AdaLoraCallback(transformers.TrainerCallback):
    """Call AdaLoRA's rank reallocation after each optimiser step, while gradients still exist."""

    def __init__(self, model):
        self.model = model

    def on_optimizer_step(self, args, state, control, **kwargs):
        self.model.base_model.update_and_allocate(state.global_step)


def _adalora_parts(model):
    """Return the peft AdaLoRA model, its trainable adapter name and its ``RankAllocator``."""
    peft_model = model.module if hasattr(model, "module") else model
    adalora = peft_model.base_model
    return adalora, adalora.trainable_adapter_name, adalora.rankallocator


def save_adalora_state(model, path: Path) -> None:
    """Write what an AdaLoRA run needs to continue exactly: unpruned weights, rank pattern and importance estimates.

    The weights are every trainable parameter at full rank (masked ranks hold zeros);
    the ``RankAllocator`` fields are the smoothed sensitivity (``exp_avg_ipt``), its
    uncertainty (``exp_avg_unc``) and the last sensitivity (``ipt``), one tensor per
    LoRA parameter.
    """
    adalora, adapter, allocator = _adalora_parts(model)
    weights = {name: parameter.detach().cpu().clone()
               for name, parameter in model.named_parameters() if parameter.requires_grad}
    state = {
        "weights": weights,
        "rank_pattern": adalora.peft_config[adapter].rank_pattern,
        "ipt": {name: value.detach().cpu().clone() for name, value in allocator.ipt.items()},
        "exp_avg_ipt": {name: value.detach().cpu().clone() for name, value in allocator.exp_avg_ipt.items()},
        "exp_avg_unc": {name: value.detach().cpu().clone() for name, value in allocator.exp_avg_unc.items()},
    }
    torch.save(state, path)


def load_adalora_state(model, path: Path) -> None:
    """Restore what ``save_adalora_state`` wrote into a freshly built AdaLoRA model."""
    adalora, adapter, allocator = _adalora_parts(model)
    state = torch.load(path, map_location="cpu", weights_only=True)
    parameters = dict(model.named_parameters())
    missing = [name for name in state["weights"] if name not in parameters]
    mismatched = [name for name, value in state["weights"].items()
                  if name in parameters and parameters[name].shape != value.shape]
    if missing or mismatched:
        raise InvalidInputError(f"AdaLoRA 检查点 {path} 与模型不符：缺少 {missing[:3]}，形状不同 {mismatched[:3]}",
                                code="checkpoint_mismatch", hint="请确认 config.json 与该检查点来自同一次运行")
    with torch.no_grad():
        for name, value in state["weights"].items():
            parameters[name].copy_(value.to(parameters[name].device))
    adalora.peft_config[adapter].rank_pattern = state["rank_pattern"]
    # The allocator keys its estimates by the parameter names of the model inside the adapter.
    inner = dict(adalora.model.named_parameters())
    for field in ("ipt", "exp_avg_ipt", "exp_avg_unc"):
        setattr(allocator, field, {name: value.to(inner[name].device) for name, value in state[field].items()})
