"""``tianping predict`` commands: train, evaluate and case, with their JSON output and errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from test_prediction import NEW_FACTS, _cases
from tianping.cli.main import cli


def _case_record(case) -> dict:
    return {"fact": case.fact, "meta": {"accusation": case.charges, "relevant_articles": case.articles,
                                        "term_of_imprisonment": {"imprisonment": case.term.months,
                                                                 "death_penalty": False,
                                                                 "life_imprisonment": False}}}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Write a training file with one bad record and train a model through the CLI once."""
    root = tmp_path_factory.mktemp("predict-cli")
    lines = [json.dumps(_case_record(case), ensure_ascii=False) for case in _cases()]
    lines.insert(3, '{"fact": "", "meta": {}}')
    (root / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "train", "--train", str(root / "train.jsonl"),
                                      "--out", str(root / "model"), "--json"])
    assert result.exit_code == 0, result.output
    return root, result


def test_train_reports_skipped_record(workspace):
    root, result = workspace
    summary = json.loads(result.stdout)
    assert summary["kind"] == "tfidf"
    assert summary["charges"] == 3
    assert summary["train_data"]["cases"] == 15
    assert summary["train_data"]["bad_records"][0]["line"] == 4
    assert "跳过 1 条" in result.stderr
    assert (root / "model" / "manifest.json").is_file()


def test_case_text_json(workspace):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(root / "model"),
                                      "--json", "--no-text"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["charges"][0]["name"] == "盗窃"
    assert payload["articles"][0]["article_number"] == 264
    assert set(payload["term"]) == {"months", "death_penalty", "life_imprisonment"}


def test_case_human_output_with_article_text(workspace):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[1], "--model", str(root / "model")])
    assert result.exit_code == 0, result.output
    assert "罪名：" in result.stdout
    assert "诈骗" in result.stdout
    assert "刑法第二百六十六条" in result.stdout
    # The default statute store supplies the article text.
    assert "诈骗公私财物" in result.stdout
    assert "刑期：" in result.stdout


def test_case_from_stdin_and_file(workspace):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", "-", "--model", str(root / "model"), "--json", "--no-text"],
                                input=NEW_FACTS[2])
    assert json.loads(result.stdout)["charges"][0]["name"] == "危险驾驶"
    fact_file = root / "fact.txt"
    fact_file.write_bytes(NEW_FACTS[1].encode("gb18030"))
    result = CliRunner().invoke(cli, ["predict", "case", str(fact_file), "--model", str(root / "model"),
                                      "--json", "--no-text"])
    assert json.loads(result.stdout)["charges"][0]["name"] == "诈骗"


def test_case_jsonl_one_object_per_line(workspace):
    root, _ = workspace
    source = root / "cases.jsonl"
    source.write_text(json.dumps({"fact": NEW_FACTS[0]}, ensure_ascii=False) + "\n{broken\n"
                      + json.dumps({"fact": NEW_FACTS[2]}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "case", str(source), "--model", str(root / "model"), "--no-text"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["line"] for row in rows] == [1, 2, 3]
    assert rows[0]["charges"][0]["name"] == "盗窃"
    assert rows[1]["error"]["code"] == "invalid_input"
    assert rows[2]["charges"][0]["name"] == "危险驾驶"
    assert "第 2 行" in result.stderr


def test_case_abstains_below_threshold(workspace):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(root / "model"),
                                      "--abstain-below", "1", "--no-text"])
    assert result.exit_code == 0
    assert "不作判断" in result.stdout
    assert "候选罪名" in result.stdout


def test_evaluate_writes_report(workspace):
    root, _ = workspace
    report_dir = root / "report"
    result = CliRunner().invoke(cli, ["predict", "evaluate", "--model", str(root / "model"),
                                      "--data", str(root / "train.jsonl"), "--report", str(report_dir), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["cases"] == 15
    assert payload["charges"]["cail_score"] == pytest.approx(100.0)
    assert (report_dir / "confusion.png").is_file()
    assert payload["files"]["report"] == str(report_dir / "report.json")
    human = CliRunner().invoke(cli, ["predict", "evaluate", "--model", str(root / "model"),
                                     "--data", str(root / "train.jsonl"), "--report", str(report_dir)])
    assert "CAIL 得分 100.00" in human.stdout
    assert payload["intervals"] is None
    confidence = payload["confidence"]
    assert confidence["correct"] == 1.0
    assert sum(entry["cases"] for entry in confidence["bins"]) == 15
    assert f"置信度：首位罪名正确 100.0%，平均置信度 {confidence['mean_confidence']:.2f}" in human.stdout


def test_evaluate_bootstrap_intervals(workspace):
    root, _ = workspace
    arguments = ["predict", "evaluate", "--model", str(root / "model"), "--data", str(root / "train.jsonl"),
                 "--report", str(root / "report"), "--bootstrap", "200"]
    result = CliRunner().invoke(cli, arguments + ["--json"])
    assert result.exit_code == 0, result.output
    intervals = json.loads(result.stdout)["intervals"]
    # The model gets every training case right, so every resample scores 100.
    assert intervals["charges"] == [100.0, 100.0]
    assert intervals["articles"] == [100.0, 100.0]
    assert intervals["term"][0] <= intervals["term"][1] <= 100.0
    human = CliRunner().invoke(cli, arguments)
    assert "95% 自助法区间（200 次重抽样）：罪名 100.00–100.00" in human.stdout
    bad = CliRunner().invoke(cli, arguments[:-1] + ["-5"])
    assert bad.exit_code == 2
    assert "--bootstrap" in bad.output


def test_empty_fact_is_an_error(workspace):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", "-", "--model", str(root / "model")], input="  \n")
    assert result.exit_code == 2
    assert "案情事实为空" in result.stderr
    assert "Traceback" not in result.output


def test_missing_and_corrupt_model_errors(workspace, tmp_path):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(tmp_path / "none")])
    assert result.exit_code == 3
    assert "模型目录不存在" in result.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("[]", encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(broken)])
    assert result.exit_code == 2
    assert "不是 tianping 判决预测模型" in result.stderr


def test_bad_field_mapping_is_an_error(workspace, tmp_path):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "train", "--train", str(root / "train.jsonl"),
                                      "--out", str(tmp_path / "m"), "--field", "fact"])
    assert result.exit_code == 2
    assert "--field" in result.stderr


def test_train_stops_on_bad_record_when_asked(workspace, tmp_path):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "train", "--train", str(root / "train.jsonl"),
                                      "--out", str(tmp_path / "m"), "--on-error", "raise"])
    assert result.exit_code == 2
    assert "第 4 行" in result.stderr
    assert not (tmp_path / "m").exists()


def test_case_long_text_argument(workspace):
    root, _ = workspace
    # Longer than any file name may be, so it cannot be mistaken for a path.
    fact = NEW_FACTS[1] + "被告人到案后如实供述了自己的罪行，并退赔了被害人的全部经济损失，取得了被害人的谅解。" * 3
    result = CliRunner().invoke(cli, ["predict", "case", fact, "--model", str(root / "model"), "--json", "--no-text"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["charges"][0]["name"] == "诈骗"
