"""Drafting: rendering each built-in template, the checks, user templates and bad input."""

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

docx = pytest.importorskip("docx")

from lawtexts import build_store  # noqa: E402
from tianping.drafting import draft, extract, format_amount, resolve_template  # noqa: E402
from tianping.drafting.numerals import court_date, text_date  # noqa: E402
from tianping.drafting.parties import party_block  # noqa: E402
from tianping.errors import InvalidInputError, NotFoundError  # noqa: E402

SAMPLES = Path(__file__).parent / "drafting_samples"
TEMPLATES = ["civil-complaint", "civil-defence", "civil-appeal", "private-prosecution", "power-of-attorney",
             "loan-contract"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("statutes"))


def sample(name: str) -> dict:
    return yaml.safe_load((SAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))


def docx_text(path: Path) -> str:
    return "\n".join(paragraph.text for paragraph in docx.Document(str(path)).paragraphs)


def expected_strings(name: str, data: dict) -> list[str]:
    """Return the text each field of a sample must produce in the document."""
    schema = resolve_template(name).schema
    strings = []
    for spec in schema.fields:
        value = data.get(spec.name)
        if value is None:
            continue
        if spec.type in ("party", "parties"):
            for party in value if isinstance(value, list) else [value]:
                strings.append(party["name"])
                for key in ("address", "phone", "id_number", "credit_code", "representative", "employer", "ethnicity"):
                    if key in party:
                        strings.append(str(party[key]))
                if "birth_date" in party:
                    strings.append(f"{text_date(party['birth_date'])}出生")
        elif spec.type == "list":
            for item in value:
                if isinstance(item, dict):
                    strings.append(item["text"] + format_amount(item["amount"]))
                else:
                    strings.append(item)
        elif spec.type == "amount":
            strings.append(format_amount(value))
        elif spec.type == "date":
            strings.append(court_date(value) if spec.name == "date" else text_date(value))
        elif spec.type == "longtext":
            strings += [line.strip() for line in value.splitlines() if line.strip()]
        elif spec.type == "number" and spec.name == "annual_rate":
            strings.append(f"年利率{value}%")
        elif spec.name not in ("copies", "authority_details"):
            strings.append(str(value))
    return strings


@pytest.mark.parametrize("name", TEMPLATES)
def test_builtin_template_fields_land(name, store, tmp_path):
    data = sample(name)
    out = tmp_path / f"{name}.docx"
    result = draft(name, data=data, out=out, store=store)
    assert result.written, [problem.to_dict() for problem in result.problems]
    text = docx_text(out)
    for expected in expected_strings(name, data):
        assert expected in text, f"{expected!r} missing from {name}"
    assert text.splitlines()[0] == resolve_template(name).schema.title


def test_complaint_sections_in_order(store, tmp_path):
    out = tmp_path / "complaint.docx"
    draft("civil-complaint", data=sample("civil-complaint"), out=out, store=store)
    lines = docx_text(out).splitlines()
    order = ["民事起诉状", "原告：张明远", "委托诉讼代理人：周若兰", "被告：李晓梅", "被告：上海云杉贸易有限公司",
             "诉讼请求：", "1.判令被告李晓梅偿还借款本金人民币伍万元整（¥50,000.00）", "事实和理由：",
             "证据和证据来源，证人姓名和住所：", "此致", "北京市海淀区人民法院", "附：本起诉状副本2份",
             "起诉人（签名）", "二〇二四年五月二十日"]
    positions = [next(index for index, line in enumerate(lines) if line.startswith(item)) for item in order]
    assert positions == sorted(positions)


