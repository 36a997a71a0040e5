"""Checks run on a document before it is written."""

from __future__ import annotations

import datetime as _dt
import itertools
import re
from decimal import Decimal

from tianping.drafting.numerals import figures, find_amount_pairs, find_amounts, text_date
from tianping.drafting.problems import Problem
from tianping.drafting.schema import TemplateSchema

# Weights of GB 11643-1999 (ISO 7064 MOD 11-2) for the first 17 digits of a resident ID.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
# Characters and weights of the unified social credit code (GB 32100-2015); I, O, Z, S and V are not used.
_CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Claims for these need a word from the paired list in the facts. Court costs
# (诉讼费, 受理费, 保全费 …) are decided by the court and need no basis.
_CLAIM_BASIS_WORDS = {
    "利息": ("利息", "利率", "年息", "月息", "计息", "贷款市场报价利率", "LPR", "逾期"),
    "违约金": ("违约金",),
    "律师费": ("律师费", "代理费"),
    "滞纳金": ("滞纳金",),
    "精神损害抚慰金": ("精神",),
    "医疗费": ("医疗费", "治疗", "医院"),
    "误工费": ("误工",),
    "租金": ("租金",),
    "工资": ("工资", "薪", "劳动报酬"),
}
_COURT_COSTS = re.compile(r"诉讼费|受理费|保全费|公告费|鉴定费|诉讼费用")


def check_resident_id(number: str) -> str | None:
    """Return None for a valid 18-character resident ID, else the reason it is invalid (in Chinese)."""
    value = number.strip().upper()
    if len(value) != 18:
        return f"应为 18 位，实为 {len(value)} 位"
    if not value[:17].isdigit() or not value[:17].isascii() or not (value[17].isdigit() or value[17] == "X"):
        return "前 17 位应为数字，第 18 位应为数字或 X"
    try:
        _dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"第 7 至 14 位 {value[6:14]} 不是有效的出生日期"
    expected = id_check_char(value[:17])
    if value[17] != expected:
        return f"校验码错误：按前 17 位计算，第 18 位应为 {expected}，实为 {value[17]}"
    return None


def id_birth_date_and_gender(number: str) -> tuple[_dt.date, str]:
    """Return the birth date (digits 7–14) and gender (digit 17: odd 男, even 女) of a valid resident ID."""
    value = number.strip().upper()
    birth = _dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    return birth, "男" if int(value[16]) % 2 else "女"


def id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11]


def check_credit_code(code: str) -> str | None:
    """Return None for a valid unified social credit code, else the reason it is invalid (in Chinese)."""
    value = code.strip().upper()
    if len(value) != 18:
        return f"应为 18 位，实为 {len(value)} 位"
    wrong = sorted({char for char in value if char not in _CREDIT_CODE_CHARS})
    if wrong:
        return f"含有不允许的字符 {'、'.join(wrong)}（不使用 I、O、Z、S、V）"
    total = sum(_CREDIT_CODE_CHARS.index(char) * weight for char, weight in zip(value, _CREDIT_CODE_WEIGHTS))
    expected = _CREDIT_CODE_CHARS[(31 - total % 31) % 31]
    if value[17] != expected:
        return f"校验码错误：按前 17 位计算，第 18 位应为 {expected}，实为 {value[17]}"
    return None


def check_parties(schema: TemplateSchema, values: dict) -> list[Problem]:
    """Check every resident ID number and credit code, and that an ID agrees with the birth date and gender."""
    problems = []
    for spec in schema.fields:
        if spec.type not in ("party", "parties") or spec.name not in values:
            continue
        parties = [values[spec.name]] if spec.type == "party" else values[spec.name]
        for index, party in enumerate(parties):
            where = spec.name if spec.type == "party" else f"{spec.name}[{index}]"
            problems += _check_party_id(where, spec.label, party)
            problems += _check_party_credit_code(where, spec.label, party)
    return problems


def _check_party_credit_code(where: str, label: str, party: dict) -> list[Problem]:
    code = party.get("credit_code")
    if not code:
        return []
    reason = check_credit_code(str(code))
    if reason is None:
        return []
    who = party.get("name") or where
    return [Problem("invalid_credit_code", f"{where}.credit_code",
                    f"{label} {who} 的统一社会信用代码 {code} 无效：{reason}",
                    "请对照营业执照核对代码；第 18 位校验码按 GB 32100-2015 计算")]


