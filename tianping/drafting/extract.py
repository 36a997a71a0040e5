"""Extracting a template's fields from a free-text description of a case.

Extraction is rule-based. Parties are found after their role words (原告, 被告,
出借人 …, taken from the template's schema) or after 我叫/本人. Their details
(性别, 出生日期, 民族, 住所, 联系方式, 公民身份号码, 统一社会信用代码, 法定代表人)
come from the text that follows, up to the next party. Amounts, dates, courts, case
numbers and causes are found by pattern and assigned to fields by the words near
them. Sentences that ask the court for something become the claims; the rest of
the narrative becomes the facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tianping.drafting.checks import check_resident_id, id_birth_date_and_gender
from tianping.drafting.numerals import find_amounts, format_amount, to_date
from tianping.drafting.schema import FieldSpec, TemplateSchema
from tianping.errors import InvalidInputError

# Descriptions longer than this are rejected: they are case summaries, not whole files.
MAX_FACTS_CHARS = 20_000

_CJK = r"\u4e00-\u9fff"
_NAME_END = (r"(?=[，,。；;：:（(、\s]|与|和|及|系|住|出生|向|于|在|因|男|女|是|借|称|诉|为|已|自|从|将|把|欠|曾|作|等|对|"
             r"驾驶|开车|拖欠|骗取|偷|窃取|殴打|辱骂|签订|收取|支付|未|拒|不|先后|多次|一直|以|趁|谎称|明知|故意)")
_PERSON_NAME = rf"[{_CJK}·]{{2,4}}?{_NAME_END}"
_ORGANIZATION_NAME = (rf"[{_CJK}（）()]{{2,30}}?(?:股份有限公司|有限责任公司|有限公司|公司|集团|厂|商行|经营部|合作社|"
                      rf"事务所|中心|医院|学校|银行|支行)")
_ETHNIC_GROUPS = ("汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 "
                  "傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 "
                  "布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 "
                  "裕固族 京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族").split()
_ETHNIC = re.compile("|".join(sorted(_ETHNIC_GROUPS, key=len, reverse=True)))
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|(\d{4})-(\d{1,2})-(\d{1,2})")
_BIRTH = re.compile(rf"(?:(?:出生(?:日期|于)?[:：为是]?\s*)({_DATE.pattern})|({_DATE.pattern})\s*出?生|生于\s*({_DATE.pattern}))")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_CREDIT_CODE = re.compile(r"统一社会信用代码[:：为是]?\s*([0-9A-Z]{18})")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-\d{7,8})(?!\d)")
_GENDER = re.compile(r"(?:^|[，,、（(\s]|性别[:：为是]?)(男|女)(?=[，,、）)。；\s]|性)")
_ADDRESS = re.compile(rf"(?:(?<=[，,\s（(：:])|^)(?:住所地|住所|住址|地址|家住|住)(?:在|于|为|是)?[:：]?\s*([{_CJK}0-9０-９A-Za-z\-－#号室栋单元层楼路街道巷弄村组镇乡县区市省（）()]{{4,60}}?)(?=[，,。；;）)]|$)")
_REPRESENTATIVE = re.compile(rf"(法定代表人|主要负责人|负责人)(?:是|为|[:：])?\s*([{_CJK}·]{{2,4}}?)(?=[，,。；;（(、\s]|担任|系|任|职务)")
_TITLE = re.compile(r"(?:职务[:：为是]?|担任|任)?(董事长|执行董事|总经理|副总经理|经理|厂长|主任|董事|负责人|校长|院长|行长|合伙人|所长)")
_EMPLOYER = re.compile(
    rf"(?:工作单位[:：为是]?\s*([^，,。；;]{{2,40}})|在([^，,。；;]{{2,40}}?)(?:工作|任职|上班)|"
    rf"([{_CJK}]{{2,30}}?(?:公司|医院|学校|银行|中心|研究院|厂))(职员|员工|工程师|教师|会计|司机|经理|销售员|技术员|护士|医生)|"
    rf"(?<=[，,])(无业|务农|个体工商户|自由职业|退休)(?=[，,。；]))"
)
_COURT = re.compile(rf"[{_CJK}]{{2,30}}?人民法院")
_COURT_LEAD = re.compile(r"^.*(?:向|至|到|在|由|经|于|对|被|给|请|往|是|的|将|已|与|现|并|时|后|中|不服)")
_PROVINCES = re.compile("北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|"
                        "海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门|最高人民法院")
_CASE_NUMBER = re.compile(rf"[（(]\d{{4}}[）)][{_CJK}0-9]{{2,20}}?号")
_CAUSE = re.compile(rf"[{_CJK}]{{2,16}}?纠纷")
_CAUSE_LEAD = re.compile(r"^.*(?:因|与|之间|的|起|就|其|是|为|该|一|了|和|及|对|在|以|诉我|起诉|被上诉人|上诉人|被答辩人|答辩人|原告|被告|委托人|"
                         r"我公司|我方|本公司|公司|我)")
_CHARGE_LEAD = re.compile(r"^.*(?:的|被告人|被告|其)")
_CHARGE = re.compile(rf"(?:涉嫌|构成|犯有?|追究其?|以)([{_CJK}]{{1,10}}?罪)")
_CLAIM_LEAD = re.compile(r"(?:现|故|因此|为此|特|遂)?(?:起诉)?(?:要求|请求|诉请|希望法院|请法院|请求法院|申请)(?:法院|人民法院)?(?:依法)?[:：，,]?")
# About a hundred of the most common surnames, used only to accept a party named without particulars.
_COMMON_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖"
    "贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_SPECIAL_AUTHORITY = ("承认、放弃、变更诉讼请求", "进行和解", "提起反诉或者上诉", "代收法律文书", "申请执行")
_AUTHORITY_WORDS = {"承认": 0, "放弃": 0, "变更诉讼请求": 0, "和解": 1, "反诉": 2, "上诉": 2, "代收": 3, "申请执行": 4}


@dataclass
class Extraction:
    """Result of extraction: field values ready for the schema, and the required fields still missing."""

    data: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"extracted": _jsonable(self.data), "missing": list(self.missing)}


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def extract(schema: TemplateSchema, text: str) -> Extraction:
    """Extract the fields of ``schema`` from a free-text description."""
    if not text or not text.strip():
        raise InvalidInputError("案情描述为空", hint="请用 --facts 给出案情描述的文字或文件")
    if len(text) > MAX_FACTS_CHARS:
        raise InvalidInputError(f"案情描述过长：{len(text)} 字，上限为 {MAX_FACTS_CHARS} 字",
                                hint="请只写与本文书有关的事实，或用 --data 提供结构化数据")
    text = _clean(text)
    data: dict = {}
    party_fields = [spec for spec in schema.fields if spec.type in ("party", "parties") and spec.roles]
    parties = _find_parties(text, party_fields)
    for spec in party_fields:
        found = parties.get(spec.name)
        if found:
            data[spec.name] = found[0] if spec.type == "party" else found

    sentences = _sentences(text)
    claim_sentences = [sentence for sentence in sentences if _CLAIM_LEAD.search(sentence) and _is_claim(sentence)]
    _extract_scalars(schema, text, data)
    if schema.claims_field:
        claims = _claims(claim_sentences)
        if claims:
            data[schema.claims_field] = claims
    narrative = _narrative(sentences, claim_sentences if schema.claims_field else [])
    for name in schema.facts_fields:
        if narrative:
            data[name] = narrative
    result = Extraction(data=data)
    result.missing = missing_fields(schema, data)
    return result


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\u3000", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[。！？!?\n])", text)
    return [part.strip() for part in parts if part.strip()]


# Party roles -----------------------------------------------------------------

def _find_parties(text: str, party_fields: list[FieldSpec]) -> dict[str, list[dict]]:
    roles = {}
    for spec in party_fields:
        for role in spec.roles:
            roles.setdefault(role, spec.name)
    if not roles:
        return {}
    alternatives = "|".join(re.escape(role) for role in sorted(roles, key=len, reverse=True))
    # A role word inside a longer role (原审原告, 被告人 for 被告) is skipped by the lookbehind and lookahead.
    pattern = re.compile(
        rf"(?<![审被])(?P<role>{alternatives})(?!人|席)(?:（(?P<standing>[^）]{{2,8}})）|\((?P<standing2>[^)]{{2,8}})\))?"
        rf"(?:是|为|[:：])?\s*(?P<names>(?:(?:{_ORGANIZATION_NAME})|(?:{_PERSON_NAME}))(?:[、和及与](?:(?:{_ORGANIZATION_NAME})|(?:{_PERSON_NAME})))*)"
    )
    mentions = []
    for match in pattern.finditer(text):
        names = re.split(r"[、和及与]", match.group("names"))
        standing = match.group("standing") or match.group("standing2")
        for name in names:
            if name and not _is_pronoun(name):
                mentions.append((match.start(), match.end(), roles[match.group("role")], name, standing))
    self_match = re.search(rf"(?:我叫|本人|我是|我方|委托人是?)(?P<name>{_PERSON_NAME}|{_ORGANIZATION_NAME})", text)
    if self_match and party_fields and not _is_pronoun(self_match.group("name")):
        filer = party_fields[0].name
        if not any(mention[3] == self_match.group("name") for mention in mentions):
            mentions.append((self_match.start(), self_match.end(), filer, self_match.group("name"), None))
    mentions.sort()

    found: dict[str, list[dict]] = {}
    seen: dict[str, dict] = {}
    references: dict[str, list[dict]] = {}
    starts = [mention[0] for mention in mentions] + [len(text)]
    for index, (start, end, field_name, name, standing) in enumerate(mentions):
        if name in seen:
            continue
        party = {"name": name}
        if standing:
            party["standing"] = standing
        segment_end = next((position for position in starts[index + 1:] if position >= end), len(text))
        _party_details(text[end:segment_end], party)
        # A party is introduced with its particulars (原告张三，男，…，住…); a role word
        # followed by a verb (被告向原告借款) only refers back to one.
        if len(party) > 1 + bool(standing):
            seen[name] = party
            found.setdefault(field_name, []).append(party)
        elif _plausible_name(name):
            references.setdefault(field_name, []).append(party)
    for field_name, candidates in references.items():
        if field_name not in found:
            found[field_name] = [candidates[0]]
    for parties in found.values():
        for party in parties:
            _details_elsewhere(text, party)
            _details_from_id(party)
    return found


def _details_from_id(party: dict) -> None:
    """Fill a missing birth date and gender from a valid resident ID number."""
    number = party.get("id_number")
    if not number or check_resident_id(number) is not None:
        return
    birth, gender = id_birth_date_and_gender(number)
    party.setdefault("birth_date", birth.isoformat())
    party.setdefault("gender", gender)


def _details_elsewhere(text: str, party: dict) -> None:
    """Fill details still missing from later sentences that start with the party's name (郭强住…)."""
    for match in re.finditer(re.escape(party["name"]), text):
        sentence_end = re.search(r"[。！？!?\n]", text[match.end():])
        segment = text[match.end():match.end() + (sentence_end.start() if sentence_end else len(text))]
        found = {"name": party["name"]}
        _party_details(segment, found)
        for key, value in found.items():
            party.setdefault(key, value)


