"""Validation of fine-tuning configurations: every error names the field and what it accepts."""

import json

import pytest

from tianping.errors import InvalidInputError, NotFoundError
from tianping.finetune import load_config, parse_config

VALID = {"task": "classification", "output_dir": "runs/x", "model": {"path": "models/bert"},
         "data": {"train": "train.jsonl"}}


def _with(**changes) -> dict:
    config = json.loads(json.dumps(VALID))
    for dotted, value in changes.items():
        target = config
        parts = dotted.split("__")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return config


def test_minimal_config_defaults():
    config = parse_config(VALID)
    assert config.method.name == "full"
    assert config.training.scheduler == "linear"
    assert config.metric_name == "accuracy"


@pytest.mark.parametrize("changes,field,allowed", [
    ({"task": "ner"}, "task", "classification, multilabel, regression, sft"),
    ({"method__name": "qlora"}, "method.name", "full, freeze, lora, adalora, ia3, prefix, prompt"),
    ({"training__scheduler": "step"}, "training.scheduler", "linear, cosine, constant"),
    ({"training__mixed_precision": "fp8"}, "training.mixed_precision", "auto, no, fp16, bf16"),
    ({"adversarial__method": "fgsm"}, "adversarial.method", "none, fgm, pgd"),
])
def test_bad_choice_names_field_and_values(changes, field, allowed):
    with pytest.raises(InvalidInputError) as error:
        parse_config(_with(**changes))
    assert field in str(error.value)
    assert allowed in str(error.value)
    assert error.value.code == "invalid_config"


def test_unknown_key_lists_allowed_fields():
    with pytest.raises(InvalidInputError) as error:
        parse_config(_with(training__lr=0.1))
    assert "training.lr" in str(error.value)
    assert "learning_rate" in str(error.value)


def test_unknown_top_level_key():
    with pytest.raises(InvalidInputError) as error:
        parse_config({**VALID, "optimizer": "sgd"})
    assert "optimizer" in str(error.value)
    assert "training" in str(error.value)


@pytest.mark.parametrize("changes,field", [
    ({"training__learning_rate": -1.0}, "training.learning_rate"),
    ({"training__batch_size": 0}, "training.batch_size"),
    ({"method__lora__r": 0}, "method.lora.r"),
    ({"training__warmup_ratio": 1.5}, "training.warmup_ratio"),
    ({"augment__synonym_probability": 2.0}, "augment.synonym_probability"),
])
def test_out_of_range_names_field(changes, field):
    with pytest.raises(InvalidInputError) as error:
        parse_config(_with(**changes))
    assert field in str(error.value)
    assert "范围" in str(error.value)


@pytest.mark.parametrize("changes,field", [
    ({"training__batch_size": "8"}, "training.batch_size"),
    ({"training__batch_size": True}, "training.batch_size"),
    ({"training__gradient_checkpointing": "yes"}, "training.gradient_checkpointing"),
    ({"method__lora__target_modules": "query"}, "method.lora.target_modules"),
    ({"model": "bert"}, "model"),
])
def test_wrong_type_names_field(changes, field):
    with pytest.raises(InvalidInputError) as error:
        parse_config(_with(**changes))
    assert field in str(error.value)


def test_metric_must_fit_task():
    with pytest.raises(InvalidInputError) as error:
        parse_config(_with(task="regression", training__metric="accuracy"))
    assert "training.metric" in str(error.value)
    assert "mae, rmse, loss" in str(error.value)


def test_save_steps_multiple_of_eval_steps():
    with pytest.raises(InvalidInputError) as error:
        parse_config(_with(training__eval_steps=3, training__save_steps=4))
    assert "training.save_steps" in str(error.value)


def test_missing_train_and_output_dir():
    with pytest.raises(InvalidInputError) as error:
        parse_config({"task": "sft", "output_dir": "runs/x"})
    assert "data.train" in str(error.value)
    with pytest.raises(InvalidInputError) as error:
        parse_config({"data": {"train": "t.jsonl"}})
    assert "output_dir" in str(error.value)


def test_adversarial_with_prompt_tuning_rejected():
    with pytest.raises(InvalidInputError) as error:
        parse_config(_with(method__name="prompt", adversarial__method="fgm"))
    assert "adversarial.method" in str(error.value)


def test_yaml_and_json_files(tmp_path):
    yaml = pytest.importorskip("yaml")
    yaml_path = tmp_path / "run.yaml"
    yaml_path.write_text(yaml.safe_dump(_with(method__name="lora")), encoding="utf-8")
    assert load_config(yaml_path).method.name == "lora"
    json_path = tmp_path / "run.json"
    json_path.write_text("{broken", encoding="utf-8")
    with pytest.raises(InvalidInputError) as error:
        load_config(json_path)
    assert f"JSON 格式错误：{json_path} 第 1 行第 2 列字段名应写在双引号中" in str(error.value)
    with pytest.raises(NotFoundError):
        load_config(tmp_path / "missing.json")


def test_overrides_are_validated():
    config = load_config(VALID, {"training": {"max_steps": 7}})
    assert config.training.max_steps == 7
    with pytest.raises(InvalidInputError):
        load_config(VALID, {"training": {"max_steps": -5}})


def test_saved_config_round_trips(tmp_path):
    config = parse_config(_with(method__name="adalora", training__seed=3))
    path = config.save(tmp_path)
    assert load_config(path) == config


def test_validation_loads_no_torch():
    import subprocess
    import sys

    code = ("import sys, json; from tianping.finetune import parse_config; "
            f"parse_config(json.loads({json.dumps(json.dumps(VALID))})); "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "False"]


def test_synonym_replacement_is_seeded():
    import random

    from tianping.finetune.augment import augment_texts, replace_synonyms

    text = "被告人窃取被害人手机，经鉴定价值人民币三千元。"
    assert replace_synonyms(text, 0.0, random.Random(1)) == text
    replaced = replace_synonyms(text, 1.0, random.Random(1))
    assert "被告人" not in replaced
    assert "被害人" not in replaced
    assert augment_texts([text], 2, 0.5, seed=4) == augment_texts([text], 2, 0.5, seed=4)