def test_party_blocks_in_prescribed_order():
    person = {"name": "张明远", "gender": "男", "birth_date": dt.date(1985, 6, 12), "ethnicity": "汉族",
              "employer": "北京青禾软件有限公司工程师", "address": "北京市海淀区清河路88号",
              "id_number": "110108198506121239", "phone": "13800001111"}
    assert party_block("原告", person) == (
        "原告：张明远，男，1985年6月12日出生，汉族，北京青禾软件有限公司工程师，住北京市海淀区清河路88号。"
        "公民身份号码：110108198506121239。联系方式：13800001111。")
    organization = {"name": "上海云杉贸易有限公司", "address": "上海市浦东新区世纪大道200号", "representative": "王建国",
                    "representative_title": "执行董事", "credit_code": "91310115MA1H7XYW36", "phone": "021-50001234"}
    assert party_block("被告", organization) == (
        "被告：上海云杉贸易有限公司，住所地上海市浦东新区世纪大道200号。统一社会信用代码：91310115MA1H7XYW36。"
        "法定代表人：王建国，执行董事。联系方式：021-50001234。")


def test_docx_layout(store, tmp_path):
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    out = tmp_path / "loan.docx"
    draft("loan-contract", data=sample("loan-contract"), out=out, store=store)
    document = docx.Document(str(out))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1)
    assert abs(section.page_height - Mm(297)) < Mm(1)
    title_run = document.paragraphs[0].runs[0]
    assert title_run.font.size == Pt(22)
    assert title_run._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    body_run = document.paragraphs[1].runs[0]
    assert document.styles["Normal"].font.size == Pt(16)
    assert document.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert body_run.font.size is None or body_run.font.size == Pt(16)
    footer_xml = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer_xml
    assert "fldChar" in footer_xml


def test_markdown_output(store, tmp_path):
    out = tmp_path / "complaint.md"
    result = draft("civil-complaint", data=sample("civil-complaint"), out=out, store=store)
    text = out.read_text(encoding="utf-8")
    assert result.outputs == {"md": str(out)}
    assert text.startswith("# 民事起诉状")
    assert "**诉讼请求：**" in text


def _trip(name: str, store, tmp_path, change) -> tuple:
    data = copy.deepcopy(sample(name))
    change(data)
    out = tmp_path / "out.docx"
    result = draft(name, data=data, out=out, store=store)
    return result, out


def test_missing_required_field_blocks(store, tmp_path):
    result, out = _trip("civil-complaint", store, tmp_path, lambda data: data.pop("court"))
    assert not result.written
    assert not out.exists()
    problem = next(problem for problem in result.problems if problem.code == "missing_field")
    assert problem.field == "court"
    assert "受诉法院" in problem.message
    assert problem.fix


def test_missing_party_detail_blocks(store, tmp_path):
    result, _ = _trip("civil-complaint", store, tmp_path, lambda data: data["plaintiffs"][0].pop("id_number"))
    assert [problem.field for problem in result.blocking] == ["plaintiffs[0].id_number"]


def test_invalid_id_check_digit_blocks(store, tmp_path):
    def change(data):
        data["plaintiffs"][0]["id_number"] = "110108198506121238"

    result, out = _trip("civil-complaint", store, tmp_path, change)
    problem = next(problem for problem in result.problems if problem.code == "invalid_id_number")
    assert problem.field == "plaintiffs[0].id_number"
    assert "第 18 位应为 9" in problem.message
    assert not out.exists()


def test_invalid_credit_code_blocks(store, tmp_path):
    def change(data):
        data["defendants"][1]["credit_code"] = "91310115MA1H7XYW37"

    result, out = _trip("civil-complaint", store, tmp_path, change)
    assert [problem.code for problem in result.blocking] == ["invalid_credit_code"]
    assert result.blocking[0].field == "defendants[1].credit_code"
    assert "第 18 位应为 6" in result.blocking[0].message
    assert not out.exists()


@pytest.mark.parametrize(("code", "valid"), [
    ("91310115MA1H7XYW36", True),
    ("91330108MA2B3C4D5A", True),
    ("91330108MA2B3C4D5B", False),
    ("91330108MA2B3C4O5A", False),
    ("9133010", False),
])
def test_credit_code_table(code, valid):
    from tianping.drafting.checks import check_credit_code

    assert (check_credit_code(code) is None) is valid


def test_id_birth_date_mismatch(store, tmp_path):
    def change(data):
        data["principal"]["birth_date"] = "1975-09-24"

    result, _ = _trip("power-of-attorney", store, tmp_path, change)
    assert [problem.code for problem in result.blocking] == ["id_number_mismatch"]