def _check_party_id(where: str, label: str, party: dict) -> list[Problem]:
    number = party.get("id_number")
    if not number:
        return []
    who = party.get("name") or where
    reason = check_resident_id(str(number))
    if reason:
        return [Problem("invalid_id_number", f"{where}.id_number", f"{label} {who} 的公民身份号码 {number} 无效：{reason}",
                        "请对照身份证核对号码；号码正确时第 18 位校验码按 GB 11643 计算")]
    problems = []
    birth, gender = id_birth_date_and_gender(str(number))
    if isinstance(party.get("birth_date"), _dt.date) and party["birth_date"] != birth:
        problems.append(Problem("id_number_mismatch", f"{where}.birth_date",
                                f"{label} {who} 的出生日期 {text_date(party['birth_date'])} 与公民身份号码中的 "
                                f"{text_date(birth)} 不一致", "请核对出生日期或公民身份号码"))
    if party.get("gender") in ("男", "女") and party["gender"] != gender:
        problems.append(Problem("id_number_mismatch", f"{where}.gender",
                                f"{label} {who} 的性别“{party['gender']}”与公民身份号码（第 17 位表示{gender}性）不一致",
                                "请核对性别或公民身份号码"))
    return problems


def check_amount_pairs(fields: dict[str, str]) -> list[Problem]:
    """Report amounts whose capital numerals and figures disagree, in each field's text."""
    problems = []
    for name, text in fields.items():
        for matched, capital_value, figure_value in find_amount_pairs(text):
            if capital_value is None or figure_value is None:
                problems.append(Problem("amount_mismatch", name, f"{name} 中的金额“{matched}”无法读取",
                                        "请写成 人民币伍万元整（¥50,000.00） 的形式"))
            elif capital_value != figure_value:
                problems.append(Problem(
                    "amount_mismatch", name,
                    f"{name} 中的金额“{matched}”大写为 {figures(capital_value)}，小写为 {figures(figure_value)}，二者不一致",
                    "请核对金额，使大写与小写一致；在数据中写成 {text: ..., amount: 50000} 可自动生成两种写法"))
    return problems


def check_claim_basis(schema: TemplateSchema, values: dict) -> list[Problem]:
    """Report claims whose amounts or kinds of relief (利息, 违约金 …) the facts section never mentions."""
    if not schema.claims_field or not values.get(schema.claims_field) or not schema.facts_fields:
        return []
    facts = "\n".join(str(values.get(name) or "") for name in schema.facts_fields)
    if not facts.strip():
        return []
    fact_amounts = sorted({amount for amount, _, _ in find_amounts(facts) if amount > 0})
    label = schema.field(schema.claims_field).label
    problems = []
    for index, claim in enumerate(values[schema.claims_field], start=1):
        if _COURT_COSTS.search(claim) and not _CLAIM_BASIS_WORDS.keys() & _words_in(claim):
            continue
        where = f"{schema.claims_field}[{index - 1}]"
        for amount in sorted({amount for amount, _, _ in find_amounts(claim) if amount > 0}):
            if not _has_amount_basis(amount, fact_amounts):
                problems.append(Problem(
                    "claim_without_basis", where,
                    f"{label}第 {index} 项主张的金额 {figures(amount)} 在事实和理由中没有出现，也不是其中金额之和",
                    "请在事实和理由中写明该金额的来源（例如本金、利息的计算），或更正请求的金额"))
        for word in _words_in(claim):
            if not any(basis in facts for basis in _CLAIM_BASIS_WORDS[word]):
                problems.append(Problem(
                    "claim_without_basis", where,
                    f"{label}第 {index} 项请求{word}，但事实和理由中没有提到{word}的约定或依据",
                    f"请在事实和理由中写明{word}的约定、计算方法或法律依据，或删去该项请求"))
    return problems


def _words_in(claim: str) -> set[str]:
    return {word for word in _CLAIM_BASIS_WORDS if word in claim}


def _has_amount_basis(amount: Decimal, fact_amounts: list[Decimal]) -> bool:
    """True when the amount appears in the facts or is the sum of two or three amounts there."""
    if amount in fact_amounts:
        return True
    candidates = fact_amounts[:30]
    for size in (2, 3):
        for combination in itertools.combinations(candidates, size):
            if sum(combination) == amount:
                return True
    # Amounts that are differences (a loan less what was repaid) are common in claims.
    return any(high - low == amount for high, low in itertools.combinations(reversed(candidates), 2))