def _plausible_name(name: str) -> bool:
    """True for an organisation name or a two- or three-character name with a common surname."""
    if re.fullmatch(_ORGANIZATION_NAME, name):
        return True
    return len(name) in (2, 3) and name[0] in _COMMON_SURNAMES


def _is_pronoun(name: str) -> bool:
    return name[:1] in "我你他她其该本对" or name in ("双方", "对方", "上述", "原告", "被告")


def _party_details(segment: str, party: dict) -> None:
    """Fill a party's details from the text after its name; only the first of each is taken."""
    segment = segment[:400]
    patterns = [
        ("birth_date", lambda: _first_date(_BIRTH.search(segment))),
        ("gender", lambda: _group(_GENDER.search(segment), 1)),
        ("ethnicity", lambda: _group(_ETHNIC.search(segment), 0)),
        ("address", lambda: _group(_ADDRESS.search(segment), 1)),
        ("id_number", lambda: _group(_ID_NUMBER.search(segment), 1)),
        ("credit_code", lambda: _group(_CREDIT_CODE.search(segment), 1)),
        ("phone", lambda: _group(_PHONE.search(segment), 1)),
    ]
    for key, finder in patterns:
        value = finder()
        if value:
            party[key] = value.upper() if key == "id_number" else value
    representative = _REPRESENTATIVE.search(segment)
    if representative:
        party["representative"] = representative.group(2)
        if representative.group(1) != "法定代表人":
            party["representative_kind"] = "主要负责人"
        title = _TITLE.search(segment, representative.end(), representative.end() + 20)
        if title:
            party["representative_title"] = title.group(1)
    if "representative" not in party and "credit_code" not in party:
        employer = _EMPLOYER.search(segment)
        if employer:
            groups = employer.groups()
            if groups[2]:
                party["employer"] = groups[2] + groups[3]
            else:
                party["employer"] = next(group for group in groups if group)
    if "id_number" in party and party.get("phone") and party["phone"] in party["id_number"]:
        del party["phone"]