def test_amount_mismatch_blocks(store, tmp_path):
    def change(data):
        data["facts"] = data["facts"].replace("人民币伍万元整（¥50,000.00）", "人民币伍万元整（¥60,000.00）")

    result, out = _trip("civil-complaint", store, tmp_path, change)
    problem = next(problem for problem in result.problems if problem.code == "amount_mismatch")
    assert problem.field == "facts"
    assert "¥50,000.00" in problem.message
    assert "¥60,000.00" in problem.message
    assert not out.exists()


def test_claim_amount_without_basis(store, tmp_path):
    def change(data):
        data["claims"][0]["amount"] = 80000

    result, _ = _trip("civil-complaint", store, tmp_path, change)
    problem = next(problem for problem in result.problems if problem.code == "claim_without_basis")
    assert problem.field == "claims[0]"
    assert "¥80,000.00" in problem.message


def test_claim_kind_without_basis(store, tmp_path):
    def change(data):
        data["claims"].insert(2, "判令被告李晓梅支付违约金")

    result, _ = _trip("civil-complaint", store, tmp_path, change)
    problem = next(problem for problem in result.problems if problem.code == "claim_without_basis")
    assert problem.field == "claims[2]"
    assert "违约金" in problem.message


def test_claim_sum_of_fact_amounts_has_basis(store, tmp_path):
    def change(data):
        data["facts"] += "\n另查明，被告另借款10,000元未还。"
        data["claims"][0]["amount"] = 60000

    result, _ = _trip("civil-complaint", store, tmp_path, change)
    assert result.written


def test_invalid_citation_blocks(store, tmp_path):
    def change(data):
        data["facts"] = data["facts"].replace("第二百六十六条", "第二百四十六条")

    result, out = _trip("private-prosecution", store, tmp_path, change)
    problem = next(problem for problem in result.problems if problem.code == "invalid_citation")
    assert problem.field == "facts"
    assert "第二百四十六条" in problem.message
    assert "--allow-invalid-citations" in problem.fix
    assert not out.exists()
    assert result.checks()[-1] == {"check": "citations", "passed": False, "problems": 1, "overridden": False}


def test_repealed_law_citation_blocks(store, tmp_path):
    def change(data):
        data["facts"] += "\n依照《中华人民共和国合同法》第一百零七条，被告应当承担违约责任。"

    result, _ = _trip("civil-complaint", store, tmp_path, change)
    invalid = [item for item in result.citations if not item["valid"]]
    assert [item["reason"] for item in invalid] == ["repealed"]
    assert "民法典" in next(problem.fix for problem in result.problems if problem.code == "invalid_citation")


def test_invalid_citation_override_recorded(store, tmp_path):
    data = sample("private-prosecution")
    data["facts"] = data["facts"].replace("第二百六十六条", "第二百四十六条")
    out = tmp_path / "override.docx"
    result = draft("private-prosecution", data=data, out=out, store=store, allow_invalid_citations=True)
    assert result.written
    assert result.overrides == ["allow_invalid_citations"]
    assert result.to_dict()["checks"][-1]["overridden"] is True
    comments = docx.Document(str(out)).core_properties.comments
    assert "--allow-invalid-citations" in comments
    assert "第二百四十六条" in comments


def test_citations_checked_for_document_date(store, tmp_path):
    data = sample("private-prosecution")
    data["facts"] = data["facts"].replace("第二百六十六条", "第一百三十三条之一")
    data["date"] = "1990-01-01"
    result = draft("private-prosecution", data=data, store=store)
    assert result.citation_date == "1990-01-01"
    assert [item["reason"] for item in result.citations] == ["not_yet_in_force"]


def test_unknown_data_key_is_warning(store, tmp_path):
    result, _ = _trip("loan-contract", store, tmp_path, lambda data: data.update({"colour": "红"}))
    assert result.written
    assert [(problem.code, problem.severity) for problem in result.problems] == [("unknown_field", "warning")]


