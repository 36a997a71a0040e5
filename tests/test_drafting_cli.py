import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

pytest.importorskip("docx")

from lawtexts import build_store  # noqa: E402
from tianping.cli.main import cli  # noqa: E402

SAMPLES = Path(__file__).parent / "drafting_samples"

DESCRIPTION = (
    "出借人张明远，男，1985年6月12日出生，汉族，住北京市海淀区清河路88号，公民身份号码110108198506121239，电话13800001111。"
    "借款人李晓梅，女，1990年3月5日出生，汉族，住上海市黄浦区南京东路100号，公民身份号码310104199003052047，电话13700003333。"
    "张明远借给李晓梅5万元，用于装修，借款期限自2024年3月1日起至2025年2月28日止，到期一次性归还。"
    "发生争议向北京市海淀区人民法院起诉。双方于2024年2月28日签订合同。"
)


@pytest.fixture()
def run(isolated_home):
    build_store(isolated_home).close()
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(cli, [str(arg) for arg in args], input=input)

    return invoke


def test_draft_list(run):
    result = run("draft", "list", "--json")
    payload = json.loads(result.output)
    assert result.exit_code == 0
    assert [item["name"] for item in payload["templates"]] == [
        "civil-complaint", "civil-defence", "civil-appeal", "private-prosecution", "power-of-attorney", "loan-contract"]


def test_draft_list_human(run):
    result = run("draft", "list")
    assert "民事起诉状" in result.output
    assert "借款合同" in result.output


def test_draft_alone_prints_help(run):
    result = run("draft")
    assert result.exit_code == 0
    assert "tianping draft TEMPLATE --data FILE --out FILE" in result.output


def test_draft_show_marks_required(run):
    result = run("draft", "show", "民事起诉状")
    assert result.exit_code == 0
    assert " * plaintiffs" in result.output
    assert "   evidence" in result.output


def test_draft_show_json(run):
    payload = json.loads(run("draft", "show", "loan-contract", "--json").output)
    fields = {item["name"]: item for item in payload["fields"]}
    assert fields["amount"]["required"] is True
    assert fields["annual_rate"]["required"] is False
    assert "id_number" in fields["lender"]["required_details"]["person"]


def test_draft_from_data(run, tmp_path):
    out = tmp_path / "complaint.docx"
    result = run("draft", "civil-complaint", "--data", SAMPLES / "civil-complaint.yaml", "--out", out, "--json")
    payload = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert payload["written"] is True
    assert payload["outputs"] == {"docx": str(out)}
    assert "claims" in payload["fields_used"]
    assert [check["check"] for check in payload["checks"]] == [
        "required_fields", "field_values", "id_numbers", "amounts", "claim_basis", "citations"]
    assert all(check["passed"] for check in payload["checks"])
    assert payload["citations"][0]["valid"] is True
    assert out.is_file()


def test_fill_subcommand_same_as_shortcut(run, tmp_path):
    result = run("draft", "fill", "loan-contract", "--data", SAMPLES / "loan-contract.yaml", "--out",
                 tmp_path / "loan.docx")
    assert result.exit_code == 0, result.output
    assert "已写入 docx" in result.output


def test_draft_from_json_data(run, tmp_path):
    data_path = tmp_path / "loan.json"
    data = yaml.safe_load((SAMPLES / "loan-contract.yaml").read_text(encoding="utf-8"))
    data_path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    result = run("draft", "loan-contract", "--data", data_path, "--out", tmp_path / "loan.md")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "loan.md").read_text(encoding="utf-8").startswith("# 借款合同")


def test_draft_from_facts_text(run, tmp_path):
    out = tmp_path / "loan.docx"
    result = run("draft", "loan-contract", "--facts", DESCRIPTION, "--out", out, "--json")
    payload = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert payload["extraction"]["missing"] == []
    assert payload["extraction"]["extracted"]["amount"] == "50000"
    assert payload["extraction"]["extracted"]["date"] == "2024-02-28"
    assert out.is_file()


