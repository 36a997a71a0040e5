"""A fine-tuned transformer as a judgment-prediction model (kind ``finetune``).

``FinetuneJudgmentModel`` follows ``tianping.prediction.JudgmentModel``: fit,
predict with probabilities, save, load. Its featurizer fine-tunes a multi-label
charge classifier (one sigmoid per charge) on the training facts with the
fine-tuning engine, then represents each fact by the classifier's charge
probabilities and its mean-pooled last hidden state. The judgment model's own
linear heads, calibration and thresholds for charges, articles and prison term
are trained on those features, so predictions carry the same calibrated
probabilities and are scored with the same metrics as the other kinds.

With ``training.seeds`` in the settings, one classifier is fine-tuned per seed,
and the features are the mean of the members' charge probabilities followed by
the mean of their pooled hidden states.

The saved model is self-contained: a peft adapter is merged (with the output
check of ``export.merge_checked``) and every weight is stored in the judgment
model's ``arrays.npz``, so loading needs neither the base model nor pickle.

Importing this module registers the kind with ``tianping.prediction``.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tianping.datasets.records import Case
from tianping.errors import InvalidInputError, require
from tianping.prediction.model import JudgmentModel, register_kind

ARRAY_PREFIX = "finetune/"


def _array_prefix(member: int) -> str:
    """Return the key prefix of a member's weights: ``finetune/`` for the first, ``finetune-N/`` after it."""
    return ARRAY_PREFIX if member == 0 else f"finetune-{member}/"

# Settings of the fine-tuning run; task, data and output_dir are set by the featurizer.
DEFAULT_SETTINGS = {
    "model": {"max_length": 256},
    "method": {"name": "lora"},
    "training": {"epochs": 2.0, "batch_size": 8, "learning_rate": 2e-4, "eval_steps": 50, "save_steps": 50},
}


