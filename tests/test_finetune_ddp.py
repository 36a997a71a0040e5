"""Two CPU processes under torchrun (DDP, gloo backend, rendezvous on 127.0.0.1) train one tiny model."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_helpers import base_config, build_bert, make_cases, write_jsonl

pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
pytest.importorskip("transformers", reason="needs the finetune extra: pip install 'tianping[finetune]'")

REPOSITORY = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_two_process_gloo_run(tmp_path):
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    if not Path(torchrun).exists():
        pytest.skip("torchrun is not installed")
    model_dir = build_bert(tmp_path / "bert")
    train = write_jsonl(tmp_path / "train.jsonl", make_cases(32, 1))
    valid = write_jsonl(tmp_path / "valid.jsonl", make_cases(8, 2))
    config = base_config(model_dir, tmp_path / "run", train, valid, method={"name": "lora"},
                         training={"max_steps": 4, "eval_steps": 2, "save_steps": 2, "batch_size": 4})
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "OMP_NUM_THREADS": "1",
                   "GLOO_SOCKET_IFNAME": "lo"}
    command = [torchrun, "--nnodes=1", "--nproc-per-node=2", "--master-addr=127.0.0.1",
               f"--master-port={_free_port()}", "-m", "tianping.finetune", str(config_path), "--no-progress"]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    summaries = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 2
    assert {summary["steps"] for summary in summaries} == {4}
    # Both ranks evaluate the same validation set and end with the same weights.
    assert summaries[0]["final_metrics"]["loss"] == pytest.approx(summaries[1]["final_metrics"]["loss"], abs=1e-6)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    # Two processes with batch 4 each consume 8 of the 32 samples per optimiser step, so
    # 4 steps are one epoch. A single process would have seen half of the data.
    assert summary["epochs"] == pytest.approx(1.0)
    assert (tmp_path / "run" / "model" / "adapter_config.json").is_file()