def _group(match, index: int) -> str | None:
    return match.group(index).strip() if match else None


def _first_date(match) -> str | None:
    if not match:
        return None
    inner = _DATE.search(match.group(0))
    return _iso(inner) if inner else None


def _iso(match) -> str | None:
    year, month, day = (match.group(1), match.group(2), match.group(3)) if match.group(1) else (
        match.group(4), match.group(5), match.group(6))
    try:
        return to_date(f"{year}-{month}-{day}").isoformat()
    except InvalidInputError:
        return None


# Scalars: courts, dates, amounts, causes ---------------------------------------

def _extract_scalars(schema: TemplateSchema, text: str, data: dict) -> None:
    courts = _courts(text)
    names = {spec.name for spec in schema.fields}
    if "first_court" in names:
        first = next((court for court, start, end in courts if re.search(r"^.{0,40}?(作出|判决|裁定)", text[end:end + 60])), None)
        if first:
            data["first_court"] = first
        appeal = [court for court, start, end in courts if court != first and (
            re.search(r"(上诉至|向|提交|呈送)\s*$", text[max(0, start - 12):start]) or "中级" in court or "高级" in court)]
        if appeal:
            data["court"] = appeal[-1]
    elif "court" in names and courts:
        preferred = [court for court, start, end in courts if re.search(r"(向|由|至|到)\s*$", text[max(0, start - 6):start])]
        data["court"] = (preferred or [court for court, _, _ in courts])[-1]

    case_number = _CASE_NUMBER.search(text)
    if case_number and "case_number" in names:
        data["case_number"] = case_number.group(0).replace("(", "（").replace(")", "）")
    if "case_cause" in names:
        cause = _cause(text, _party_names(data))
        if cause:
            data["case_cause"] = cause
    if "charge" in names:
        charge = _CHARGE.search(text)
        if charge:
            data["charge"] = _CHARGE_LEAD.sub("", charge.group(1))
    _extract_dates(schema, text, data, names)
    if "amount" in names:
        amount = _loan_amount(text)
        if amount is not None:
            data["amount"] = str(amount)
    if "purpose" in names:
        purpose = re.search(r"(?:借款用途(?:为|是)?[:：]?|用于|用作)([^，,。；;]{2,30})", text)
        if purpose:
            data["purpose"] = purpose.group(1).strip()
        else:
            reason = re.search(r"因([^，,。；;]{2,20}?)(?:需要|急需|需)?(?:资金)?向[^，,。；;]{1,30}?借", text)
            if reason:
                data["purpose"] = reason.group(1).strip()
    if "annual_rate" in names:
        rate = re.search(r"年利率(?:为|是|按)?\s*(\d+(?:\.\d+)?)\s*[%％]", text)
        if rate:
            data["annual_rate"] = rate.group(1)
        elif re.search(r"不计利息|无息|不收利息|不支付利息", text):
            data.pop("annual_rate", None)
    if "repayment" in names:
        repayment = re.search(r"((?:到期|期满|届满时)?一次性[^，,。；;]{0,30}|按月[^，,。；;]{2,30}|分期[^，,。；;]{2,30}|每月[^，,。；;]{2,30})", text)
        if repayment:
            data["repayment"] = repayment.group(1).strip()
    if "sign_place" in names:
        place = re.search(rf"(?:在|于)([{_CJK}]{{2,20}}?(?:市|区|县))签(?:订|署)", text)
        if place:
            data["sign_place"] = place.group(1)
    if "standing" in names:
        standing = re.search(r"(?:作为|我方是|委托人是|身份为|我是本案的?)(原告|被告|上诉人|被上诉人|第三人|申请人|被申请人)", text)
        if standing:
            data["standing"] = standing.group(1)
    if "counterparty" in names:
        cause = data.get("case_cause")
        counterparty = re.search(rf"与([^，,。；;与]{{2,30}}?)(?:之间)?的?{re.escape(cause)}", text) if cause else None
        if counterparty:
            data["counterparty"] = counterparty.group(1)
    if "authority" in names:
        details = sorted({_AUTHORITY_WORDS[word] for word in _AUTHORITY_WORDS if word in text})
        if "特别授权" in text or details:
            data["authority"] = "特别授权"
            if details:
                data["authority_details"] = [_SPECIAL_AUTHORITY[index] for index in details]
        elif "一般授权" in text:
            data["authority"] = "一般授权"


