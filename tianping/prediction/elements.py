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

import itertools
import json
import re
from collections.abc import Sequence
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


# The start of a numbered heading in an indictment or a judgment (一、 （二） 3.), where the account of
# one count begins, with an optional 关于.
_HEADING = (r"(?:^|(?<=[。，,：:；;\s]))(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)][、.．]?"
            r"|\d+[、.．])\s*(?:关于)?")
# What may follow the offence names that open a heading before the heading ends: a word for the
# count (盗窃犯罪事实, 故意伤害的事实, 盗窃部分), 犯罪 or 罪, and a short remark in brackets (（未遂）,
# （共三起）). After a bare name, 犯罪 or 罪, a comma does not end a heading, because lists of earlier
# sentences (1、盗窃，2012年被判处) and of disputed charges (一、诈骗罪，证据不足) read that way.
_REMARK = r"(?:[（(][^（）()]{1,10}[）)])?"
_HEADING_TAIL = re.compile(rf"{_REMARK}(?:(?:的犯罪事实|犯罪的事实|犯罪事实|的事实|事实|部分|部份){_REMARK}"
                           rf"(?:[。：:；;\s，,]|$)|(?:犯罪|罪)?{_REMARK}(?:[。：:；;\s]|$))")
# Words that join two offence names in one heading (一、非法拘禁、故意伤害的事实).
_NAME_JOINERS = "、和及"
_HEADING_START = re.compile(_HEADING)
# A fact that masks the name of an offence (构成××罪, ××案, a heading 一、××) comes from a data set that
# masks the charged offence everywhere, as CAIL2018 does, so any offence it names in plain words is
# another one.
_MASKED_OFFENCE = re.compile(rf"(?:××|[ＸX]{{2}})(?:罪|犯罪|案)|{_HEADING}(?:××|[ＸX]{{2}})")
# Text just before a charge name that makes the name no account of the defendant's conduct. It
# covers a suspicion or an earlier act (涉嫌盗窃, 曾盗窃, but not the surname in 曾某抢劫) and another
# person's act known to the defendant (明知李某盗窃, but not 明知是毒品而贩卖). It also covers a
# denial (没有抢劫, 否认其实施了抢劫, 不构成抢劫) and the passive (被拐卖, 被人抢劫, but not 被告人抢劫
# or 殴打被害人后抢劫).
_NOT_CONDUCT_BEFORE = re.compile(r"(?:(?:涉嫌|曾(?![某\d])|明知(?!是)|否认|不构成|不属于|辩称)[^，。；]{0,8}"
                                 r"|(?:没有|未|不是|并非)[^，。；]{0,3}|被(?![告害])[^，。；]{0,3})$")
# Text just after a charge name that makes it no account of the defendant's conduct: an offence or
# a case (盗窃罪, 诈骗案), an earlier sentence or penalty (因盗窃被判处, 因吸毒被行政拘留), or a person
# described by the act (抢劫者, 藏匿盗窃的李某, 为盗窃的表弟提供住处).
_NOT_CONDUCT_AFTER = re.compile(r"罪|犯罪|案|者|[^，。；]{0,4}被(?:判|处|劳动教养|行政|收容)"
                                r"|的[^，。；]{0,3}(?:某|弟|兄|哥|姐|妹|夫|妻|友|人员|男子|女子)")
# Characters of context read before a charge name.
_CONTEXT_BEFORE = 10
# Names of an activity that is an offence only under further conditions: gambling (Article 303
# needs 聚众赌博 or 以赌博为业) and smuggling (each 走私 charge names its goods).
_ACTIVITY_NAMES = frozenset({"赌博", "走私"})


def charge_name_forms(label: str) -> list[str]:
    """Return the words that name the conduct of charge ``label`` in a fact.

    Alternatives in brackets expand ([走私、贩卖、运输、制造]毒品 gives 走私毒品,
    贩卖毒品, 运输毒品 and 制造毒品). A name with alternatives outside brackets
    (走私、贩卖、运输、制造毒品) cannot be split safely and gives none.
    """
    options: list[list[str]] = []
    for part in re.split(r"(\[[^\]]*\])", label.strip()):
        if part.startswith("["):
            options.append([piece for piece in part[1:-1].split("、") if piece])
        elif part:
            if "、" in part:
                return []
            options.append([part[:-1] if part.endswith("罪") and len(part) > 2 else part])
    forms = ["".join(choice) for choice in itertools.product(*options)] if options else []
    return [form for form in forms if len(form) >= 2 and form not in _ACTIVITY_NAMES]


