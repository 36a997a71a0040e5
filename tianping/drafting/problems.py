"""Problems found before a document is written: the field, what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

# Codes of the problems a check can report. Problems with severity "error" stop the
# document from being written; "invalid_citation" can be overridden by the user.
PROBLEM_CODES = {
    "missing_field": "缺少必填内容",
    "invalid_value": "内容格式无效",
    "unknown_field": "模板没有该字段",
    "date_defaulted": "日期未填写，已用今天",
    "invalid_id_number": "公民身份号码无效",
    "id_number_mismatch": "公民身份号码与出生日期或性别不一致",
    "invalid_credit_code": "统一社会信用代码无效",
    "amount_mismatch": "金额大小写不一致",
    "claim_without_basis": "请求在事实和理由中没有依据",
    "invalid_citation": "法条引用无效",
}


@dataclass
class Problem:
    """One problem with the data of a document."""

    code: str
    field: str
    message: str
    fix: str
    severity: str = "error"

    def to_dict(self) -> dict:
        return {"code": self.code, "label": PROBLEM_CODES[self.code], "field": self.field,
                "message": self.message, "fix": self.fix, "severity": self.severity}
