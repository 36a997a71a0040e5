"""The fine-tuned transformer behind the judgment-prediction interface: fit, predict, save, load."""

import numpy as np
import pytest

from finetune_helpers import build_bert, make_cases

pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
pytest.importorskip("transformers", reason="needs the finetune extra: pip install 'tianping[finetune]'")
pytest.importorskip("peft", reason="needs the finetune extra: pip install 'tianping[finetune]'")
pytest.importorskip("sklearn", reason="needs the predict extra: pip install 'tianping[predict]'")

from tianping.datasets.records import Case, Term  # noqa: E402
from tianping.prediction.model import create_model, load_model  # noqa: E402

ARTICLES = {"盗窃": 264, "诈骗": 266, "危险驾驶": 133}


def _cases(count, seed):
    return [Case(fact=case["text"], charges=case["labels"], articles=[ARTICLES[name] for name in case["labels"]],
                 term=Term(months=case["months"]), line=index + 1)
            for index, case in enumerate(make_cases(count, seed))]


def test_finetune_kind_fit_save_load(tmp_path):
    import tianping.finetune.judgment  # noqa: F401  (registers the kind)

    model_dir = build_bert(tmp_path / "bert")
    settings = {"model": {"path": str(model_dir), "max_length": 64},
                "method": {"name": "lora"},
                "training": {"max_steps": 4, "eval_steps": 2, "save_steps": 2, "learning_rate": 5e-3,
                             "mixed_precision": "no"}}
    model = create_model("finetune", featurizer=settings, folds=2)
    model.fit(_cases(36, 1), _cases(9, 2))
    facts = ["被告人醉酒驾驶机动车在道路上行驶", "被告人秘密窃取超市商品"]
    predictions = model.predict(facts, article_texts=False)
    assert len(predictions) == 2
    assert all(0.0 <= prediction.confidence <= 1.0 for prediction in predictions)
    assert predictions[0].term.months >= 0

    saved = model.save(tmp_path / "judgment")
    restored = load_model(saved)
    assert restored.kind == "finetune"
    before = model.probabilities(facts)
    after = restored.probabilities(facts)
    np.testing.assert_allclose(before.charges, after.charges, atol=1e-5)
    np.testing.assert_allclose(before.articles, after.articles, atol=1e-5)
    assert [term.months for term in before.terms] == [term.months for term in after.terms]


def test_finetune_kind_averages_seeds(tmp_path):
    import tianping.finetune.judgment  # noqa: F401  (registers the kind)

    model_dir = build_bert(tmp_path / "bert")
    settings = {"model": {"path": str(model_dir), "max_length": 64},
                "method": {"name": "lora"},
                "training": {"max_steps": 2, "eval_steps": 2, "save_steps": 2, "learning_rate": 5e-3,
                             "mixed_precision": "no", "seeds": [1, 2]}}
    model = create_model("finetune", featurizer=settings, folds=2)
    model.fit(_cases(30, 1), _cases(9, 2))
    featurizer = model.featurizer
    assert len(featurizer.models) == 2
    facts = ["被告人醉酒驾驶机动车在道路上行驶", "被告人秘密窃取超市商品"]
    members = [featurizer._member_features(member, facts, 16) for member in featurizer.models]
    assert not np.allclose(members[0], members[1], atol=1e-4)
    np.testing.assert_allclose(featurizer.transform(facts), (members[0] + members[1]) / 2, rtol=0, atol=1e-6)

    restored = load_model(model.save(tmp_path / "judgment"))
    assert len(restored.featurizer.models) == 2
    np.testing.assert_allclose(restored.featurizer.transform(facts), featurizer.transform(facts), rtol=0, atol=1e-5)
    np.testing.assert_allclose(restored.probabilities(facts).charges, model.probabilities(facts).charges, atol=1e-5)


def test_predict_cli_trains_finetune_kind(tmp_path):
    import json

    from click.testing import CliRunner

    from tianping.cli.main import cli

    model_dir = build_bert(tmp_path / "bert")
    settings = tmp_path / "finetune.yaml"
    settings.write_text(f"""model:
  path: {model_dir}
  max_length: 64
training:
  max_steps: 2
  eval_steps: 2
  save_steps: 2
  learning_rate: 0.005
  mixed_precision: "no"
""", encoding="utf-8")
    lines = []
    for case in _cases(30, 1):
        lines.append(json.dumps({"fact": case.fact, "meta": {
            "accusation": case.charges, "relevant_articles": case.articles,
            "term_of_imprisonment": {"imprisonment": case.term.months, "death_penalty": False,
                                     "life_imprisonment": False}}}, ensure_ascii=False))
    (tmp_path / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "train", "--train", str(tmp_path / "train.jsonl"),
                                      "--out", str(tmp_path / "model"), "--model", "finetune",
                                      "--finetune-config", str(settings), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kind"] == "finetune"
    assert load_model(tmp_path / "model").kind == "finetune"

    # The settings file belongs to the finetune kind only, and must be a mapping.
    wrong_kind = CliRunner().invoke(cli, ["predict", "train", "--train", str(tmp_path / "train.jsonl"),
                                          "--out", str(tmp_path / "other"), "--finetune-config", str(settings)])
    assert wrong_kind.exit_code != 0
    assert "--finetune-config 只用于 --model finetune" in wrong_kind.output
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    not_mapping = CliRunner().invoke(cli, ["predict", "train", "--train", str(tmp_path / "train.jsonl"),
                                           "--out", str(tmp_path / "other"), "--model", "finetune",
                                           "--finetune-config", str(tmp_path / "list.json")])
    assert not_mapping.exit_code != 0
    assert "顶层应是键值映射" in not_mapping.output
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    not_text = CliRunner().invoke(cli, ["predict", "train", "--train", str(tmp_path / "train.jsonl"),
                                        "--out", str(tmp_path / "other"), "--model", "finetune",
                                        "--finetune-config", str(tmp_path / "binary.json")])
    assert not_text.exit_code != 0
    assert "binary.json 不是 UTF-8 文本" in not_text.output
    assert "Traceback" not in not_text.output
    assert not (tmp_path / "other").exists()