def charge_heading_forms(label: str) -> list[str]:
    """Return the words that name charge ``label`` at the start of a heading.

    These are the plain-word names of ``charge_name_forms``, the charge's full
    name without brackets (走私、贩卖、运输、制造毒品) and activity names such as
    赌博: a heading that opens with a name announces a count of that offence.
    """
    forms = charge_name_forms(label) + [normalize_charge(label)]
    return list(dict.fromkeys(form for form in forms if len(form) >= 2))


def masks_offences(fact: str) -> bool:
    """Return whether ``fact`` masks an offence name (构成××罪, ××案, a heading 一、××)."""
    return _MASKED_OFFENCE.search(fact) is not None


def _longest_name(fact: str, position: int, forms_by_label: Sequence[Sequence[str]]) -> tuple[int, str] | None:
    """Return the label and the longest of its forms that ``fact`` has at ``position``, or None."""
    best: tuple[int, str] | None = None
    for label, forms in enumerate(forms_by_label):
        for form in forms:
            if form and fact.startswith(form, position) and (best is None or len(form) > len(best[1])):
                best = (label, form)
    return best


def named_in_headings(fact: str, forms_by_label: Sequence[Sequence[str]]) -> dict[int, str]:
    """Return, per label index, the charge name that opens a numbered heading of ``fact``.

    Indictments and judgments of several counts give each its own heading
    (一、盗窃犯罪事实, （二）故意伤害部分, 二、关于赌博的事实). A heading may name
    two offences (一、非法拘禁、故意伤害的事实). At each position the longest name
    counts (合同诈骗, not 诈骗). The names count only when the heading ends after
    them, so a numbered line that runs on (1、盗窃现场勘验笔录, 1、盗窃，2012年被判处)
    names none. Facts that mask an offence name name no charge.
    """
    if masks_offences(fact):
        return {}
    named: dict[int, str] = {}
    for heading in _HEADING_START.finditer(fact):
        found, position = [], heading.end()
        while (name := _longest_name(fact, position, forms_by_label)) is not None:
            found.append(name)
            position += len(name[1])
            if position < len(fact) and fact[position] in _NAME_JOINERS:
                position += 1
            else:
                break
        if found and _HEADING_TAIL.match(fact, position):
            for label, form in found:
                named.setdefault(label, form)
    return named


def named_conduct(fact: str, forms_by_label: Sequence[Sequence[str]]) -> dict[int, str]:
    """Return, per label index, the charge name with which ``fact`` describes the defendant's conduct.

    A fact with 持刀抢劫被害人 or 贩卖毒品给吸毒人员 names the conduct of a
    charge in plain words. A name does not count when it names an offence, a
    case or a person (盗窃罪, 盗窃案, 盗窃的李某), or precedes an earlier
    sentence (因盗窃被判处). Nor does it count after a suspicion, an earlier
    act, a denial or the passive, or inside the name of another label's
    conduct (诈骗 in 合同诈骗). Facts that mask an offence name (构成××罪) name
    no conduct.
    """
    if masks_offences(fact):
        return {}
    spans: dict[int, list[tuple[int, int]]] = {}
    for label, forms in enumerate(forms_by_label):
        for form in forms:
            for match in re.finditer(re.escape(form), fact):
                start, end = match.span()
                if _NOT_CONDUCT_AFTER.match(fact, end):
                    continue
                if _NOT_CONDUCT_BEFORE.search(fact[max(0, start - _CONTEXT_BEFORE):start]):
                    continue
                spans.setdefault(label, []).append((start, end))
    every = [(span, label) for label, found in spans.items() for span in found]
    named = {}
    for label, found in spans.items():
        for start, end in found:
            inside = any(other != label and other_start <= start and end <= other_end
                         and (other_start, other_end) != (start, end)
                         for (other_start, other_end), other in every)
            if not inside:
                named[label] = fact[start:end]
                break
    return named


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
