"""A run killed with SIGKILL mid-way and resumed ends with the metrics of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from finetune_helpers import base_config, build_bert, make_cases, write_jsonl

pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
pytest.importorskip("transformers", reason="needs the finetune extra: pip install 'tianping[finetune]'")
pytest.importorskip("peft", reason="needs the finetune extra: pip install 'tianping[finetune]'")

REPOSITORY = Path(__file__).resolve().parent.parent

# Runs the engine with a pause after every optimiser step, so the test can kill the
# process after the first checkpoint and before the end.
RUNNER = """
import sys, time
from tianping.finetune import engine, load_config
from tianping.finetune.trainer import FinetuneTrainer

original = FinetuneTrainer.training_step
def slow_step(self, *args, **kwargs):
    loss = original(self, *args, **kwargs)
    time.sleep(float(sys.argv[3]))
    return loss
FinetuneTrainer.training_step = slow_step
if sys.argv[1] == "run":
    engine.run(load_config(sys.argv[2]), progress=False)
else:
    engine.resume(sys.argv[2], progress=False)
"""


def _launch(tmp_path, action, target, pause):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    return subprocess.Popen([sys.executable, str(script), action, str(target), str(pause)], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _stable(metrics: dict) -> dict:
    return {key: value for key, value in metrics.items()
            if key not in ("runtime", "samples_per_second", "steps_per_second")}


@pytest.mark.parametrize("method", ["lora", "adalora", pytest.param("full", marks=pytest.mark.slow)])
def test_resume_after_sigkill_matches(tmp_path, method):
    model_dir = build_bert(tmp_path / "bert")
    train = write_jsonl(tmp_path / "train.jsonl", make_cases(48, 1))
    valid = write_jsonl(tmp_path / "valid.jsonl", make_cases(12, 2))
    training = {"max_steps": 12, "eval_steps": 3, "save_steps": 3, "logging_steps": 3, "save_total_limit": 5}
    if method == "adalora":
        # At this rate the rank pattern of a resumed run that lost the importance estimates
        # differs from the uninterrupted run's, so the checks below see a missing restore.
        training["learning_rate"] = 5e-2
    configs = {}
    for name in ("killed", "whole"):
        config = base_config(model_dir, tmp_path / name, train, valid, method={"name": method}, training=training,
                             adversarial={"method": "fgm"}, model={"path": str(model_dir), "max_length": 64,
                                                                    "dropout": 0.2})
        configs[name] = tmp_path / f"{name}.json"
        configs[name].write_text(json.dumps(config), encoding="utf-8")

    process = _launch(tmp_path, "run", configs["killed"], 0.4)
    checkpoint = tmp_path / "killed" / "checkpoints" / "checkpoint-6" / "trainer_state.json"
    deadline = time.monotonic() + 120
    while not checkpoint.is_file():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed" / "summary.json").exists()

    resumed = _launch(tmp_path, "resume", tmp_path / "killed", 0.0)
    _, errors = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, errors
    whole = _launch(tmp_path, "run", configs["whole"], 0.0)
    _, errors = whole.communicate(timeout=300)
    assert whole.returncode == 0, errors

    killed_summary = json.loads((tmp_path / "killed" / "summary.json").read_text(encoding="utf-8"))
    whole_summary = json.loads((tmp_path / "whole" / "summary.json").read_text(encoding="utf-8"))
    assert killed_summary["resumed_from"].endswith("checkpoint-6") or killed_summary["resumed_from"].endswith(
        "checkpoint-9")
    assert killed_summary["steps"] == whole_summary["steps"] == 12
    assert _stable(killed_summary["final_metrics"]) == pytest.approx(_stable(whole_summary["final_metrics"]),
                                                                     abs=1e-6)
    killed_log = [_stable(record) for record in
                  map(json.loads, (tmp_path / "killed" / "metrics.jsonl").read_text(encoding="utf-8").splitlines())]
    whole_log = [_stable(record) for record in
                 map(json.loads, (tmp_path / "whole" / "metrics.jsonl").read_text(encoding="utf-8").splitlines())]
    assert [record["step"] for record in killed_log] == [record["step"] for record in whole_log]
    for killed_record, whole_record in zip(killed_log, whole_log):
        assert killed_record == pytest.approx(whole_record, abs=1e-6)
    if method == "adalora":
        # The ranks AdaLoRA kept are part of the final adapter's configuration.
        killed_adapter = json.loads((tmp_path / "killed" / "model" / "adapter_config.json").read_text(encoding="utf-8"))
        whole_adapter = json.loads((tmp_path / "whole" / "model" / "adapter_config.json").read_text(encoding="utf-8"))
        assert killed_adapter["rank_pattern"] == whole_adapter["rank_pattern"]
        assert any(not all(kept) for kept in whole_adapter["rank_pattern"].values())
        from safetensors.numpy import load_file

        killed_weights = load_file(str(tmp_path / "killed" / "model" / "adapter_model.safetensors"))
        whole_weights = load_file(str(tmp_path / "whole" / "model" / "adapter_model.safetensors"))
        assert sorted(killed_weights) == sorted(whole_weights)
        for name, value in whole_weights.items():
            assert killed_weights[name].shape == value.shape, name
            assert np.allclose(killed_weights[name], value, rtol=0, atol=1e-6), name