def test_draft_from_facts_file_reports_missing(run, tmp_path):
    facts = tmp_path / "facts.txt"
    facts.write_text("出借人钱多多借给借款人孙小小5万元。", encoding="utf-8")
    out = tmp_path / "loan.docx"
    result = run("draft", "loan-contract", "--facts", facts, "--out", out)
    assert result.exit_code == 1
    assert "仍缺少：" in result.output
    assert "lender.id_number" in result.output
    assert "未写入文件" in result.output
    assert not out.exists()


def test_preview_without_out(run):
    result = run("draft", "loan-contract", "--data", SAMPLES / "loan-contract.yaml")
    assert result.exit_code == 0
    assert "# 借款合同" in result.output
    assert "第一条　借款金额：甲方向乙方出借人民币伍万元整（¥50,000.00）。" in result.output


def test_invalid_citation_exit_and_override(run, tmp_path):
    data = yaml.safe_load((SAMPLES / "private-prosecution.yaml").read_text(encoding="utf-8"))
    data["facts"] = data["facts"].replace("第二百六十六条", "第二百四十六条")
    data_path = tmp_path / "bad.yaml"
    data_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "prosecution.docx"
    blocked = run("draft", "private-prosecution", "--data", data_path, "--out", out)
    assert blocked.exit_code == 1
    assert "✗ citations" in blocked.output
    assert not out.exists()

    report = tmp_path / "report.json"
    allowed = run("draft", "private-prosecution", "--data", data_path, "--out", out, "--allow-invalid-citations",
                  "--report", report)
    assert allowed.exit_code == 0, allowed.output
    assert "已按 --allow-invalid-citations 保留无效引用" in allowed.output
    payload = json.loads(report.read_text(encoding="utf-8"))
    assert payload["overrides"] == ["allow_invalid_citations"]
    assert payload["checks"][-1] == {"check": "citations", "passed": False, "problems": 1, "overridden": True}
    assert out.is_file()


@pytest.mark.parametrize(("content", "suffix", "fragment"), [
    ("plaintiffs: [\n  - name: 张三\n", ".yaml", "YAML 格式错误"),
    ('{"plaintiffs": [}', ".json", "JSON 格式错误：{data} 第 1 行第 17 列缺少值或含有无法识别的值"),
    ("- 只是一个列表", ".yaml", "顶层应为映射"),
    ("", ".yaml", "数据为空"),
])
def test_malformed_data(run, tmp_path, content, suffix, fragment):
    data_path = tmp_path / f"data{suffix}"
    data_path.write_text(content, encoding="utf-8")
    out = tmp_path / "out.docx"
    result = run("draft", "civil-complaint", "--data", data_path, "--out", out)
    assert result.exit_code == 2
    assert fragment.format(data=data_path) in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_impossible_yaml_date_names_the_field(run, tmp_path):
    data = (SAMPLES / "civil-complaint.yaml").read_text(encoding="utf-8")
    data_path = tmp_path / "data.yaml"
    assert "date: 2024-05-20" in data
    data_path.write_text(data.replace("date: 2024-05-20", "date: 2024-02-30"), encoding="utf-8")
    out = tmp_path / "out.docx"
    result = run("draft", "civil-complaint", "--data", data_path, "--out", out)
    assert result.exit_code == 1
    assert "错误 [date] 日期（date）日期无效：'2024-02-30'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_unknown_template_exit(run, tmp_path):
    result = run("draft", "divorce-petition", "--data", SAMPLES / "loan-contract.yaml", "--out", tmp_path / "x.docx")
    assert result.exit_code == 3
    assert "未找到模板：divorce-petition" in result.output


def test_facts_over_limit_exit(run, tmp_path):
    from tianping.drafting import MAX_FACTS_CHARS

    facts = tmp_path / "long.txt"
    facts.write_text("借" * (MAX_FACTS_CHARS + 1), encoding="utf-8")
    out = tmp_path / "out.docx"
    result = run("draft", "civil-complaint", "--facts", facts, "--out", out)
    assert result.exit_code == 2
    assert "案情描述过长" in result.output
    assert not out.exists()


