"""Pattern detectors for numbers, contact data, addresses, plates, dates and names.

Each detector takes the text and returns ``Finding`` objects. Confidence values
are fixed per pattern: the validated forms (check digit, Luhn, context word)
score higher than bare shapes.
"""

from __future__ import annotations

import re

from tianping.anonymize.findings import ROLE_WORDS, Finding
from tianping.anonymize.surnames import COMPOUND_SURNAMES, SINGLE_SURNAMES
from tianping.anonymize.validators import is_plausible_id, is_valid_id18, luhn_valid

_HAN = "\u4e00-\u9fff"
_SURNAME = "(?:" + "|".join(sorted(COMPOUND_SURNAMES)) + "|[" + "".join(sorted(SINGLE_SURNAMES)) + "])"

# --- numbers: resident IDs and bank cards --------------------------------------

# Digit runs of 12 to 19 digits, optionally ending in X, or bank cards written in groups of four.
_LONG_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{12,19}|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?)(?![0-9A-Za-z])"
)
_ID_CONTEXT = re.compile(r"(?:身份证|身份号码|公民身份|证件号)")
_BANK_CONTEXT = re.compile(r"(?:银行|卡号|账号|帐号|账户|帐户|储蓄卡|信用卡|借记卡|银联)")
# A bank word right after the number: 6217…银行卡内, 6217…账户.
_BANK_AFTER = re.compile(r"^(?:号)?(?:的)?(?:银行卡|银行账户|账户|帐户|储蓄卡|信用卡|借记卡|卡)")


def detect_numbers(text: str) -> list[Finding]:
    """Detect resident ID numbers (15 and 18 digits) and bank card numbers."""
    findings = []
    for match in _LONG_NUMBER.finditer(text):
        raw = match.group()
        digits = re.sub(r"[ -]", "", raw)
        before = text[max(0, match.start() - 12):match.start()]
        after = text[match.end():match.end() + 6]
        kind = _classify_number(digits, grouped=(digits != raw),
                                id_context=bool(_ID_CONTEXT.search(before)),
                                bank_context=bool(_BANK_CONTEXT.search(before) or _BANK_AFTER.match(after)))
        if kind is not None:
            entity_type, confidence = kind
            findings.append(Finding(entity_type, match.start(), match.end(), raw, confidence))
    return findings


def _classify_number(digits: str, *, grouped: bool, id_context: bool,
                     bank_context: bool) -> tuple[str, float] | None:
    length = len(digits)
    luhn = luhn_valid(digits)
    if not grouped:
        if length == 18 and is_valid_id18(digits) and not (bank_context and luhn):
            return "id_number", 0.99
        if id_context and length in (15, 18):
            return "id_number", 0.9
        if length == 15 and is_plausible_id(digits) and not (bank_context and luhn):
            return "id_number", 0.75
    if 16 <= length <= 19 and luhn:
        return "bank_card", 0.97 if bank_context else 0.9
    if bank_context and 12 <= length <= 19:
        return "bank_card", 0.8
    if not grouped and length == 18 and is_plausible_id(digits):
        # A mistyped ID (wrong check digit) is still an ID of a person.
        return "id_number", 0.6
    return None


# --- phones, e-mail ---------------------------------------------------------------

_MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9])(?:[(（]0[1-9][0-9]{1,2}[)）][ -]?|0[1-9][0-9]{1,2}-)[1-9][0-9]{6,7}(?:-[0-9]{1,5})?(?![0-9])"
)
_CONTEXT_PHONE = re.compile(r"(?:电话|手机|联系方式|座机|手机号|电话号码|联系号码)[^0-9\n]{0,6}?([1-9][0-9]{6,7})(?![0-9])")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def detect_phones(text: str) -> list[Finding]:
    """Detect mobile numbers, landline numbers with an area code, and bare numbers after 电话."""
    findings = [Finding("phone", m.start(), m.end(), m.group(), 0.95) for m in _MOBILE.finditer(text)]
    findings += [Finding("phone", m.start(), m.end(), m.group(), 0.9) for m in _LANDLINE.finditer(text)]
    for match in _CONTEXT_PHONE.finditer(text):
        findings.append(Finding("phone", match.start(1), match.end(1), match.group(1), 0.75))
    return findings