def _courts(text: str) -> list[tuple[str, int, int]]:
    courts = []
    for match in _COURT.finditer(text):
        province = _PROVINCES.search(match.group(0))
        name = match.group(0)[province.start():] if province else _COURT_LEAD.sub("", match.group(0))
        if len(name) < 6:
            continue
        start = match.end() - len(name)
        courts.append((name, start, match.end()))
    return courts


def _cause(text: str, party_names: list[str]) -> str | None:
    # NOTE: a name that is not an extracted party stays in the cause, so 与程伟相邻关系纠纷
    # in a power of attorney gives 程伟相邻关系纠纷 and no counterparty.
    for match in _CAUSE.finditer(text):
        cause = _CAUSE_LEAD.sub("", match.group(0))
        for name in party_names:
            if name in cause:
                cause = cause[cause.rindex(name) + len(name):]
        if len(cause) >= 4:
            return cause
    return None


def _party_names(data: dict) -> list[str]:
    names = []
    for value in data.values():
        for party in value if isinstance(value, list) else [value]:
            if isinstance(party, dict) and party.get("name"):
                names.append(party["name"])
    return names


def _extract_dates(schema: TemplateSchema, text: str, data: dict, names: set[str]) -> None:
    dates = [(match, _iso(match)) for match in _DATE.finditer(text)]
    dates = [(match, value) for match, value in dates if value]

    def near(words: str, before: int = 12, after: int = 12):
        for match, value in dates:
            context_before = text[max(0, match.start() - before):match.start()]
            context_after = text[match.end():match.end() + after]
            if re.search(words, context_before) or re.search(words, context_after):
                if not re.search(r"出生", context_after[:3]):
                    return value
        return None

    if "judgment_date" in names:
        value = near(r"作出|判决|裁定", before=0, after=12)
        if value:
            data["judgment_date"] = value
    if "start_date" in names:
        span = re.search(rf"(?:期限)?(?:自|从)\s*({_DATE.pattern})\s*(?:起)?\s*(?:至|到)\s*({_DATE.pattern})", text)
        if span:
            dates_in_span = [_iso(match) for match in _DATE.finditer(span.group(0))]
            data["start_date"], data["end_date"] = dates_in_span[0], dates_in_span[1]
        else:
            # The lending verb comes before the date (借款期限自2024年3月1日) or right after it (于2024年3月1日借给).
            start = (near(r"借款期限自|自|从|出借|借给|交付", before=8, after=0)
                     or near(r"^\s*(?:借给|出借|交付|转账|支付)", before=0, after=6))
            end = near(r"归还|还清|还款|到期|届满", before=0, after=8) or near(r"至|到", before=3, after=0)
            if start:
                data["start_date"] = start
            if end and end != start:
                data["end_date"] = end
    if schema.date_field and schema.date_field in names:
        # Contracts are dated by signing; filings by the words that introduce their own date.
        words = r"落款|起诉日期|提交|出具|文书日期|日期为"
        if "start_date" in names:
            words += r"|签订|签署|订立|签字"
        signed = near(words, before=10, after=14)
        if signed:
            data[schema.date_field] = signed