def test_chinese_labels_as_keys(store, tmp_path):
    data = sample("loan-contract")
    data["借款用途"] = data.pop("purpose")
    data["lender"] = {{"name": "姓名", "address": "住所"}.get(key, key): value for key, value in data["lender"].items()}
    result = draft("loan-contract", data=data, out=tmp_path / "loan.docx", store=store)
    assert result.written


def test_unknown_template():
    with pytest.raises(NotFoundError, match="未找到模板：起诉书"):
        resolve_template("起诉书")


def test_template_aliases():
    assert resolve_template("民事起诉状").schema.name == "civil-complaint"
    assert resolve_template("借款合同").schema.name == "loan-contract"


def test_existing_output_kept_when_check_fails(store, tmp_path):
    out = tmp_path / "out.docx"
    out.write_bytes(b"previous")
    data = sample("civil-complaint")
    data.pop("court")
    draft("civil-complaint", data=data, out=out, store=store)
    assert out.read_bytes() == b"previous"
    assert [path.name for path in tmp_path.iterdir()] == ["out.docx"]


def test_unsupported_output_suffix(store, tmp_path):
    with pytest.raises(InvalidInputError, match="不支持的输出格式"):
        draft("loan-contract", data=sample("loan-contract"), out=tmp_path / "loan.txt", store=store)


def test_extract_complaint_from_description():
    text = ("原告王小雨，女，1990年3月5日出生，汉族，住上海市黄浦区南京东路100号，公民身份号码310104199003052047，电话13700003333。"
            "被告冯大志，男，住上海市徐汇区漕溪北路1号。"
            "2023年5月1日，被告向原告借款30,000元，约定2023年12月31日前归还，至今未还。"
            "现请求判令被告偿还借款30,000元，本案诉讼费由被告承担。原告向上海市黄浦区人民法院起诉。")
    result = extract(resolve_template("civil-complaint").schema, text)
    plaintiff = result.data["plaintiffs"][0]
    assert plaintiff["name"] == "王小雨"
    assert plaintiff["birth_date"] == "1990-03-05"
    assert plaintiff["id_number"] == "310104199003052047"
    assert plaintiff["phone"] == "13700003333"
    assert result.data["defendants"] == [{"name": "冯大志", "gender": "男", "address": "上海市徐汇区漕溪北路1号"}]
    assert result.data["court"] == "上海市黄浦区人民法院"
    assert result.data["claims"] == ["判令被告偿还借款人民币叁万元整（¥30,000.00）", "本案诉讼费用由被告承担"]
    assert "至今未还" in result.data["facts"]
    assert "公民身份号码" not in result.data["facts"]
    assert result.missing == []


def test_extract_reports_missing():
    result = extract(resolve_template("loan-contract").schema, "出借人钱多多借给借款人孙小小5万元。")
    assert result.data["amount"] == "50000"
    assert "lender.id_number" in result.missing
    assert "start_date" in result.missing
    assert "court" in result.missing


def test_facts_over_limit():
    from tianping.drafting import MAX_FACTS_CHARS

    with pytest.raises(InvalidInputError, match="案情描述过长"):
        extract(resolve_template("civil-complaint").schema, "借" * (MAX_FACTS_CHARS + 1))


def test_extract_id_details_and_loan_start():
    text = ("出借人张明远（身份证号110108198506121239，电话13800001111）于2024年3月1日借给借款人李晓梅"
            "（身份证号310104199003052047）人民币5万元，约定2025年2月28日前归还。")
    result = extract(resolve_template("loan-contract").schema, text)
    lender, borrower = result.data["lender"], result.data["borrower"]
    assert (lender["birth_date"], lender["gender"]) == ("1985-06-12", "男")
    assert (borrower["birth_date"], borrower["gender"]) == ("1990-03-05", "女")
    assert result.data["start_date"] == "2024-03-01"
    assert result.data["end_date"] == "2025-02-28"