def detect_emails(text: str) -> list[Finding]:
    return [Finding("email", m.start(), m.end(), m.group(), 0.99) for m in _EMAIL.finditer(text)]


# --- licence plates ------------------------------------------------------------------

_PLATE = re.compile(
    r"(?<![A-Za-z0-9])[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
    r"[A-HJ-NP-Z][·•・ ]?[A-HJ-NP-Z0-9]{4,6}[挂学警港澳]?(?![A-Za-z0-9])"
)


def detect_plates(text: str) -> list[Finding]:
    """Detect licence plates such as 京A12345 or 粤B·D12345; plates with no digit are skipped."""
    findings = []
    for match in _PLATE.finditer(text):
        if any(char.isdigit() for char in match.group()[2:]):
            findings.append(Finding("license_plate", match.start(), match.end(), match.group(), 0.95))
    return findings


# --- dates of birth -----------------------------------------------------------------

_DATE = (
    r"(?:(?:19|20)[0-9]{2}年[0-9]{1,2}月(?:[0-9]{1,2}日)?"
    r"|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月(?:[一二三四五六七八九十]{1,3}日)?"
    r"|(?:19|20)[0-9]{2}[-./][0-9]{1,2}[-./][0-9]{1,2})"
)
_BIRTH_AFTER = re.compile(rf"(?P<date>{_DATE})(?:出生|生(?=[，,。；;）)\s]))")
_BIRTH_BEFORE = re.compile(rf"(?:出生于|出生日期|出生年月日?|生于)[:：为是]?\s*(?P<date>{_DATE})")


def detect_birth_dates(text: str) -> list[Finding]:
    """Detect dates followed by 出生/生 or preceded by 出生于/出生日期/生于."""
    findings = []
    for pattern in (_BIRTH_AFTER, _BIRTH_BEFORE):
        for match in pattern.finditer(text):
            findings.append(Finding("birth_date", match.start("date"), match.end("date"),
                                    match.group("date"), 0.95))
    return findings


# --- health -------------------------------------------------------------------------

_HEALTH = re.compile(
    rf"(?:患有|身患|罹患|确诊患有|诊断为|确诊为|被诊断为|诊断患有)(?P<x>[{_HAN}]{{1,12}}?"
    r"(?:病|症|癌|瘤|障碍|综合征|综合症|感染|炎))"
)
_HEALTH_TERMS = re.compile(r"艾滋病|HIV|乙型肝炎|乙肝|梅毒|精神分裂症|抑郁症|双相情感障碍")


def detect_health(text: str) -> list[Finding]:
    """Detect diagnoses after 患有/诊断为 and a short list of sensitive conditions.

    NOTE: health data is matched by these patterns only; other descriptions of a
    person's health (medical records, test results) are not detected.
    """
    findings = [Finding("health", m.start("x"), m.end("x"), m.group("x"), 0.75) for m in _HEALTH.finditer(text)]
    findings += [Finding("health", m.start(), m.end(), m.group(), 0.8) for m in _HEALTH_TERMS.finditer(text)]
    return findings


# --- addresses ----------------------------------------------------------------------

