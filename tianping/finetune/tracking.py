"""MLflow tracking of a fine-tuning run on a local store (a sqlite file or a folder), never a server.

The run's parameters (the configuration, flattened to dotted names), every
evaluation's metrics (the records of ``metrics.jsonl``, at their step), the
training loss and learning rate, and the final metrics (``final_`` prefix) are
logged with ``MlflowClient``. The MLflow run id is kept in ``RUN_DIR/mlflow.json``
so that a resumed run continues the same MLflow run.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from pathlib import Path

from tianping.errors import InvalidInputError
from tianping.finetune.config import RunConfig, is_local_tracking_uri

logger = logging.getLogger(__name__)

MLFLOW_STATE_NAME = "mlflow.json"
MLFLOW_DATABASE_NAME = "mlflow.db"
MLFLOW_ARTIFACTS_DIR = "mlflow-artifacts"
# MLflow rejects parameter values longer than this many characters.
MAX_PARAM_LENGTH = 6000


def _import_mlflow():
    """Import mlflow with its usage telemetry turned off, so it sends nothing over the network."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    try:
        import mlflow
    except ImportError:
        raise InvalidInputError("配置字段 tracking.mlflow 为 true，但没有安装 mlflow", code="invalid_config",
                                hint="请运行 pip install 'tianping[mlflow]'，或把 tracking.mlflow 设为 false") from None
    try:
        from mlflow.telemetry import set_telemetry_client
    except ImportError:
        # Releases without usage telemetry have nothing to turn off.
        return mlflow
    # mlflow 3.17 starts its telemetry client on import; this call re-reads the variables set above.
    set_telemetry_client()
    return mlflow


def tracking_uri(config: RunConfig, run_dir: Path) -> str:
    """Return the configured tracking URI, or ``sqlite:///RUN_DIR/mlflow.db``; a plain path becomes a ``file:`` URI."""
    uri = config.tracking.mlflow_tracking_uri
    if uri is None:
        return f"sqlite:///{(run_dir / MLFLOW_DATABASE_NAME).resolve()}"
    if not is_local_tracking_uri(uri):
        raise InvalidInputError(f"配置字段 tracking.mlflow_tracking_uri 的值无效：{uri!r}", code="invalid_config",
                                hint="允许的值为本地目录路径、file: URI 或 sqlite: URI")
    # A scheme has two or more letters; a single letter before the colon is a Windows drive.
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", uri) is None:
        return Path(uri).resolve().as_uri()
    return uri


def flatten(mapping: dict, prefix: str = "") -> dict:
    """Return nested mappings as one mapping with dotted keys."""
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


class MlflowTracker:
    """One MLflow run for one fine-tuning run directory (main process only)."""

    def __init__(self, config: RunConfig, run_dir: Path):
        mlflow = _import_mlflow()
        self.config = config
        self.run_dir = run_dir
        self.uri = tracking_uri(config, run_dir)
        self.client = mlflow.tracking.MlflowClient(tracking_uri=self.uri)
        self.entities = mlflow.entities
        self.run_id: str | None = None

    def start(self, resume: bool) -> str:
        """Create the MLflow run, or reopen the one recorded in the run directory when resuming."""
        state_path = self.run_dir / MLFLOW_STATE_NAME
        if resume and state_path.is_file():
            state = json.loads(state_path.read_text(encoding="utf-8"))
            if state.get("tracking_uri") == self.uri:
                self.run_id = state["run_id"]
                self.client.update_run(self.run_id, status="RUNNING")
                logger.info("continuing MLflow run %s in %s", self.run_id, self.uri)
                return self.run_id
        name = self.config.tracking.mlflow_experiment
        experiment = self.client.get_experiment_by_name(name)
        if experiment is None:
            artifacts = (self.run_dir / MLFLOW_ARTIFACTS_DIR).resolve().as_uri()
            experiment_id = self.client.create_experiment(name, artifact_location=artifacts)
        else:
            experiment_id = experiment.experiment_id
        run_name = self.config.tracking.mlflow_run_name or self.run_dir.resolve().name
        run = self.client.create_run(experiment_id, run_name=run_name)
        self.run_id = run.info.run_id
        state_path.write_text(json.dumps({"tracking_uri": self.uri, "experiment_id": experiment_id,
                                          "run_id": self.run_id}, indent=1), encoding="utf-8")
        self.log_params(flatten(self.config.to_dict()))
        logger.info("MLflow run %s in %s", self.run_id, self.uri)
        return self.run_id

    def log_params(self, params: dict) -> None:
        entries = [self.entities.Param(key, str(value)[:MAX_PARAM_LENGTH]) for key, value in sorted(params.items())]
        # log_batch takes at most 100 parameters per call.
        for start in range(0, len(entries), 100):
            self.client.log_batch(self.run_id, params=entries[start:start + 100])

    def log_metrics(self, metrics: dict, step: int, prefix: str = "") -> None:
        timestamp = int(time.time() * 1000)
        entries = [self.entities.Metric(prefix + key, float(value), timestamp, step)
                   for key, value in metrics.items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)]
        if entries:
            self.client.log_batch(self.run_id, metrics=entries)

    def finish(self, status: str = "FINISHED") -> None:
        if self.run_id is not None:
            self.client.set_terminated(self.run_id, status=status)


def mlflow_callback(tracker: MlflowTracker):
    """Return a ``TrainerCallback`` that logs evaluations and training logs to ``tracker``."""
    import transformers

    from tianping.finetune.trainer import evaluation_record

    class MlflowCallback(transformers.TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if not state.is_world_process_zero or not metrics:
                return
            record = evaluation_record(args, state, metrics)
            step = record.pop("step")
            tracker.log_metrics(record, step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs:
                return
            training = {key: value for key, value in logs.items()
                        if key in ("loss", "learning_rate", "grad_norm")}
            tracker.log_metrics(training, state.global_step, prefix="train_")

    return MlflowCallback()
