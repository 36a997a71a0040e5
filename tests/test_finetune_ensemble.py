"""Several seeds from one configuration, and predictions averaged over their runs."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from finetune_helpers import base_config, build_bert, make_cases, write_jsonl
from tianping.cli.main import cli
from tianping.errors import InvalidInputError
from tianping.finetune.config import parse_config


def _raw(**training):
    return {"task": "classification", "output_dir": "runs/x", "data": {"train": "train.jsonl"},
            "training": training}


@pytest.mark.parametrize("seeds, message", [
    ([1], "至少需要 2 个种子"),
    ([1, 1], "重复"),
    ([1, "2"], "整数列表"),
    ([1, True], "整数列表"),
    ([1, -2], "超出范围"),
])
def test_seeds_validation(seeds, message):
    with pytest.raises(InvalidInputError) as caught:
        parse_config(_raw(seeds=seeds))
    assert "training.seeds" in str(caught.value)
    assert message in str(caught.value)


def test_seeds_rejected_for_sft():
    raw = _raw(seeds=[1, 2])
    raw["task"] = "sft"
    with pytest.raises(InvalidInputError) as caught:
        parse_config(raw)
    assert "training.seeds" in str(caught.value)


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
    pytest.importorskip("peft", reason="needs the finetune extra: pip install 'tianping[finetune]'")
    from tianping.finetune import engine

    tmp_path = tmp_path_factory.mktemp("ensemble")
    model_dir = build_bert(tmp_path / "bert")
    train = write_jsonl(tmp_path / "train.jsonl", make_cases(32, 1))
    valid = write_jsonl(tmp_path / "valid.jsonl", make_cases(9, 2))
    run_dir = tmp_path / "run"
    raw = base_config(model_dir, run_dir, train, valid, method={"name": "lora"},
                      training={"max_steps": 4, "eval_steps": 2, "save_steps": 2, "seeds": [3, 5]})
    summary = engine.run(parse_config(raw), progress=False)
    return run_dir, summary, tmp_path


TEXTS = ["被告人醉酒驾驶机动车在道路上行驶", "被告人秘密窃取超市商品", "被告人虚构事实骗取被害人钱款"]


def test_ensemble_averages_member_probabilities(ensemble_run):
    from tianping.finetune.inference import EnsembleModel, FinetunedModel, load_predictor

    run_dir, summary, _ = ensemble_run
    assert json.loads((run_dir / "ensemble.json").read_text(encoding="utf-8"))["members"] == ["seed-3", "seed-5"]
    assert [member["run_dir"] for member in summary["members"]] == [str(run_dir / "seed-3"), str(run_dir / "seed-5")]
    assert json.loads((run_dir / "seed-5" / "config.json").read_text(encoding="utf-8"))["training"]["seed"] == 5

    members = [FinetunedModel.load(run_dir / "seed-3"), FinetunedModel.load(run_dir / "seed-5")]
    individual = [member.probabilities(TEXTS) for member in members]
    assert not np.allclose(individual[0], individual[1], atol=1e-4)
    expected = (individual[0] + individual[1]) / 2

    ensemble = load_predictor(run_dir)
    assert isinstance(ensemble, EnsembleModel)
    np.testing.assert_allclose(ensemble.probabilities(TEXTS), expected, rtol=0, atol=1e-6)
    from_dirs = EnsembleModel.load(run_dir / "seed-3", run_dir / "seed-5")
    np.testing.assert_allclose(from_dirs.probabilities(TEXTS), expected, rtol=0, atol=1e-6)
    labels = [ensemble.space.labels[int(np.argmax(row))] for row in expected]
    assert [item["label"] for item in ensemble.predict(TEXTS)] == labels


def test_ensemble_summary_scores_averaged_predictions(ensemble_run):
    from tianping.finetune.inference import EnsembleModel
    from tianping.finetune.trainer import classification_metrics

    run_dir, summary, tmp_path = ensemble_run
    cases = make_cases(9, 2)
    model = EnsembleModel.load(run_dir)
    probabilities = model.probabilities([case["text"] for case in cases])
    gold = np.array([model.space.labels.index(case["label"]) for case in cases])
    expected = classification_metrics(np.argmax(probabilities, axis=-1), gold, len(model.space.labels))
    assert summary["final_metrics"] == pytest.approx(expected, abs=1e-9)
    assert json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["seeds"] == [3, 5]


def test_cli_predict_averages_run_dirs(ensemble_run):
    from tianping.finetune.inference import EnsembleModel

    run_dir, _, tmp_path = ensemble_run
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    expected = EnsembleModel.load(run_dir).probabilities(TEXTS)
    runner = CliRunner()
    for arguments in ([str(run_dir)], [str(run_dir / "seed-3"), str(run_dir / "seed-5")]):
        result = runner.invoke(cli, ["finetune", "predict", *arguments, str(texts), "--json"])
        assert result.exit_code == 0, result.output
        predictions = json.loads(result.output[result.output.index("["):])
        assert [item["text"] for item in predictions] == TEXTS
        for row, item in zip(expected, predictions):
            # The CLI rounds probabilities to 6 decimals.
            assert [item["probabilities"][label] for label in EnsembleModel.load(run_dir).space.labels] == \
                pytest.approx(row.tolist(), abs=1e-6)


def test_resume_skips_finished_members(ensemble_run):
    from tianping.finetune import engine

    run_dir, summary, _ = ensemble_run
    before = (run_dir / "seed-3" / "summary.json").read_text(encoding="utf-8")
    resumed = engine.resume(run_dir, progress=False)
    assert (run_dir / "seed-3" / "summary.json").read_text(encoding="utf-8") == before
    assert resumed["final_metrics"] == summary["final_metrics"]


def test_regression_ensemble_averages_values(tmp_path):
    pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
    from tianping.finetune import engine
    from tianping.finetune.inference import FinetunedModel, load_predictor

    model_dir = build_bert(tmp_path / "bert")
    cases = [{"text": case["text"], "label": case["months"]} for case in make_cases(24, 1)]
    train = write_jsonl(tmp_path / "train.jsonl", cases)
    valid = write_jsonl(tmp_path / "valid.jsonl", cases[:6])
    raw = base_config(model_dir, tmp_path / "run", train, valid, task="regression", method={"name": "full"},
                      training={"max_steps": 2, "eval_steps": 2, "save_steps": 2, "seeds": [1, 2]})
    engine.run(parse_config(raw), progress=False)
    values = [FinetunedModel.load(tmp_path / "run" / name).values(TEXTS) for name in ("seed-1", "seed-2")]
    averaged = load_predictor(tmp_path / "run").values(TEXTS)
    np.testing.assert_allclose(averaged, (values[0] + values[1]) / 2, rtol=0, atol=1e-6)
