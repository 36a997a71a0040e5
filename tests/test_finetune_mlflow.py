"""MLflow tracking to a local sqlite store: parameters, every evaluation and the final metrics."""

import json

import pytest

from finetune_helpers import base_config, build_bert, make_cases, write_jsonl
from tianping.errors import InvalidInputError
from tianping.finetune import config as config_module
from tianping.finetune.config import parse_config


def _minimal(**sections):
    raw = {"task": "classification", "output_dir": "runs/x", "data": {"train": "train.jsonl"}}
    raw.update(sections)
    return raw


@pytest.mark.parametrize("uri", ["http://127.0.0.1:5000", "https://127.0.0.1:5000/", "databricks://profile",
                                 "file://127.0.0.2/runs", "sqlite://127.0.0.2/runs.db", ""])
def test_tracking_uri_rejects_servers(uri):
    with pytest.raises(InvalidInputError) as caught:
        parse_config(_minimal(tracking={"mlflow": True, "mlflow_tracking_uri": uri}), for_training=False)
    assert "tracking.mlflow_tracking_uri" in str(caught.value)
    assert "sqlite:" in caught.value.hint


@pytest.mark.parametrize("uri", ["runs/mlruns", "/tmp/mlruns", "file:///tmp/mlruns", "sqlite:///runs/mlflow.db",
                                 "sqlite:////tmp/mlflow.db", "file://localhost/tmp/mlruns", "C:/mlruns"])
def test_tracking_uri_accepts_local_stores(uri):
    config = parse_config(_minimal(tracking={"mlflow": True, "mlflow_tracking_uri": uri}), for_training=False)
    assert config.tracking.mlflow_tracking_uri == uri


def test_missing_mlflow_names_the_extra(monkeypatch):
    real_find_spec = config_module.importlib.util.find_spec
    monkeypatch.setattr(config_module.importlib.util, "find_spec",
                        lambda name, *args: None if name == "mlflow" else real_find_spec(name, *args))
    with pytest.raises(InvalidInputError) as caught:
        parse_config(_minimal(tracking={"mlflow": True}))
    assert "没有安装 mlflow" in str(caught.value)
    assert "pip install 'tianping[mlflow]'" in caught.value.hint
    # A finished run's configuration still loads for prediction without mlflow.
    assert parse_config(_minimal(tracking={"mlflow": True}), for_training=False).tracking.mlflow is True


def test_run_logs_to_local_store(tmp_path):
    pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
    pytest.importorskip("transformers", reason="needs the finetune extra: pip install 'tianping[finetune]'")
    mlflow = pytest.importorskip("mlflow", reason="needs the mlflow extra: pip install 'tianping[mlflow]'")
    from tianping.finetune import engine
    from tianping.finetune.tracking import MLFLOW_STATE_NAME

    model_dir = build_bert(tmp_path / "bert")
    train = write_jsonl(tmp_path / "train.jsonl", make_cases(32, 1))
    valid = write_jsonl(tmp_path / "valid.jsonl", make_cases(8, 2))
    run_dir = tmp_path / "run"
    raw = base_config(model_dir, run_dir, train, valid, method={"name": "lora"},
                      training={"max_steps": 6, "eval_steps": 3, "save_steps": 3},
                      tracking={"mlflow": True, "mlflow_experiment": "charges"})
    summary = engine.run(parse_config(raw), progress=False)

    from mlflow.telemetry.client import get_telemetry_client

    assert get_telemetry_client() is None
    state = json.loads((run_dir / MLFLOW_STATE_NAME).read_text(encoding="utf-8"))
    assert state["tracking_uri"] == f"sqlite:///{(run_dir / 'mlflow.db').resolve()}"
    client = mlflow.tracking.MlflowClient(tracking_uri=state["tracking_uri"])
    run = client.get_run(state["run_id"])
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "charges"
    assert run.data.params["method.name"] == "lora"
    assert run.data.params["training.max_steps"] == "6"
    assert run.data.params["training.seed"] == "7"

    records = engine.read_metrics(run_dir)
    assert [record["step"] for record in records] == [3, 6, 6]
    for key in ("loss", "accuracy", "macro_f1", "epoch"):
        history = sorted((metric.step, metric.value) for metric in client.get_metric_history(run.info.run_id, key))
        assert history == sorted((record["step"], record[key]) for record in records), key

    for key in ("loss", "accuracy", "macro_f1"):
        final = client.get_metric_history(run.info.run_id, "final_" + key)
        assert [(metric.step, metric.value) for metric in final] == [(6, summary["final_metrics"][key])]
    assert client.get_metric_history(run.info.run_id, "train_loss")
