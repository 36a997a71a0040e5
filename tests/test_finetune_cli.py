"""``tianping finetune``: check, run, resume, predict and export from the command line."""

import json

import pytest
from click.testing import CliRunner

from finetune_helpers import base_config, build_bert, make_cases, write_jsonl
from tianping.cli.main import cli


@pytest.fixture()
def config_file(tmp_path):
    pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
    pytest.importorskip("peft", reason="needs the finetune extra: pip install 'tianping[finetune]'")
    model_dir = build_bert(tmp_path / "bert")
    train = write_jsonl(tmp_path / "train.jsonl", make_cases(32, 1))
    valid = write_jsonl(tmp_path / "valid.jsonl", make_cases(8, 2))
    config = base_config(model_dir, tmp_path / "run", train, valid, method={"name": "lora"},
                         training={"max_steps": 4, "eval_steps": 2, "save_steps": 2})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_check_rejects_bad_config(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"task": "classification", "output_dir": "x", "data": {"train": "t.jsonl"},
                                "method": {"name": "qlora"}}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["finetune", "check", str(path)])
    assert result.exit_code == 2
    assert "method.name" in result.output
    assert "lora" in result.output


def test_check_json_error_shape(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"task": "ner"}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["finetune", "check", str(path), "--json"])
    assert result.exit_code == 2


def test_run_predict_export(config_file, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["finetune", "run", str(config_file), "--json", "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["steps"] == 4
    assert summary["method"] == "lora"

    texts = tmp_path / "texts.txt"
    texts.write_text("被告人醉酒驾驶机动车\n被告人秘密窃取超市商品\n", encoding="utf-8")
    result = runner.invoke(cli, ["finetune", "predict", str(tmp_path / "run"), str(texts), "--json"])
    assert result.exit_code == 0, result.output
    predictions = json.loads(result.output[result.output.index("["):])
    assert len(predictions) == 2

    result = runner.invoke(cli, ["finetune", "export", str(tmp_path / "run"), "--merge"])
    assert result.exit_code == 0, result.output
    assert "合并模型已写出" in result.output
    result = runner.invoke(cli, ["finetune", "export", str(tmp_path / "run"), "--merge"])
    assert result.exit_code == 2
    assert "--overwrite" in result.output

    result = runner.invoke(cli, ["finetune", "resume", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "从检查点续训" in result.output


def test_export_needs_a_kind(tmp_path):
    result = CliRunner().invoke(cli, ["finetune", "export", str(tmp_path)])
    assert result.exit_code == 2
    assert "--merge" in result.output