class FinetuneFeaturizer:
    """Features from a transformer fine-tuned on the training facts' charges."""

    kind = "finetune"

    def __init__(self, **settings):
        from tianping.finetune.config import merge_sections

        self.settings = merge_sections(DEFAULT_SETTINGS, settings)
        for key in ("task", "data", "output_dir"):
            if key in self.settings:
                raise InvalidInputError(f"featurizer 设置中不能包含 {key}", hint="任务、数据和输出目录由判决预测模型决定")
        self.models: list = []

    @property
    def model(self):
        """The first fine-tuned model (the only one without ``training.seeds``)."""
        return self.models[0] if self.models else None

    def config(self) -> dict:
        return self.settings

    def fit(self, texts: Sequence[str], charge_sets: Sequence[Sequence[str]], progress: bool = False) -> None:
        """Fine-tune a multi-label charge classifier on ``texts`` and keep it (merged) in memory."""
        from tianping.finetune import engine
        from tianping.finetune.config import parse_config
        from tianping.finetune.export import merge_checked
        from tianping.finetune.inference import FinetunedModel, member_dirs

        with tempfile.TemporaryDirectory(prefix="tianping-finetune-") as work:
            train_path = Path(work) / "train.jsonl"
            with open(train_path, "w", encoding="utf-8") as handle:
                for text, charges in zip(texts, charge_sets):
                    handle.write(json.dumps({"text": text, "labels": list(charges)}, ensure_ascii=False) + "\n")
            raw = {**self.settings, "task": "multilabel", "output_dir": str(Path(work) / "run"),
                   "data": {"train": str(train_path), "label_field": "labels", "valid_fraction": 0.1}}
            config = parse_config(raw)
            engine.run(config, progress=progress)
            self.models = []
            for directory in member_dirs(config.output_dir):
                model = FinetunedModel.load(directory)
                if model.is_adapter:
                    model, _ = merge_checked(model, list(texts[:8]))
                self.models.append(model)

    def transform(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Return, per text, the charge probabilities followed by the mean-pooled last hidden state.

        With several members both parts are the mean over the members.
        """
        if not self.models:
            raise InvalidInputError("微调特征器尚未训练", hint="请先调用 fit")
        return np.mean([self._member_features(model, texts, batch_size) for model in self.models],
                       axis=0).astype(np.float32)

    @staticmethod
    def _member_features(model, texts: Sequence[str], batch_size: int) -> np.ndarray:
        torch = require("torch", "finetune")
        rows = []
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                encoded = model.batch(list(texts[start:start + batch_size]))
                output = model.model(**encoded, output_hidden_states=True)
                mask = encoded["attention_mask"].unsqueeze(-1).float()
                pooled = (output.hidden_states[-1].float() * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                probabilities = torch.sigmoid(output.logits.float())
                rows.append(torch.cat([probabilities, pooled], dim=1).numpy())
        return np.concatenate(rows, axis=0)

    def feature_names(self) -> list[str] | None:
        return None

    # ------------------------------------------------------------ storage

    def state(self) -> tuple[dict, dict]:
        """Return the configuration, tokenizer files (base64) and weights as arrays, without pickle."""
        with tempfile.TemporaryDirectory() as work:
            self.model.tokenizer.save_pretrained(work)
            files = {path.name: base64.b64encode(path.read_bytes()).decode("ascii")
                     for path in Path(work).iterdir() if path.is_file()}
        meta = {"config": self.settings, "model_config": self.model.model.config.to_dict(),
                "space": self.model.space.to_dict(), "run_config": self.model.config.to_dict(),
                "tokenizer_files": files, "members": len(self.models)}
        arrays = {}
        for member, model in enumerate(self.models):
            arrays.update({_array_prefix(member) + name: tensor.detach().float().numpy()
                           for name, tensor in model.model.state_dict().items()})
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> FinetuneFeaturizer:
        transformers = require("transformers", "finetune")
        torch = require("torch", "finetune")
        from tianping.finetune.config import parse_config
        from tianping.finetune.data import TaskSpace
        from tianping.finetune.inference import FinetunedModel

        featurizer = cls(**meta["config"])
        model_config = dict(meta["model_config"])
        config = transformers.AutoConfig.for_model(model_config.pop("model_type"), **model_config)
        with tempfile.TemporaryDirectory() as work:
            for name, content in meta["tokenizer_files"].items():
                (Path(work) / Path(name).name).write_bytes(base64.b64decode(content))
            tokenizer = transformers.AutoTokenizer.from_pretrained(work, local_files_only=True)
        space = TaskSpace.from_dict(meta["space"])
        run_config = parse_config(meta["run_config"], for_training=False)
        featurizer.models = []
        for member in range(int(meta.get("members", 1))):
            prefix = _array_prefix(member)
            model = transformers.AutoModelForSequenceClassification.from_config(config)
            weights = {name[len(prefix):]: torch.from_numpy(np.array(value))
                       for name, value in arrays.items() if name.startswith(prefix)}
            missing, unexpected = model.load_state_dict(weights, strict=False)
            if unexpected or [name for name in missing if not name.endswith("position_ids")]:
                raise InvalidInputError(f"微调模型权重不完整：缺少 {missing[:3]}，多余 {unexpected[:3]}",
                                        code="model_corrupt", hint="请重新训练模型")
            featurizer.models.append(FinetunedModel(model, tokenizer, space, run_config))
        return featurizer


class FinetuneJudgmentModel(JudgmentModel):
    """Judgment prediction on features of a transformer fine-tuned on the training charges."""

    kind = "finetune"
    featurizer_class = FinetuneFeaturizer

    def __init__(self, **settings):
        settings.setdefault("C", 1.0)
        super().__init__(**settings)
        self._training_cases: list[Case] = []

    def fit(self, train: Sequence[Case], valid: Sequence[Case] | None = None, progress_factory=None,
            extra_charges: Sequence[str] = (), extra_articles: Sequence[int] = ()) -> FinetuneJudgmentModel:
        # The featurizer needs the charges, which JudgmentModel.fit passes on as texts only.
        self._training_cases = list(train)
        try:
            return super().fit(train, valid, progress_factory, extra_charges, extra_articles)
        finally:
            self._training_cases = []

    def _fit_features(self, texts: list[str], progress_factory):
        self.featurizer.fit(texts, [case.charges for case in self._training_cases],
                            progress=progress_factory is not None)
        return self.featurizer.transform(texts)


register_kind(FinetuneJudgmentModel)