def _loan_amount(text: str):
    for match in re.finditer(r"(借给|借款|出借|借了|借用|借到|借予|借)", text):
        window = text[match.start():match.start() + 40]
        amounts = find_amounts(window)
        if amounts:
            return amounts[0][0]
    amounts = find_amounts(text)
    return amounts[0][0] if amounts else None


# Claims and narrative -----------------------------------------------------------

def _is_claim(sentence: str) -> bool:
    return bool(re.search(r"判令|偿还|返还|支付|赔偿|承担|撤销|改判|追究|解除|驳回|继续履行|归还|发回", sentence))


def _claims(sentences: list[str]) -> list[str]:
    claims = []
    for sentence in sentences:
        lead = _CLAIM_LEAD.search(sentence)
        body = sentence[lead.end():] if lead else sentence
        body = body.strip("。；;，, \n")
        for part in re.split(r"[；;]|[，,]\s*(?:并|同时|以及|另)|[，,](?=\s*(?:本案)?(?:诉讼费|案件受理费))|(?:\d+[.、．)]|[（(]\d+[）)]|[一二三四五六七八九十]、)", body):
            part = part.strip("，,。；; \n")
            if len(part) < 4:
                continue
            claims.append(_formal_claim(part))
    return claims


def _formal_claim(part: str) -> str:
    """Write a claim as a court request: 判令… with amounts in both forms; court costs in the usual words."""
    if re.search(r"诉讼费|受理费", part):
        return "本案诉讼费用由被告承担" if "被告" in part or "对方" in part else part
    amounts = [item for item in find_amounts(part) if item[0] > 0]
    for amount, start, end in reversed(amounts):
        prefix_start = start - 3 if part[max(0, start - 3):start] == "人民币" else start
        part = part[:prefix_start] + format_amount(amount) + part[end:]
    if part.startswith(("被告", "对方", "其")):
        part = "判令" + part
    return part


def _narrative(sentences: list[str], claim_sentences: list[str]) -> str:
    """Return the narrative: sentences that are neither claims nor party particulars nor filing instructions."""
    kept = []
    for sentence in sentences:
        if sentence in claim_sentences:
            continue
        if re.search(r"出生|身份证|公民身份号码|统一社会信用代码|联系电话|手机号|电话|住所地|法定代表人", sentence):
            continue
        if re.search(r"(?:向|拟向|准备向).{0,30}人民法院(?:起诉|提起|上诉|递交|提交)|落款|起诉日期|委托.{0,10}律师", sentence):
            continue
        kept.append(sentence.rstrip("\n"))
    return "\n".join(kept).strip()


def missing_fields(schema: TemplateSchema, data: dict) -> list[str]:
    """List required fields and party details absent from ``data`` (defaults count as present)."""
    from tianping.drafting.values import normalize

    _, problems = normalize(schema, data)
    return [problem.field for problem in problems if problem.code == "missing_field"]