def test_broken_user_template_exit(run, tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("{% if x %}没有结束")
    document.save(str(tmp_path / "broken.docx"))
    (tmp_path / "broken.yaml").write_text("fields:\n  - name: x\n", encoding="utf-8")
    out = tmp_path / "out.docx"
    result = run("draft", tmp_path / "broken.docx", "--data", SAMPLES / "loan-contract.yaml", "--out", out)
    assert result.exit_code == 2
    assert "标签有误" in result.output
    assert not out.exists()


def test_missing_input_exit(run, tmp_path):
    result = run("draft", "civil-complaint", "--out", tmp_path / "out.docx")
    assert result.exit_code == 2
    assert "没有提供文书内容" in result.output


COMPLAINT_DESCRIPTION = (
    "原告张明远，男，1985年6月12日出生，汉族，住北京市海淀区清河路88号，公民身份号码110108198506121239，电话13800001111。"
    "被告李晓梅，女，住上海市黄浦区南京东路100号。"
    "2023年3月1日，被告向原告借款50,000元，至今未还。"
    "现请求判令被告偿还借款50,000元。原告向北京市海淀区人民法院起诉。"
)


def test_draft_llm_facts_through_local_server(run, tmp_path):
    from llm_server import ScriptedLLM

    out = tmp_path / "complaint.docx"
    with ScriptedLLM() as server:
        server.reply("2023年3月1日，被告向原告借款人民币伍万元整（¥50,000.00），约定到期归还，被告至今未还。"
                     "依照《中华人民共和国民法典》第五百七十七条，被告应当承担违约责任。")
        result = run("draft", "civil-complaint", "--facts", COMPLAINT_DESCRIPTION, "--out", out, "--json",
                     "--llm", "--base-url", server.base_url, "--model", "scripted")
        sent = server.requests[0]["body"]["messages"][1]["content"]
    payload = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert payload["llm"]["field"] == "facts"
    assert payload["llm"]["masked"] is False
    assert payload["citations"][0]["valid"] is True
    assert "110108198506121239" not in sent
    assert out.is_file()


def test_pdf_without_libreoffice_names_system_install(run, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "complaint.pdf"
    result = run("draft", "civil-complaint", "--data", SAMPLES / "civil-complaint.yaml", "--out", out)
    assert result.exit_code == 5
    assert "缺少可选依赖 LibreOffice（libreoffice 命令）" in result.output
    assert "apt install libreoffice-writer" in result.output
    assert "pip install" not in result.output
    assert not out.exists()
    assert list(tmp_path.glob("complaint*")) == []


def test_facts_file_name_that_does_not_exist(run, tmp_path):
    out = tmp_path / "x.docx"
    result = run("draft", "loan-contract", "--facts", tmp_path / "missing_facts.txt", "--out", out)
    assert result.exit_code == 2
    assert f"文件不存在：{tmp_path / 'missing_facts.txt'}" in result.output
    assert "案情描述文本请直接写在引号中" in result.output
    assert not out.exists()


def test_missing_date_is_today_with_warning(run, tmp_path):
    data = (SAMPLES / "civil-complaint.yaml").read_text(encoding="utf-8")
    data_path = tmp_path / "data.yaml"
    data_path.write_text(data.replace("date: 2024-05-20\n", ""), encoding="utf-8")
    out = tmp_path / "out.docx"
    result = run("draft", "civil-complaint", "--data", data_path, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    today = dt.date.today().isoformat()
    warnings = [problem for problem in payload["problems"] if problem["code"] == "date_defaulted"]
    assert warnings == [{"code": "date_defaulted", "label": "日期未填写，已用今天", "field": "date",
                         "message": f"未填写日期（date），已按今天 {today} 填写",
                         "fix": "如需其他日期，请在数据文件中填写 date（例如 2024-03-01）", "severity": "warning"}]
    assert out.exists()