def test_extract_keeps_stated_gender_and_skips_invalid_id():
    text = "出借人张明远，女，身份证号110108198506121238，借给借款人李晓梅5万元。"
    lender = extract(resolve_template("loan-contract").schema, text).data["lender"]
    assert lender["gender"] == "女"
    assert "birth_date" not in lender


def test_data_overrides_extraction(store, tmp_path):
    text = ("出借人张明远，男，1985年6月12日出生，汉族，住北京市海淀区清河路88号，公民身份号码110108198506121239，电话13800001111。"
            "借款人李晓梅，女，1990年3月5日出生，汉族，住上海市黄浦区南京东路100号，公民身份号码310104199003052047，电话13700003333。"
            "张明远借给李晓梅5万元，用于装修，借款期限自2024年3月1日起至2025年2月28日止。")
    result = draft("loan-contract", facts=text, data={"amount": 60000, "court": "北京市海淀区人民法院"},
                   out=tmp_path / "loan.docx", store=store)
    assert result.written
    assert "人民币陆万元整（¥60,000.00）" in docx_text(tmp_path / "loan.docx")


def test_data_party_fills_in_extracted_party(store, tmp_path):
    text = ("出借人张明远，男，1985年6月12日出生，汉族，住北京市海淀区清河路88号，公民身份号码110108198506121239，电话13800001111。"
            "借款人李晓梅，女，1990年3月5日出生，住上海市黄浦区南京东路100号，公民身份号码310104199003052047，电话13700003333。"
            "张明远借给李晓梅5万元，用于装修，借款期限自2024年3月1日起至2025年2月28日止。")
    data = {"借款人（乙方）": {"ethnicity": "汉族", "phone": "13700004444"}, "court": "北京市海淀区人民法院"}
    result = draft("loan-contract", facts=text, data=data, out=tmp_path / "loan.docx", store=store)
    assert result.written
    body = docx_text(tmp_path / "loan.docx")
    assert "李晓梅，女，1990年3月5日出生，汉族，住上海市黄浦区南京东路100号" in body
    assert "13700004444" in body
    assert "13700003333" not in body


# User templates ---------------------------------------------------------------

def _user_template(folder: Path, body: list[str], schema: dict, name: str = "notice") -> Path:
    document = docx.Document()
    for line in body:
        document.add_paragraph(line)
    path = folder / f"{name}.docx"
    document.save(str(path))
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(schema, allow_unicode=True), encoding="utf-8")
    return path


NOTICE_SCHEMA = {
    "name": "payment-notice", "title": "催款函",
    "fields": [
        {"name": "debtor", "label": "债务人", "type": "party", "required": True, "detail": "basic"},
        {"name": "amount", "label": "欠款金额", "type": "amount", "required": True},
        {"name": "facts", "label": "事实", "type": "longtext", "required": True},
        {"name": "date", "label": "日期", "type": "date", "default": "today"},
    ],
    "facts_fields": ["facts"],
}


def test_user_template_renders(store, tmp_path):
    path = _user_template(tmp_path, ["催款函", "{{ debtor.block }}", "请于七日内归还欠款{{ amount }}。", "{{ facts }}",
                                     "{{ date }}"], NOTICE_SCHEMA)
    out = tmp_path / "filled.docx"
    data = {"debtor": {"name": "冯大志", "address": "上海市徐汇区漕溪北路1号"}, "amount": "12,000",
            "facts": "冯大志于2024年1月借款12,000元至今未还。", "date": "2024-06-01"}
    result = draft(str(path), data=data, out=out, store=store)
    assert result.written, [problem.to_dict() for problem in result.problems]
    text = docx_text(out)
    assert "债务人：冯大志，住所地上海市徐汇区漕溪北路1号。" not in text
    assert "债务人：冯大志，住上海市徐汇区漕溪北路1号。" in text
    assert "请于七日内归还欠款人民币壹万贰仟元整（¥12,000.00）。" in text
    assert "二〇二四年六月一日" in text


