import pytest

from tianping.statutes.citations import CitationParser

KNOWN = {
    "中华人民共和国刑法": "中华人民共和国刑法",
    "刑法": "中华人民共和国刑法",
    "中华人民共和国民法典": "中华人民共和国民法典",
    "民法典": "中华人民共和国民法典",
    "海商法": "中华人民共和国海商法",
    "中华人民共和国海商法": "中华人民共和国海商法",
    "合同法": "中华人民共和国合同法",
    "刑诉法": "中华人民共和国刑事诉讼法",
}


@pytest.fixture(scope="module")
def parser():
    return CitationParser(KNOWN)


# (text, [(cited text, law, article, paragraph, item, end article, reference)])
CASES = [
    ("依照《中华人民共和国刑法》第二百六十四条之规定，判决如下",
     [("《中华人民共和国刑法》第二百六十四条", "中华人民共和国刑法", "第二百六十四条", None, None, None, "explicit")]),
    ("《刑法》第264条第一款第（二）项",
     [("《刑法》第264条第一款第（二）项", "中华人民共和国刑法", "第二百六十四条", 1, 2, None, "explicit")]),
    ("被告人违反刑法第一百三十三条之一，构成危险驾驶罪",
     [("刑法第一百三十三条之一", "中华人民共和国刑法", "第一百三十三条之一", None, None, None, "explicit")]),
    ("根据民法典第五百七十七条，当事人应当承担违约责任",
     [("民法典第五百七十七条", "中华人民共和国民法典", "第五百七十七条", None, None, None, "explicit")]),
    ("海商法第94条", [("海商法第94条", "中华人民共和国海商法", "第九十四条", None, None, None, "explicit")]),
    ("《民法典》第一千零六十二条至第一千零六十五条",
     [("《民法典》第一千零六十二条至第一千零六十五条", "中华人民共和国民法典", "第一千零六十二条", None, None,
       "第一千零六十五条", "explicit")]),
    ("民法典第47条和第49条",
     [("民法典第47条", "中华人民共和国民法典", "第四十七条", None, None, None, "explicit"),
      ("第49条", "中华人民共和国民法典", "第四十九条", None, None, None, "inherited")]),
    ("依照《刑法》第二百六十四条、第五十二条的规定",
     [("《刑法》第二百六十四条", "中华人民共和国刑法", "第二百六十四条", None, None, None, "explicit"),
      ("第五十二条", "中华人民共和国刑法", "第五十二条", None, None, None, "inherited")]),
    ("依照刑法第47、49条",
     [("刑法第47、49条", "中华人民共和国刑法", "第四十七条", None, None, None, "explicit"),
      ("刑法第47、49条", "中华人民共和国刑法", "第四十九条", None, None, None, "explicit")]),
    ("《刑法》第264条。该法第二百六十六条亦有规定。",
     [("《刑法》第264条", "中华人民共和国刑法", "第二百六十四条", None, None, None, "explicit"),
      ("该法第二百六十六条", "中华人民共和国刑法", "第二百六十六条", None, None, None, "same_law")]),
    ("民法典第五百七十七条；同法第五百八十四条",
     [("民法典第五百七十七条", "中华人民共和国民法典", "第五百七十七条", None, None, None, "explicit"),
      ("同法第五百八十四条", "中华人民共和国民法典", "第五百八十四条", None, None, None, "same_law")]),
    ("根据《合同法》第一百零七条，张三应赔偿",
     [("《合同法》第一百零七条", "中华人民共和国合同法", "第一百零七条", None, None, None, "explicit")]),
    ("根据利率法第五条的规定", [("利率法第五条", "利率法", "第五条", None, None, None, "explicit")]),
    ("合同法第一百零七条怎么规定的",
     [("合同法第一百零七条", "中华人民共和国合同法", "第一百零七条", None, None, None, "explicit")]),
    ("《中华人民共和国民法典》合同编第五百七十七条",
     [("《中华人民共和国民法典》合同编第五百七十七条", "中华人民共和国民法典", "第五百七十七条", None, None, None,
       "explicit")]),
    ("依照刑诉法第十五条", [("刑诉法第十五条", "中华人民共和国刑事诉讼法", "第十五条", None, None, None, "explicit")]),
    ("根据海商法的第一百六十七条", [("海商法的第一百六十七条", "中华人民共和国海商法", "第一百六十七条", None, None, None,
                                   "explicit")]),
    ("根据《民法商法类中的合同法》的第十五条",
     [("《民法商法类中的合同法》的第十五条", "中华人民共和国合同法", "第十五条", None, None, None, "explicit")]),
    ("他的说法第三条不对", []),
    ("依法第3条处理", []),
    ("第三条规定了基本原则", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[case[0][:16] for case in CASES])
def test_parse_real_citation_forms(parser, text, expected):
    found = [(c.text, c.law, c.article, c.paragraph, c.item, c.end_article, c.reference) for c in parser.parse(text)]
    assert found == expected


def test_spans_point_into_text(parser):
    text = "本院认为，依照《刑法》第264条第一款判决。"
    citation = parser.parse(text)[0]
    assert text[citation.start:citation.end] == citation.text
    assert citation.start == 7


def test_quote_after_citation(parser):
    citation = parser.parse("《刑法》第264条规定：“盗窃公私财物，数额较大的”")[0]
    assert citation.quote == "盗窃公私财物，数额较大的"


def test_self_reference_without_law_is_unresolved(parser):
    citations = parser.parse("本法第三条规定")
    assert [(c.text, c.law, c.reference) for c in citations] == [("本法第三条", None, "unresolved")]


def test_article_suffix_and_number(parser):
    citation = parser.parse("刑法第一百三十三条之二")[0]
    assert (citation.article_number, citation.article_suffix) == (133, 2)
