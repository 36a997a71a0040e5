"""Conduct patterns of criminal charges, written from the Criminal Law's definitions.

CAIL2018 facts mask the charge names (构成××罪), so a charge with few training
cases is recognised by the conduct that its article defines: 利用职务上的便利，
收受他人财物 for 受贿, 以要挟……索取 for 敲诈勒索. Each pattern is a regular
expression over the fact text with bounded gaps. The shipped list
(``charge_elements.json``) was written from the statute wording and kept only
where the pattern rarely matches training cases of other charges.

A model stores the patterns it was trained with, so its predictions do not
change when the shipped list does.
"""

from __future__ import annotations

import json
import re
from importlib import resources

from tianping.datasets.records import normalize_charge
from tianping.errors import InvalidInputError

# Maximum length of one pattern in characters.
MAX_PATTERN_CHARS = 300

# Conduct without which a charge cannot be made out, from the articles that define it. CAIL2018
# masks the offence's own verb (××了现金), so for 盗窃 and 诈骗 a masked word counts as the conduct.
REQUIRED_CONDUCT = {
    # Articles 263 and 269: violence, coercion or a threat, also to resist capture after a theft.
    "抢劫": "暴力|胁迫|威胁|恐吓|殴打|打伤|捅|砍|刺|持刀|刀具|凶器|枪|捆绑|挟持|掐|捂|抗拒抓捕|反抗|强行|劫|抢",
    # Article 264: taking in secret, so a fact of seizing or deceiving needs a word of stealth.
    "盗窃": r"窃|偷|盗|扒|秘密|××|[ＸX]{2}|^(?![\s\S]*(?:抢|夺|劫|骗))",
    # Article 266: deception, so a fact of seizing or stealing needs a word of deception.
    "诈骗": r"骗|虚构|隐瞒|谎称|假称|冒充|假冒|虚假|××|[ＸX]{2}|^(?![\s\S]*(?:抢|夺|劫|窃|偷|盗|扒))",
}
# The articles that define each charge of REQUIRED_CONDUCT. The article head's probability of
# these articles drops with the charge.
REQUIRED_CONDUCT_ARTICLES = {"抢劫": [263, 269], "盗窃": [264], "诈骗": [266]}
# A charge whose required conduct the fact does not mention keeps this share of its probability.
# Even a probability of 1 then falls below the lowest decision threshold (0.05), so the charge is
# predicted only when no other charge is more probable.
MISSING_CONDUCT_FACTOR = 0.04
# Models saved before the share was stored used this one.
EARLIER_MISSING_CONDUCT_FACTOR = 0.2
# The share of its probability that an employee's charge keeps when the defendant is a state functionary.
EMPLOYEE_CHARGE_SHARE = 0.2

# Offences of employees of companies and other units, each with the offence that the same
# conduct makes when a state functionary commits it: (employee's articles, state functionary's
# offence, its articles). 386 and 383 give the penalties of 受贿 and 贪污.
STATE_COUNTERPARTS = {
    "非国家工作人员受贿": ([163], "受贿", [385, 386]),
    "职务侵占": ([271], "贪污", [382, 383]),
    "挪用资金": ([272], "挪用公款", [384]),
}
_ORGAN = r"(?:局|厅|委员会|办公室|政府|法院|检察院|派出所|税务|海关|监狱|看守所|镇|乡|街道办事处)"
_POST = r"(?:局长|厅长|处长|科长|所长|镇长|乡长|县长|区长|市长|主任|科员|干部|民警|警察|法官|检察官|狱警|工作人员)"
# Wording that makes the defendant a state functionary: the legal term, or a post in a state organ
# held by the defendant (身为…局局长, 时任…镇人民政府副镇长). Village committees are left out,
# because their members act as state functionaries only in some of their duties.
STATE_FUNCTIONARY = (rf"(?<!非)(?<!不是)(?<!不属于)国家(?:机关)?工作人员|从事公务"
                     rf"|(?:身为|系|担任|时任|任|作为)[^，。；村]{{0,16}}?{_ORGAN}[^，。；、村]{{0,8}}?{_POST}")


class ChargeElements:
    """Regular expressions per charge; a fact supports a charge when one of its patterns matches."""

    def __init__(self, patterns: dict[str, list[str]]):
        self.patterns = {normalize_charge(name): list(regexes) for name, regexes in patterns.items() if regexes}
        self._compiled: dict[str, list[re.Pattern]] = {}
        for name, regexes in self.patterns.items():
            compiled = []
            for regex in regexes:
                if len(regex) > MAX_PATTERN_CHARS:
                    raise InvalidInputError(f"罪名 {name} 的要件模式过长：{len(regex)} 个字符",
                                            hint=f"每个模式不超过 {MAX_PATTERN_CHARS} 个字符")
                try:
                    compiled.append(re.compile(regex))
                except re.error as exc:
                    raise InvalidInputError(f"罪名 {name} 的要件模式无效：{regex!r}（{exc.msg}）",
                                            hint="请按 Python 正则表达式语法修改") from None
            self._compiled[name] = compiled

    @classmethod
    def shipped(cls) -> ChargeElements:
        """Return the patterns shipped with tianping."""
        text = resources.files("tianping.prediction").joinpath("charge_elements.json").read_text(encoding="utf-8")
        return cls(json.loads(text)["charges"])

    def __len__(self) -> int:
        return len(self.patterns)

    def match(self, fact: str, name: str) -> str | None:
        """Return the text in ``fact`` that shows the conduct of charge ``name``, or None."""
        for pattern in self._compiled.get(normalize_charge(name), ()):
            found = pattern.search(fact)
            if found:
                return found.group(0)
        return None