def test_user_template_by_name_in_home(isolated_home, store, tmp_path):
    folder = isolated_home / "templates"
    folder.mkdir(parents=True)
    _user_template(folder, ["{{ facts }}"], {"fields": [{"name": "facts", "type": "longtext", "required": True}]},
                   name="memo")
    result = draft("memo", data={"facts": "备忘"}, out=tmp_path / "memo.docx", store=store)
    assert result.written
    assert result.template == "memo"


def test_user_template_broken_tags(tmp_path):
    path = _user_template(tmp_path, ["{{ debtor.block }", "{% for x in items %}"], NOTICE_SCHEMA)
    with pytest.raises(InvalidInputError, match="标签有误"):
        resolve_template(str(path))


def test_user_template_tag_missing_from_schema(tmp_path):
    path = _user_template(tmp_path, ["{{ creditor }}"], NOTICE_SCHEMA)
    with pytest.raises(InvalidInputError, match="creditor"):
        resolve_template(str(path))


def test_user_template_without_schema(tmp_path):
    document = docx.Document()
    document.add_paragraph("{{ x }}")
    document.save(str(tmp_path / "lonely.docx"))
    with pytest.raises(NotFoundError, match="缺少说明文件"):
        resolve_template(str(tmp_path / "lonely.docx"))


def test_user_schema_bad_type(tmp_path):
    schema = {"name": "bad", "fields": [{"name": "x", "type": "colour"}]}
    path = _user_template(tmp_path, ["{{ x }}"], schema)
    with pytest.raises(InvalidInputError, match="类型 'colour' 无效"):
        resolve_template(str(path))


# LLM help and PDF ------------------------------------------------------------------

class FakeBackend:
    """A backend that returns a fixed text and keeps the messages it was sent."""

    name = "fake"
    is_remote = False

    def __init__(self, text: str):
        self.text = text
        self.messages = None

    def generate(self, messages):
        self.messages = messages
        return self.text


LOAN_DESCRIPTION = (
    "原告张明远，男，1985年6月12日出生，汉族，住北京市海淀区清河路88号，公民身份号码110108198506121239，电话13800001111。"
    "被告李晓梅，女，住上海市黄浦区南京东路100号。"
    "2023年3月1日，被告向原告借款50,000元，至今未还。"
    "现请求判令被告偿还借款50,000元。原告向北京市海淀区人民法院起诉。"
)


def test_llm_writes_facts_and_citations_are_checked(store, tmp_path):
    backend = FakeBackend("2023年3月1日，被告向原告借款人民币伍万元整（¥50,000.00），到期未还。"
                          "依照《中华人民共和国民法典》第五百七十七条，被告应当承担违约责任。")
    out = tmp_path / "complaint.docx"
    result = draft("civil-complaint", facts=LOAN_DESCRIPTION, out=out, store=store, backend=backend,
                   today=dt.date(2024, 5, 1))
    assert result.written, [problem.to_dict() for problem in result.problems]
    assert result.llm == {"backend": "fake", "field": "facts", "used": True, "characters": len(backend.text),
                          "masked": False}
    assert "到期未还" in docx_text(out)
    assert result.citations[0]["valid"] is True
    sent = backend.messages[1]["content"]
    assert "110108198506121239" not in sent
    assert "至今未还" in sent


def test_llm_invented_citation_blocks(store, tmp_path):
    backend = FakeBackend("被告向原告借款人民币伍万元整（¥50,000.00）未还，依照《中华人民共和国民法典》第一千四百条应当还款。")
    out = tmp_path / "complaint.docx"
    result = draft("civil-complaint", facts=LOAN_DESCRIPTION, out=out, store=store, backend=backend)
    assert not result.written
    assert [problem.code for problem in result.blocking] == ["invalid_citation"]
    assert not out.exists()


@pytest.mark.skipif(not __import__("shutil").which("libreoffice") and not __import__("shutil").which("soffice"),
                    reason="needs LibreOffice for PDF output")
def test_pdf_output(store, tmp_path):
    out = tmp_path / "loan.pdf"
    result = draft("loan-contract", data=sample("loan-contract"), out=out, store=store)
    assert result.outputs == {"pdf": str(out)}
    assert out.read_bytes().startswith(b"%PDF")
