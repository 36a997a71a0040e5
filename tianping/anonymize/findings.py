"""The kinds of personal data the masker detects, and one detected span."""

from __future__ import annotations

from dataclasses import dataclass

# Entity types, with the Chinese label used in reports and default placeholders.
ENTITY_LABELS = {
    "person": "姓名",
    "id_number": "身份证号码",
    "phone": "电话号码",
    "bank_card": "银行账号",
    "email": "电子邮箱",
    "address": "住址",
    "license_plate": "车牌号码",
    "birth_date": "出生日期",
    "health": "健康状况",
    "organization": "单位名称",
}
ENTITY_TYPES = tuple(ENTITY_LABELS)

# Roles of named persons, with the Chinese words that introduce them in judgments.
# A name directly after one of these words (or in a 、-separated list after it) takes the role.
ROLE_WORDS = {
    "minor": ("未成年被告人", "未成年被害人", "未成年人", "幼女", "男童", "女童", "儿童"),
    "victim": ("附带民事诉讼原告人", "被害人", "受害人", "死者"),
    "witness": ("证人",),
    "appraiser": ("鉴定人员", "鉴定人"),
    "legal_representative": ("法定代理人", "监护人"),
    "relative": (
        "婚生子", "婚生女", "非婚生子", "非婚生女", "养子", "养女", "继子", "继女",
        "之子", "之女", "之妻", "之夫", "之父", "之母", "儿子", "女儿", "妻子", "丈夫",
        "其妻", "其夫", "其子", "其女", "其父", "其母", "父亲", "母亲", "孙子", "孙女",
        "长子", "次子", "长女", "次女", "一子", "一女",
    ),
    "defendant": ("被告人", "罪犯", "犯罪嫌疑人", "被不起诉人"),
    "civil_party": (
        "再审申请人", "被申请人", "申请执行人", "被执行人", "原审原告", "原审被告",
        "原审第三人", "被上诉人", "上诉人", "申请人", "第三人", "原告", "被告",
        "被继承人", "继承人", "借款人", "出借人", "担保人",
    ),
    "agent": ("委托诉讼代理人", "委托代理人", "诉讼代理人", "指定辩护人", "辩护人", "律师"),
    "official": (
        "代理审判员", "助理审判员", "人民陪审员", "审判长", "审判员", "陪审员", "书记员",
        "法官助理", "执行员", "代理检察员", "检察员", "检察官", "公诉人", "法官",
        "民警", "侦查员", "法定代表人", "负责人",
    ),
}
ROLES = tuple(ROLE_WORDS) + ("unknown",)
ROLE_LABELS = {
    "minor": "未成年人",
    "victim": "被害人",
    "witness": "证人",
    "appraiser": "鉴定人",
    "legal_representative": "法定代理人",
    "relative": "近亲属",
    "defendant": "被告人",
    "civil_party": "当事人",
    "agent": "代理人或辩护人",
    "official": "依职务出现的人员",
    "unknown": "身份不明",
}

# Roles ordered from most to least protected: a person named under several roles
# is treated under the first of them, so a witness who is also a defendant stays masked.
ROLE_PRECEDENCE = (
    "minor", "victim", "witness", "appraiser", "legal_representative", "relative",
    "unknown", "civil_party", "defendant", "agent", "official",
)


@dataclass(frozen=True)
class Finding:
    """One span of personal data in a text.

    ``start`` and ``end`` are character offsets (end exclusive). ``source`` names
    the detector (``rule``, ``model`` or ``propagated`` for later mentions of a
    name found elsewhere), and ``role`` is set for persons.
    """

    type: str
    start: int
    end: int
    text: str
    confidence: float
    source: str = "rule"
    role: str | None = None
    masked: bool = False

    def to_dict(self) -> dict:
        payload = {
            "type": self.type,
            "label": ENTITY_LABELS.get(self.type, self.type),
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "confidence": round(self.confidence, 3),
            "source": self.source,
        }
        if self.role is not None:
            payload["role"] = self.role
        if self.masked:
            payload["already_masked"] = True
        return payload
