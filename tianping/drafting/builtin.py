"""The built-in templates: schemas and layouts of six common documents.

Layouts follow the structure of the Supreme People's Court's civil litigation
document samples (民事诉讼文书样式, 2016) for documents that parties file. In order
they contain the title, the parties, the requests, the facts and reasons, evidence,
此致 and the court, attachments, the signature and the date. The loan contract
follows the usual layout of a private loan agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tianping.drafting.numerals import court_date, format_amount, text_date
from tianping.drafting.parties import party_block, party_names
from tianping.drafting.schema import FieldSpec, TemplateSchema

_CHINESE_ORDINALS = "一二三四五六七八九十"


@dataclass
class Block:
    """One paragraph of a document, laid out by ``kind``.

    Kinds: title (centred heading), party (a party line), label (a section label such
    as 诉讼请求：), para (an indented body paragraph), plain (flush left, such as the
    court after 此致) and right (right-aligned signature and date).
    """

    kind: str
    text: str


@dataclass
class BuiltinTemplate:
    schema: TemplateSchema
    layout: Callable[[dict], list[Block]]


def _date_field() -> FieldSpec:
    return FieldSpec("date", "日期", "date", required=True, default="today",
                     help="落款日期；引用的法条按该日期核对。默认为今天")


def _court_field(label: str = "受诉法院") -> FieldSpec:
    return FieldSpec("court", label, "text", required=True, help="例如：北京市海淀区人民法院")


def _agents_field(label: str = "委托诉讼代理人") -> FieldSpec:
    return FieldSpec("agents", label, "parties", roles=(label, "诉讼代理人", "代理人"), detail="name",
                     help="律师或其他代理人：姓名，工作单位和职务（例如：北京某某律师事务所律师），联系方式")


def _evidence_field() -> FieldSpec:
    return FieldSpec("evidence", "证据和证据来源，证人姓名和住所", "list", help="每项一行，例如：借条一份，原告持有")


def _copies_field() -> FieldSpec:
    return FieldSpec("copies", "副本份数", "number", help="默认为对方当事人的人数")


def _parties(role: str, parties: list[dict] | None) -> list[Block]:
    return [Block("party", party_block(role, party)) for party in parties or []]


def _numbered(items: list[str]) -> list[Block]:
    if len(items) == 1:
        return [Block("para", items[0])]
    return [Block("para", f"{index}.{item}") for index, item in enumerate(items, start=1)]


def _paragraphs(text: str | None) -> list[Block]:
    return [Block("para", line.strip()) for line in (text or "").splitlines() if line.strip()]


def _closing(values: dict, signer: str, copies_default: int) -> list[Block]:
    blocks = [Block("para", "此致"), Block("plain", values["court"])]
    copies = values.get("copies") or copies_default
    attachments = [f"本{values['_copy_name']}副本{int(copies)}份"] if copies else []
    attachments += values.get("attachments") or []
    for index, attachment in enumerate(attachments):
        prefix = "附：" if index == 0 else "　　"
        blocks.append(Block("para", f"{prefix}{attachment}"))
    blocks.append(Block("right", f"{signer}（签名）"))
    blocks.append(Block("right", court_date(values["date"])))
    return blocks


def _evidence(values: dict) -> list[Block]:
    if not values.get("evidence"):
        return []
    return [Block("label", "证据和证据来源，证人姓名和住所："), *_numbered(values["evidence"])]


def _complaint_layout(values: dict) -> list[Block]:
    values["_copy_name"] = "起诉状"
    blocks = [Block("title", "民事起诉状")]
    blocks += _parties("原告", values["plaintiffs"])
    blocks += _parties("委托诉讼代理人", values.get("agents"))
    blocks += _parties("被告", values["defendants"])
    blocks += _parties("第三人", values.get("third_parties"))
    blocks.append(Block("label", "诉讼请求："))
    blocks += _numbered(values["claims"])
    blocks.append(Block("label", "事实和理由："))
    blocks += _paragraphs(values["facts"])
    blocks += _evidence(values)
    others = len(values["defendants"]) + len(values.get("third_parties") or [])
    return blocks + _closing(values, "起诉人", others)


def _defence_layout(values: dict) -> list[Block]:
    values["_copy_name"] = "答辩状"
    blocks = [Block("title", "民事答辩状")]
    blocks += _parties("答辩人", values["respondents"])
    blocks += _parties("委托诉讼代理人", values.get("agents"))
    opening = (f"对{values['court']}{values['case_number']}原告{party_names(values['opposing'])}"
               f"与被告{party_names(values['respondents'])}{values['case_cause']}一案的起诉，答辩如下：")
    blocks.append(Block("para", opening))
    blocks += _paragraphs(values["defence"])
    blocks += _evidence(values)
    return blocks + _closing(values, "答辩人", len(values["opposing"]))


def _appeal_layout(values: dict) -> list[Block]:
    values["_copy_name"] = "上诉状"
    blocks = [Block("title", "民事上诉状")]
    blocks += _parties("上诉人", values["appellants"])
    blocks += _parties("委托诉讼代理人", values.get("agents"))
    blocks += _parties("被上诉人", values["appellees"])
    kind = values.get("judgment_kind") or "判决"
    opening = (f"上诉人{party_names(values['appellants'])}因与被上诉人{party_names(values['appellees'])}"
               f"{values['case_cause']}一案，不服{values['first_court']}{text_date(values['judgment_date'])}"
               f"作出的{values['case_number']}民事{kind}，现提起上诉。")
    blocks.append(Block("para", opening))
    blocks.append(Block("label", "上诉请求："))
    blocks += _numbered(values["claims"])
    blocks.append(Block("label", "上诉理由："))
    blocks += _paragraphs(values["reasons"])
    blocks += _evidence(values)
    return blocks + _closing(values, "上诉人", len(values["appellees"]))


def _prosecution_layout(values: dict) -> list[Block]:
    values["_copy_name"] = "自诉状"
    blocks = [Block("title", "刑事自诉状")]
    blocks += _parties("自诉人", values["prosecutors"])
    blocks += _parties("诉讼代理人", values.get("agents"))
    blocks += _parties("被告人", values["defendants"])
    blocks.append(Block("label", "案由和诉讼请求："))
    blocks.append(Block("para", f"被告人{party_names(values['defendants'])}涉嫌{values['charge']}。"))
    blocks += _numbered(values["claims"])
    blocks.append(Block("label", "事实与理由："))
    blocks += _paragraphs(values["facts"])
    blocks += _evidence(values)
    return blocks + _closing(values, "自诉人", len(values["defendants"]))


def _power_of_attorney_layout(values: dict) -> list[Block]:
    blocks = [Block("title", "授权委托书")]
    blocks += _parties("委托人", [values["principal"]])
    blocks += _parties("受托人", values["agents"])
    blocks.append(Block("para", (f"现委托上列受托人在我方与{values['counterparty']}{values['case_cause']}一案中，"
                                 f"作为我方（{values['standing']}）的诉讼代理人。")))
    authority = values.get("authority") or "一般授权"
    details = values.get("authority_details") or []
    if authority == "特别授权" and details:
        blocks.append(Block("para", f"代理权限为：特别授权，代为{'、'.join(details)}。"))
    else:
        blocks.append(Block("para", f"代理权限为：{authority}。"))
    if values.get("court"):
        blocks += [Block("para", "此致"), Block("plain", values["court"])]
    blocks.append(Block("right", "委托人（签名或者盖章）"))
    blocks.append(Block("right", court_date(values["date"])))
    return blocks


def _loan_contract_layout(values: dict) -> list[Block]:
    blocks = [Block("title", "借款合同")]
    blocks += _parties("出借人（甲方）", [values["lender"]])
    blocks += _parties("借款人（乙方）", [values["borrower"]])
    if values.get("guarantor"):
        blocks += _parties("保证人（丙方）", [values["guarantor"]])

    blocks.append(Block("para", "各方根据《中华人民共和国民法典》等法律规定，经平等协商，就借款事宜订立本合同，共同遵守。"))
    rate = values.get("annual_rate")
    terms = [
        f"借款金额：甲方向乙方出借{format_amount(values['amount'])}。",
        f"借款用途：{values['purpose']}。乙方不得将借款用于其他用途。",
        f"借款期限：自{text_date(values['start_date'])}起至{text_date(values['end_date'])}止。",
        (f"借款利率：年利率{_format_rate(rate)}%，按实际借款天数计算利息。" if rate
         else "借款利率：本借款不计利息。"),
        f"还款方式：{values['repayment']}。",
    ]

    accounts = []
    if values.get("borrower_account"):
        accounts.append(f"甲方将借款支付至乙方账户：{values['borrower_account']}")
    if values.get("lender_account"):
        accounts.append(f"乙方将本息归还至甲方账户：{values['lender_account']}")
    if accounts:
        terms.append(f"收付款账户：{'；'.join(accounts)}。")
    if values.get("guarantor"):
        terms.append("保证：丙方对乙方在本合同项下的全部债务承担连带责任保证，保证期间为主债务履行期限届满之日起六个月。")
    terms.append("违约责任：乙方未按期归还本息的，应当按照本合同约定的利率向甲方支付逾期利息；未约定利率的，"
                 "甲方可以请求乙方自逾期还款之日起参照当时一年期贷款市场报价利率标准计算的利息承担逾期还款违约责任。")
    terms.append(f"争议解决：因本合同发生争议的，各方协商解决；协商不成的，任何一方可以向{values['court']}提起诉讼。")
    terms += [f"{term}。" if not term.endswith("。") else term for term in values.get("other_terms") or []]

    parties_count = 3 if values.get("guarantor") else 2
    copies = int(values.get("copies") or parties_count)
    terms.append(f"本合同自各方签字（盖章）之日起生效，一式{_cn_small(copies)}份，各方各执一份，具有同等法律效力。")
    for index, term in enumerate(terms, start=1):
        blocks.append(Block("para", f"第{_cn_small(index)}条　{term}"))

    blocks.append(Block("plain", "甲方（签字或者盖章）："))
    blocks.append(Block("plain", "乙方（签字或者盖章）："))
    if values.get("guarantor"):
        blocks.append(Block("plain", "丙方（签字或者盖章）："))
    place = f"签订地点：{values['sign_place']}　" if values.get("sign_place") else ""
    blocks.append(Block("plain", f"{place}签订日期：{court_date(values['date'])}"))
    return blocks


def _format_rate(rate) -> str:
    text = f"{float(rate):.4f}".rstrip("0").rstrip(".")
    return text


def _cn_small(number: int) -> str:
    if number <= 10:
        return _CHINESE_ORDINALS[number - 1]
    tens, units = divmod(number, 10)
    head = "十" if tens == 1 else _CHINESE_ORDINALS[tens - 1] + "十"
    return head + (_CHINESE_ORDINALS[units - 1] if units else "")


_COMPLAINT = TemplateSchema(
    name="civil-complaint", title="民事起诉状", aliases=("民事起诉状", "起诉状", "complaint"),
    description="公民、法人或者其他组织提起民事诉讼用",
    fields=[
        FieldSpec("plaintiffs", "原告", "parties", required=True, roles=("原告", "起诉人")),
        _agents_field(),
        FieldSpec("defendants", "被告", "parties", required=True, roles=("被告",), detail="basic"),
        FieldSpec("third_parties", "第三人", "parties", roles=("第三人",), detail="basic"),
        FieldSpec("claims", "诉讼请求", "list", required=True,
                  help="每项一条；可写成 {text: 判令被告偿还借款本金, amount: 50000}，金额自动写成大写和小写"),
        FieldSpec("facts", "事实和理由", "longtext", required=True),
        _evidence_field(),
        _court_field(),
        _copies_field(),
        FieldSpec("attachments", "其他附件", "list"),
        _date_field(),
    ],
    claims_field="claims", facts_fields=("facts",),
)

_DEFENCE = TemplateSchema(
    name="civil-defence", title="民事答辩状", aliases=("民事答辩状", "答辩状", "defence", "defense"),
    description="被告对原告的起诉提出答辩用",
    fields=[
        FieldSpec("respondents", "答辩人", "parties", required=True, roles=("答辩人",)),
        _agents_field(),
        FieldSpec("opposing", "被答辩人（原告）", "parties", required=True, roles=("被答辩人", "原告"), detail="name"),
        FieldSpec("case_number", "案号", "text", required=True, help="例如：（2024）京0108民初1234号"),
        FieldSpec("case_cause", "案由", "text", required=True, help="例如：民间借贷纠纷"),
        FieldSpec("defence", "答辩意见", "longtext", required=True),
        _evidence_field(),
        _court_field("审理法院"),
        _copies_field(),
        FieldSpec("attachments", "其他附件", "list"),
        _date_field(),
    ],
    facts_fields=("defence",),
)

_APPEAL = TemplateSchema(
    name="civil-appeal", title="民事上诉状", aliases=("民事上诉状", "上诉状", "appeal"),
    description="当事人不服第一审判决或者裁定提起上诉用",
    fields=[
        FieldSpec("appellants", "上诉人", "parties", required=True, roles=("上诉人",),
                  help="可用 standing 写明原审诉讼地位，例如：原审被告"),
        _agents_field(),
        FieldSpec("appellees", "被上诉人", "parties", required=True, roles=("被上诉人",), detail="basic"),
        FieldSpec("case_cause", "案由", "text", required=True),
        FieldSpec("first_court", "原审法院", "text", required=True),
        FieldSpec("judgment_date", "原审裁判日期", "date", required=True),
        FieldSpec("case_number", "原审案号", "text", required=True, help="例如：（2024）京0108民初1234号"),
        FieldSpec("judgment_kind", "原审裁判类型", "text", default="判决", choices=("判决", "裁定")),
        FieldSpec("claims", "上诉请求", "list", required=True),
        FieldSpec("reasons", "上诉理由", "longtext", required=True),
        _evidence_field(),
        _court_field("上诉法院"),
        _copies_field(),
        FieldSpec("attachments", "其他附件", "list"),
        _date_field(),
    ],
    claims_field="claims", facts_fields=("reasons",),
)

_PROSECUTION = TemplateSchema(
    name="private-prosecution", title="刑事自诉状", aliases=("刑事自诉状", "自诉状", "prosecution"),
    description="被害人就告诉才处理的案件和其他自诉案件向人民法院起诉用",
    fields=[
        FieldSpec("prosecutors", "自诉人", "parties", required=True, roles=("自诉人",)),
        _agents_field("诉讼代理人"),
        FieldSpec("defendants", "被告人", "parties", required=True, roles=("被告人",), detail="basic"),
        FieldSpec("charge", "罪名", "text", required=True, help="例如：侮辱罪"),
        FieldSpec("claims", "诉讼请求", "list", required=True),
        FieldSpec("facts", "事实与理由", "longtext", required=True),
        _evidence_field(),
        _court_field(),
        _copies_field(),
        FieldSpec("attachments", "其他附件", "list"),
        _date_field(),
    ],
    claims_field="claims", facts_fields=("facts",),
)

_POWER_OF_ATTORNEY = TemplateSchema(
    name="power-of-attorney", title="授权委托书", aliases=("授权委托书", "委托书"),
    description="当事人委托诉讼代理人用",
    fields=[
        FieldSpec("principal", "委托人", "party", required=True, roles=("委托人",)),
        FieldSpec("agents", "受托人", "parties", required=True, roles=("受托人", "受委托人", "代理人"), detail="name",
                  help="姓名，工作单位和职务（例如：北京某某律师事务所律师），联系方式"),
        FieldSpec("counterparty", "对方当事人", "text", required=True),
        FieldSpec("case_cause", "案由", "text", required=True),
        FieldSpec("standing", "委托人的诉讼地位", "text", required=True, help="例如：原告、被告、上诉人"),
        FieldSpec("authority", "代理权限", "text", required=True, default="一般授权", choices=("一般授权", "特别授权")),
        FieldSpec("authority_details", "特别授权事项", "list",
                  help="例如：承认、放弃、变更诉讼请求；进行和解；提起反诉或者上诉"),
        FieldSpec("court", "受诉法院", "text"),
        _date_field(),
    ],
)

_LOAN_CONTRACT = TemplateSchema(
    name="loan-contract", title="借款合同", aliases=("借款合同", "借款协议", "loan"),
    description="自然人、法人或者其他组织之间的借款合同",
    fields=[
        FieldSpec("lender", "出借人（甲方）", "party", required=True, roles=("出借人", "甲方")),
        FieldSpec("borrower", "借款人（乙方）", "party", required=True, roles=("借款人", "乙方")),
        FieldSpec("guarantor", "保证人（丙方）", "party", roles=("保证人", "丙方")),
        FieldSpec("amount", "借款金额", "amount", required=True),
        FieldSpec("purpose", "借款用途", "text", required=True),
        FieldSpec("start_date", "借款期限起始日", "date", required=True),
        FieldSpec("end_date", "借款期限届满日", "date", required=True),
        FieldSpec("annual_rate", "年利率（%）", "number", help="不填则不计利息"),
        FieldSpec("repayment", "还款方式", "text", required=True, default="借款期限届满时一次性归还全部本金和利息"),
        FieldSpec("borrower_account", "借款人收款账户", "text"),
        FieldSpec("lender_account", "出借人收款账户", "text"),
        FieldSpec("court", "约定的管辖法院", "text", required=True, help="例如：出借人住所地人民法院"),
        FieldSpec("other_terms", "其他约定", "list"),
        FieldSpec("copies", "合同份数", "number"),
        FieldSpec("sign_place", "签订地点", "text"),
        FieldSpec("date", "签订日期", "date", required=True, default="today"),
    ],
)

BUILTIN_TEMPLATES = {
    template.schema.name: template
    for template in [
        BuiltinTemplate(_COMPLAINT, _complaint_layout),
        BuiltinTemplate(_DEFENCE, _defence_layout),
        BuiltinTemplate(_APPEAL, _appeal_layout),
        BuiltinTemplate(_PROSECUTION, _prosecution_layout),
        BuiltinTemplate(_POWER_OF_ATTORNEY, _power_of_attorney_layout),
        BuiltinTemplate(_LOAN_CONTRACT, _loan_contract_layout),
    ]
}
