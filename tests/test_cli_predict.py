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
    assert "有 1 条有问题的记录，跳过（第 4 行" in result.stderr
    # Without a terminal, progress is a line per quarter: 3 charges fitted in 3 folds and once more.
    assert "罪名分类器：0/12\n" in result.stderr
    assert "罪名分类器：12/12\n" in result.stderr
    assert "刑期模型：4/4\n" in result.stderr
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
    source.write_text(json.dumps({"id": "c1", "fact": NEW_FACTS[0]}, ensure_ascii=False) + "\n{broken\n"
                      + json.dumps({"id": 7, "fact": NEW_FACTS[2]}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "case", str(source), "--model", str(root / "model"), "--no-text"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["line"] for row in rows] == [1, 2, 3]
    assert [row.get("id") for row in rows] == ["c1", None, "7"]
    assert rows[0]["charges"][0]["name"] == "盗窃"
    assert rows[1]["error"]["code"] == "invalid_input"
    assert rows[2]["charges"][0]["name"] == "危险驾驶"
    assert f"警告：{source} 有 1 条有问题的记录，输出中对应的行是错误对象（第 2 行" in result.stderr


def test_case_abstains_below_threshold(workspace):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(root / "model"),
                                      "--abstain-below", "1", "--no-text"])
    assert result.exit_code == 0
    assert "不作判断" in result.stdout
    assert "候选罪名" in result.stdout
    # The top prediction still follows, marked as for reference only.
    assert "仅供参考" in result.stdout
    assert "罪名：\n  盗窃" in result.stdout
    assert "刑期：" in result.stdout


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
    (broken / "manifest.json").write_text('{"format": "tianping-judgment-model",\n "kind": ', encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(broken)])
    assert result.exit_code == 2
    assert "第 2 行第 10 列不是有效的 JSON" in result.stderr


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


@pytest.mark.parametrize(("source", "message"), [
    ("nosuch.txt", "文件不存在：nosuch.txt"),
    ("cases/nosuch.jsonl", "文件不存在：cases/nosuch.jsonl"),
    ("", "案情事实为空"),
    ("   ", "案情事实为空"),
    ("，。！？……", "案情事实只有标点和空白，没有文字：'，。！？……'"),
])
def test_case_source_missing_file_or_empty(workspace, source, message):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", source, "--model", str(root / "model"), "--no-text"])
    assert result.exit_code == 2
    assert message in result.stderr


def test_case_source_directory_is_an_error(workspace, tmp_path):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", str(tmp_path), "--model", str(root / "model")])
    assert result.exit_code == 2
    assert f"{tmp_path} 是目录" in result.stderr


@pytest.mark.parametrize(("arguments", "message"), [
    (["--abstain-below", "2"], "选项 --abstain-below 的值无效：2.0 不在 0.0<=x<=1.0 的范围内"),
    (["--abstain-below", "abc"], "选项 --abstain-below 的值无效：abc 不是数字"),
])
def test_option_errors_in_chinese(workspace, arguments, message):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(root / "model"), *arguments])
    assert result.exit_code == 2
    assert message in result.stderr


def test_option_error_as_json(workspace):
    root, _ = workspace
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(root / "model" / "arrays.npz"),
                                      "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "usage_error"
    assert "arrays.npz 是文件，这里需要目录" in error["message"]


@pytest.mark.parametrize(("value", "message"), [
    ('"3"', "format_version 应为整数，实际为 '3'"),
    (None, "format_version 应为整数，实际为 None"),
])
def test_manifest_format_version_must_be_integer(workspace, tmp_path, value, message):
    import shutil

    root, _ = workspace
    copy = tmp_path / "model"
    shutil.copytree(root / "model", copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    if value is None:
        del manifest["format_version"]
    else:
        manifest["format_version"] = json.loads(value)
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "case", NEW_FACTS[0], "--model", str(copy), "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "model_corrupt"
    assert message in error["message"]


def test_evaluate_without_fact_column_names_reason(workspace, tmp_path):
    root, _ = workspace
    data = tmp_path / "nofact.csv"
    data.write_text("text,charges,articles,months\n被告人盗窃手机一部。,盗窃,264,6\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "evaluate", "--model", str(root / "model"), "--data", str(data)])
    assert result.exit_code == 2
    assert "第 2 行：缺少事实字段 fact" in result.stderr
    assert "--field" in result.stderr
    fixed = CliRunner().invoke(cli, ["predict", "evaluate", "--model", str(root / "model"), "--data", str(data),
                                     "--field", "fact=text", "--report", str(tmp_path / "report"), "--json"])
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["cases"] == 1


def test_evaluate_counts_unknown_labels(workspace, tmp_path):
    root, _ = workspace
    data = tmp_path / "unknown.csv"
    data.write_text("fact,charges,articles,months\n被告人故意伤害他人致轻伤。,故意伤害,234,12\n"
                    "被告人持刀故意伤害他人。,故意伤害,234,18\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "evaluate", "--model", str(root / "model"), "--data", str(data),
                                      "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert "2 个标签（1 个罪名、1 个法条，共出现 4 次）不在模型的标签表中" in result.stderr
    # Library log lines stay off the user's screen unless --verbose is given.
    assert "unknown to the model" not in result.stderr


def test_confusion_plot_numbers_charges_without_cjk_font(workspace, tmp_path, monkeypatch):
    from tianping.prediction import evaluate as evaluation

    root, _ = workspace
    monkeypatch.setattr(evaluation, "cjk_font", lambda: None)
    drawn = {}
    monkeypatch.setattr(evaluation, "_draw_confusion",
                        lambda plt, font, names, titles, matrix, path: drawn.update(names=names, titles=titles))
    result = CliRunner().invoke(cli, ["predict", "evaluate", "--model", str(root / "model"),
                                      "--data", str(root / "train.jsonl"), "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert drawn["names"] == ["1", "2", "3", "other"]
    assert "confusion.labels" in drawn["titles"][0]
    assert "罪名以编号表示" in result.stderr


@pytest.mark.parametrize("term, text", [
    ({"months": 0, "death_penalty": False, "life_imprisonment": False}, "不判处拘役或有期徒刑（0 个月）"),
    ({"months": 6, "death_penalty": False, "life_imprisonment": False}, "6 个月（拘役或有期徒刑）"),
    ({"months": 7, "death_penalty": False, "life_imprisonment": False}, "7 个月（有期徒刑）"),
    ({"months": 24, "death_penalty": False, "life_imprisonment": False}, "2 年（24 个月，有期徒刑）"),
    ({"months": 30, "death_penalty": False, "life_imprisonment": False}, "2 年 6 个月（30 个月，有期徒刑）"),
    ({"months": 0, "death_penalty": False, "life_imprisonment": True}, "无期徒刑"),
    ({"months": 0, "death_penalty": True, "life_imprisonment": False}, "死刑"),
])
def test_term_text_names_punishment(term, text):
    from tianping.cli.predict import _term_text

    assert _term_text(term) == text


def test_human_output_drops_cail_brackets(capsys):
    from tianping.cli.predict import _print_case

    charge = {"name": "[引诱、容留、介绍]卖淫", "probability": 0.42, "evidence": ["容留"]}
    result = {"abstained": True, "confidence": 0.2, "candidates": [charge], "charges": [charge], "articles": [],
              "term": {"months": 8, "death_penalty": False, "life_imprisonment": False}, "term_basis": None}
    _print_case(result, show_text=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "置信度 0.20 低于拒答阈值，不作判断。候选罪名：引诱、容留、介绍卖淫（0.42）"
    assert lines[3] == "  引诱、容留、介绍卖淫（概率 0.42）  依据：容留"