# Characters that end an address or separate it from an administrative prefix.
_STOP = r"\s，,。；;：:、（）()“”\"《》"
_ADMIN_STOP = _STOP + "省市区县旗在到至于从住的和与及将把被"
_NUMBER = r"[0-9０-９一二三四五六七八九十百零〇]+"
_UNIT = r"(?:[-－]?[0-9０-９A-Za-z一二三四五六七八九十]+(?:号楼|栋|幢|座|单元|层|楼|室|号|户|组))*"
_STREET_ADDRESS = re.compile(
    rf"[^{_ADMIN_STOP}]{{1,10}}?(?:大街|大道|路|街|巷|胡同|弄|里)(?:{_NUMBER}(?:弄|巷))?{_NUMBER}号(?:院)?{_UNIT}"
)
_COMPOUND_ADDRESS = re.compile(
    rf"[^{_ADMIN_STOP}]{{2,10}}?(?:小区|花园|公寓|家园|新村|大厦|苑)"
    rf"[0-9０-９A-Za-z一二三四五六七八九十\-－]+(?:号楼|栋|幢|座|单元|期|区){_UNIT}"
)
_VILLAGE_ADDRESS = re.compile(
    rf"(?:[^{_ADMIN_STOP}]{{1,6}}?(?:镇|乡|街道))?[^{_ADMIN_STOP}]{{1,6}}?村(?:委会)?"
    rf"(?:[0-9一二三四五六七八九十]+(?:组|社|队|号))+{_UNIT}"
)
_HOME_CONTEXT = re.compile(
    rf"(?:家庭住址|现住址|住址|户籍地|户籍所在地|现住|暂住|家住|住所地|经常居住地|居住地|(?<=[，,、：:（(])住)"
    rf"[:：为在于是]?(?P<addr>[^{_STOP}]{{2,40}})"
)
_ADMIN_SUFFIX = re.compile(r"(?:自治州|自治县|自治区|(?<![小社园景校厂矿])[省市区县旗盟](?![场民政委]))")
# Verbs of movement that the address patterns can take in front of a street name (进入潜山路).
_LEADING_VERB = re.compile(r"^.*?(?:进入|来到|前往|途经|位于|路过|回到|返回|经过|行至|驶至|窜至|窜到|驾车|步行|沿着|一起|[来去回往沿])")
_ADDRESS_END = re.compile(r"号楼|号院|号|室|组|栋|幢|单元|楼|村|弄|巷|社区|小区|苑|户")
_ADDRESS_MARK = re.compile(r"[0-9０-９]|村|组|路|街|巷|号|室|楼|栋|幢|弄|小区|苑|胡同|社区")


def detect_addresses(text: str) -> list[Finding]:
    """Detect street-level addresses; the province, city and county before them are not included.

    Addresses after 住/住址/户籍地 are found by context. Elsewhere, road + house
    number, residential compound + building and village + group are matched.
    """
    findings = []
    for pattern in (_STREET_ADDRESS, _COMPOUND_ADDRESS, _VILLAGE_ADDRESS):
        for match in pattern.finditer(text):
            lead = _LEADING_VERB.match(match.group())
            start = match.start() + (lead.end() if lead else 0)
            findings.append(Finding("address", start, match.end(), text[start:match.end()], 0.85))
    for match in _HOME_CONTEXT.finditer(text):
        address = match.group("addr")
        detail_start = 0
        for suffix in _ADMIN_SUFFIX.finditer(address):
            detail_start = suffix.end()
        detail = address[detail_start:]
        marks = list(_ADDRESS_END.finditer(detail))
        if marks:
            detail = detail[:marks[-1].end()]
        if len(detail) < 2 or detail[0] in "本该其同原" or not _ADDRESS_MARK.search(detail):
            continue
        start = match.start("addr") + detail_start
        findings.append(Finding("address", start, start + len(detail), detail, 0.9))
    return findings


# --- organisations -------------------------------------------------------------------

_ORG_SUFFIX = r"(?:有限责任公司|股份有限公司|有限公司|分公司|合作社|商行|经营部|门市部|事务所)"
_ORGANIZATION = re.compile(rf"[^{_STOP}在与和及将把被向从由对以该单位的是为系伪造]{{2,24}}?{_ORG_SUFFIX}")
# State bodies, banks and forensic institutes named in judgments are not personal data.
_PUBLIC_BODY = re.compile(
    r"(?:法院|检察院|公安局|分局|派出所|政府|司法局|监狱|看守所|委员会|局|中心|大队|支队|中队|"
    r"银行|信用社|联社|鉴定所|检验所|研究院|科学院|学院|大学)$"
)


def is_public_body(name: str) -> bool:
    return bool(_PUBLIC_BODY.search(name))


def detect_organizations(text: str) -> list[Finding]:
    """Detect company and shop names by their legal-form suffix (有限公司, 合作社, 商行 …)."""
    findings = []
    for match in _ORGANIZATION.finditer(text):
        if not is_public_body(match.group()):
            findings.append(Finding("organization", match.start(), match.end(), match.group(), 0.75))
    return findings


