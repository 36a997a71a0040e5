"""LawBench scoring of tasks 3-1 (articles), 3-3 (charges) and 3-4 (prison term).

Written from the task definitions in the LawBench benchmark (open-compass/LawBench):

* 3-1 and 3-3: per item, the F1 between the set of predicted and of gold
  articles (charges), averaged over items. An item whose prediction yields no
  label scores 0 and counts as an abstention.
* 3-4: per item, d = |log(y + 1) − log(ŷ + 1)| with y and ŷ in months; an item
  without a readable prediction gets d = log(216). The score is
  (log 216 − mean d) / log 216. Items whose gold answer is death or life
  imprisonment are left out.

Scores are returned between 0 and 100. Predictions are read from answer text
(``[法条]刑法第264条<eoa>``), so text from any system can be scored the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from tianping.errors import InvalidInputError
from tianping.text.numerals import CN_NUMERAL_CHARS, cn_to_int

_NUMERAL_RUN = re.compile(f"[{CN_NUMERAL_CHARS}]+")
_PARAGRAPH = re.compile(r"第([^第条]*?)款")
_ARTICLE = re.compile(r"第(.*?)条")
_DIGITS = re.compile(r"\d+")
_MONTHS = re.compile(r"(\d+)个月")
_BARE_MONTHS = re.compile(r"(\d+)月")
_YEARS = re.compile(r"(\d+)年")

# log(216): a 216-month (18-year) distance, the penalty of a missing term prediction.
_TERM_CEILING = math.log(216)


def _numerals_to_digits(text: str) -> str:
    def convert(match: re.Match) -> str:
        try:
            return str(cn_to_int(match.group(0)))
        except ValueError:
            return match.group(0)

    return _NUMERAL_RUN.sub(convert, text)


def _strip_markers(text: str, tag: str) -> str:
    for marker in (f"[{tag}]", f"{tag}:", f"{tag}：", "<eoa>"):
        text = text.replace(marker, "")
    return text.strip()


def parse_articles(text: str) -> set[int]:
    """Read Criminal Law article numbers from an answer such as 法条:刑法第234、275条.

    Each 、-separated chunk contributes its first number, after 第…款 is dropped
    and Chinese numerals are converted.
    """
    numbers = set()
    for chunk in _strip_markers(text, "法条").split("、"):
        chunk = _PARAGRAPH.sub("", chunk)
        chunk = _ARTICLE.sub(lambda match: match.group(1), chunk)
        found = _DIGITS.findall(_numerals_to_digits(chunk))
        if found:
            numbers.add(int(found[0]))
    return numbers


def parse_charges(text: str, charge_names: Iterable[str] | None = None) -> set[str]:
    """Read charge names from an answer such as 罪名:盗窃;诈骗.

    Without ``charge_names`` the answer is split on semicolons. With a list of
    known names, every known name that occurs in the text counts, which is how
    free-form model output is read.
    """
    body = _strip_markers(text, "罪名")
    if charge_names is not None:
        return {name for name in charge_names if name and name in body}
    names = set()
    for part in re.split(r"[;；]", body):
        name = part.strip().rstrip("。")
        if name.endswith("罪") and len(name) > 2:
            name = name[:-1]
        if name:
            names.add(name)
    return names


def parse_term_months(text: str) -> int | None:
    """Read a prison term in months from an answer such as 刑期:14个月; None when there is none.

    A number before 个月 or 月 wins; otherwise a number before 年 counts as years.
    """
    body = _numerals_to_digits(text)
    months = _MONTHS.findall(body) + _BARE_MONTHS.findall(body)
    if months:
        return int(months[0])
    years = _YEARS.findall(body)
    if years:
        return int(years[0]) * 12
    return None


def _set_f1(gold: set, predicted: set) -> float:
    if not gold or not predicted:
        return 0.0
    hits = len(gold & predicted)
    if not hits:
        return 0.0
    precision = hits / len(predicted)
    recall = hits / len(gold)
    return 2 * precision * recall / (precision + recall)


def _check(answers: Sequence[str], predictions: Sequence[str]) -> None:
    if len(answers) != len(predictions):
        raise InvalidInputError(f"LawBench 答案有 {len(answers)} 条，预测有 {len(predictions)} 条，数量不一致",
                                hint="请为每一项各提供一条预测")
    if not answers:
        raise InvalidInputError("LawBench 评估集为空", hint="请至少提供一项")


def score_articles(answers: Sequence[str], predictions: Sequence[str]) -> dict:
    """Score task 3-1: mean per-item F1 of article sets, 0–100."""
    _check(answers, predictions)
    scores, abstentions = [], 0
    for answer, prediction in zip(answers, predictions):
        predicted = parse_articles(prediction)
        abstentions += not predicted
        scores.append(_set_f1(parse_articles(answer), predicted))
    return {"score": sum(scores) / len(scores) * 100, "abstention_rate": abstentions / len(answers),
            "items": len(answers)}


def score_charges(answers: Sequence[str], predictions: Sequence[str],
                  charge_names: Iterable[str] | None = None) -> dict:
    """Score task 3-3: mean per-item F1 of charge sets, 0–100."""
    _check(answers, predictions)
    names = list(charge_names) if charge_names is not None else None
    scores, abstentions = [], 0
    for answer, prediction in zip(answers, predictions):
        predicted = parse_charges(prediction, names)
        abstentions += not predicted
        scores.append(_set_f1(parse_charges(answer), predicted))
    return {"score": sum(scores) / len(scores) * 100, "abstention_rate": abstentions / len(answers),
            "items": len(answers)}


def score_terms(answers: Sequence[str], predictions: Sequence[str]) -> dict:
    """Score task 3-4: normalised log distance of prison terms, 0–100."""
    _check(answers, predictions)
    distances, abstentions = [], 0
    for answer, prediction in zip(answers, predictions):
        if "死刑" in answer or "无期" in answer:
            continue
        gold = parse_term_months(answer)
        if gold is None:
            raise InvalidInputError(f"LawBench 答案中没有刑期：{answer!r}", hint="答案应形如 刑期:12个月")
        predicted = parse_term_months(prediction)
        if predicted is None:
            abstentions += 1
            distances.append(_TERM_CEILING)
        else:
            distances.append(abs(math.log(gold + 1) - math.log(predicted + 1)))
    if not distances:
        raise InvalidInputError("LawBench 评估集中没有有期徒刑的项", hint="死刑与无期徒刑的项不计分")
    mean_distance = sum(distances) / len(distances)
    return {"score": (_TERM_CEILING - mean_distance) / _TERM_CEILING * 100,
            "abstention_rate": abstentions / len(answers), "items": len(distances)}


def format_answer(task: str, *, charges: Sequence[str] = (), articles: Sequence[int] = (),
                  months: int | None = None) -> str:
    """Write a structured prediction as LawBench answer text for ``task``."""
    if task == "3-1":
        return "[法条]" + "、".join(f"刑法第{number}条" for number in articles) + "<eoa>"
    if task == "3-3":
        return "[罪名]" + ";".join(charges) + "<eoa>"
    if task == "3-4":
        return "[刑期]" + (f"{months}个月" if months is not None else "") + "<eoa>"
    raise InvalidInputError(f"不支持的 LawBench 任务：{task}", hint="可用任务为 3-1、3-3、3-4")
