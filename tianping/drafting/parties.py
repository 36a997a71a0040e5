"""Party blocks in the order the court samples prescribe."""

from __future__ import annotations

import re

from tianping.drafting.numerals import text_date

_ORGANIZATION_SUFFIX = re.compile(
    r"(公司|有限公司|集团|厂|店|中心|合作社|事务所|银行|支行|分行|学校|大学|学院|医院|委员会|协会|研究所|研究院|商行|工作室|经营部)$"
)


def party_kind(party: dict) -> str:
    """Return "organization" or "person": an explicit kind wins, then the name and the details given."""
    kind = str(party.get("kind") or "").strip()
    if kind in ("organization", "organisation", "单位", "法人", "组织", "其他组织"):
        return "organization"
    if kind in ("person", "自然人", "个人", "公民"):
        return "person"
    if party.get("credit_code") or party.get("representative"):
        return "organization"
    if _ORGANIZATION_SUFFIX.search(str(party.get("name") or "")):
        return "organization"
    return "person"


def party_block(role: str, party: dict) -> str:
    """Write one party as 原告：张三，男，1985年6月12日出生，汉族，……，住……。联系方式：……。"""
    if party_kind(party) == "organization":
        return _organization_block(role, party)
    return _person_block(role, party)


def _person_block(role: str, party: dict) -> str:
    details = [str(party["name"])] if party.get("name") else ["（姓名）"]
    if party.get("gender"):
        details.append(str(party["gender"]))
    if party.get("birth_date"):
        details.append(f"{text_date(party['birth_date'])}出生")
    if party.get("ethnicity"):
        details.append(str(party["ethnicity"]))
    if party.get("employer"):
        details.append(str(party["employer"]))
    if party.get("address"):
        details.append(f"住{party['address']}")
    text = f"{_role_with_standing(role, party)}：{'，'.join(details)}。"
    if party.get("id_number"):
        text += f"公民身份号码：{party['id_number']}。"
    if party.get("phone"):
        text += f"联系方式：{party['phone']}。"
    return text


def _organization_block(role: str, party: dict) -> str:
    name = str(party.get("name") or "（名称）")
    text = f"{_role_with_standing(role, party)}：{name}"
    text += f"，住所地{party['address']}。" if party.get("address") else "。"
    if party.get("credit_code"):
        text += f"统一社会信用代码：{party['credit_code']}。"
    if party.get("representative"):
        head = party.get("representative_kind") or "法定代表人"
        title = f"，{party['representative_title']}" if party.get("representative_title") else ""
        text += f"{head}：{party['representative']}{title}。"
    if party.get("phone"):
        text += f"联系方式：{party['phone']}。"
    return text


def _role_with_standing(role: str, party: dict) -> str:
    standing = party.get("standing")
    return f"{role}（{standing}）" if standing else role


def party_names(parties: list[dict]) -> str:
    return "、".join(str(party.get("name") or "") for party in parties if party.get("name"))