# --- names ---------------------------------------------------------------------------

# Names that are already masked: 张某, 李某某, 王某甲, 赵×1, 施1某, 欧阳某.
MASKED_NAME = re.compile(
    rf"{_SURNAME}(?:[0-9]{{1,2}}某某?|(?:某某?|[×Xx＊*]{{1,3}})(?:[甲乙丙丁戊己庚辛壬癸]|[0-9]{{1,2}})?)"
    r"(?![日时年月处地种些项人物])"
)
_ALL_ROLE_WORDS = sorted((word for words in ROLE_WORDS.values() for word in words), key=len, reverse=True)
ROLE_PATTERN = "(?:" + "|".join(_ALL_ROLE_WORDS) + ")"
# Characters that commonly follow a name in judgments; used to find where a name ends without a model.
_NAME_END = (
    r"(?=[，,、。；;：:（(）)\s“”]|于|在|因|将|与|和|及|系|等|的|持|驾驶|向|把|被|为|到|称|供述|证实|"
    r"陈述|辩称|诉称|述称|经|已|曾|是|无|有|所|对|从|后|即|又|也|均|共|自|之|$)"
)
_ROLE_NAME = re.compile(rf"{ROLE_PATTERN}[:：]?(?P<name>{_SURNAME}[{_HAN}]{{1,2}}?){_NAME_END}")
_LIST_NAME = re.compile(rf"、(?P<name>{_SURNAME}[{_HAN}]{{1,2}}?){_NAME_END}")


# Words that begin with a surname character and follow role words (被告人陈述), or that
# LAC tags as names in criminal judgments although they are drugs or things.
NOT_NAMES = frozenset({
    "陈述", "查获", "钱款", "安排", "单位", "信任", "明知", "于是", "经过", "任意", "任务", "向其",
    "车辆", "车主", "方面", "方式", "林地", "林木", "金额", "金融", "余款", "余额", "高价", "高速",
    "程序", "成立", "成功", "成员", "常住", "田地", "时间", "时候", "文书", "毛重", "麻古", "冰毒",
    "何时", "何处", "原告", "原审", "申请", "申诉", "包括", "关系", "全部", "宁愿", "平时", "和解",
    "苏醒", "黄金", "白银", "古董", "龙头", "海洛因", "海洛", "沙发", "江湖", "路过", "曾经", "任何",
})
# Already masked with a heavenly stem alone: 张甲, 李乙.
STEM_MASKED = re.compile(rf"{_SURNAME}[甲乙丙丁戊己庚辛壬癸]")


def detect_masked_names(text: str) -> list[Finding]:
    return [Finding("person", m.start(), m.end(), m.group(), 0.95, masked=True) for m in MASKED_NAME.finditer(text)]


_FOREIGN_NAME = re.compile(
    rf"(?:{ROLE_PATTERN}[:：]?|[，,、。；;：:（(\s]|^)(?P<name>[{_HAN}]{{1,8}}(?:[·•・][{_HAN}]{{1,8}}){{0,2}}[·•・][{_HAN}]{{1,6}}?){_NAME_END}"
)


def detect_foreign_names(text: str) -> list[Finding]:
    """Detect transliterated and minority names written with a middle dot (买买提·艾力)."""
    return [
        Finding("person", m.start("name"), m.end("name"), m.group("name"), 0.85)
        for m in _FOREIGN_NAME.finditer(text)
    ]


def detect_role_names(text: str) -> list[Finding]:
    """Detect names written after a role word (被告人张某某), and names listed after them with 、."""
    findings = []
    for match in _ROLE_NAME.finditer(text):
        end = match.end("name")
        names = [(match.start("name"), end)]
        while True:
            listed = _LIST_NAME.match(text, end)
            if listed is None:
                break
            end = listed.end("name")
            names.append((listed.start("name"), end))
        for start, stop in names:
            name = text[start:stop]
            if MASKED_NAME.fullmatch(name) or "某" in name or name in NOT_NAMES or STEM_MASKED.fullmatch(name):
                continue
            findings.append(Finding("person", start, stop, name, 0.8))
    return findings
