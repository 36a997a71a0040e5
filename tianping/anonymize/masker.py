"""Apply a policy to detected findings: pseudonyms, placeholders, deletion and × masking."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from pathlib import Path

from tianping.anonymize.detect import detect, is_family_case
from tianping.anonymize.findings import Finding
from tianping.anonymize.policy import Policy, resolve_policy
from tianping.anonymize.surnames import surname_of

_STEMS = "甲乙丙丁戊己庚辛壬癸"
# Joins the segments of one document for detection. No finding spans a blank line, so each stays in its segment.
_SEGMENT_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Replacement:
    """One change made to the text: the finding, the action taken and the new text."""

    finding: Finding
    action: str
    new_text: str


@dataclass
class MaskResult:
    """The masked text with the findings and the replacements made in it.

    ``replacements`` lists only changed spans; findings kept by the policy are
    in ``findings`` but not in ``replacements``.
    """

    text: str
    original: str
    findings: list[Finding]
    replacements: list[Replacement]
    family_case: bool = False
    pseudonyms: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Return the number of replaced spans per entity type."""
        return dict(Counter(r.finding.type for r in self.replacements))

    def mapping_entries(self) -> list[dict]:
        """Return, for each replacement, the original text and where its new text sits in the output."""
        entries = []
        shift = 0
        for replacement in self.replacements:
            finding = replacement.finding
            out_start = finding.start + shift
            entries.append({
                "type": finding.type,
                "role": finding.role,
                "original": finding.text,
                "replacement": replacement.new_text,
                "start": finding.start,
                "end": finding.end,
                "output_start": out_start,
                "output_end": out_start + len(replacement.new_text),
            })
            shift += len(replacement.new_text) - (finding.end - finding.start)
        return entries


def pseudonym_base(name: str) -> str:
    """Return surname + 某 for a name; names with · or an unknown surname keep their first character."""
    surname = surname_of(name) if "·" not in name else None
    return (surname or name[:1]) + "某"


class Anonymizer:
    """Detect and mask personal data under one policy.

    One ``mask`` call is one document: the same name gets the same pseudonym
    throughout it, and different names with the same surname get 某甲, 某乙 …
    (or 某1, 某2 … with ``duplicate_suffix: digits``).
    """

    def __init__(self, policy: "Policy | str | Path | dict | None" = None):
        self.policy = resolve_policy(policy)

    def detect(self, text: str) -> list[Finding]:
        return detect(text, self.policy)

    def mask(self, text: str) -> MaskResult:
        findings = self.detect(text)
        family = is_family_case(text, self.policy)
        return self.apply(text, findings, family)

    def mask_segments(self, segments: list[str]) -> list[MaskResult]:
        """Mask several texts of one document (paragraphs, fields of a record) with shared pseudonyms.

        The segments are detected together, so a name found in one segment is
        masked in all of them, and the same name gets the same pseudonym.
        """
        joined = _SEGMENT_SEPARATOR.join(segments)
        findings = self.detect(joined)
        family = is_family_case(joined, self.policy)
        pseudonyms = self._pseudonyms(findings, family)

        results = []
        offset = 0
        for segment in segments:
            end = offset + len(segment)
            local = [
                dataclass_replace(f, start=f.start - offset, end=f.end - offset)
                for f in findings
                if f.start >= offset and f.end <= end
            ]
            results.append(self.apply(segment, local, family, pseudonyms))
            offset = end + len(_SEGMENT_SEPARATOR)
        return results

    def apply(self, text: str, findings: list[Finding], family: bool,
              pseudonyms: dict[str, str] | None = None) -> MaskResult:
        """Replace the findings in ``text`` according to the policy."""
        if pseudonyms is None:
            pseudonyms = self._pseudonyms(findings, family)
        replacements = []
        pieces = []
        position = 0
        for finding in findings:
            action, new_text = self._replacement(finding, family, pseudonyms)
            if action == "keep":
                continue
            pieces.append(text[position:finding.start])
            pieces.append(new_text)
            position = finding.end
            replacements.append(Replacement(finding, action, new_text))
        pieces.append(text[position:])
        return MaskResult("".join(pieces), text, findings, replacements, family, pseudonyms)

    def _action(self, finding: Finding, family: bool) -> str:
        if finding.type == "person":
            if finding.masked:
                return "keep"
            return self.policy.person_action(finding.role or "unknown", family)
        return self.policy.entity_action(finding.type)

    def _replacement(self, finding: Finding, family: bool, pseudonyms: dict[str, str]) -> tuple[str, str]:
        action = self._action(finding, family)
        if action == "keep":
            return action, finding.text
        if action == "pseudonym":
            return action, pseudonyms[finding.text]
        if action == "delete":
            return action, ""
        if action == "mask":
            if finding.type == "person":
                base = pseudonym_base(finding.text)[:-1]
                return action, base + "×" * (len(finding.text) - len(base))
            return action, "×" * len(finding.text)
        return action, self.policy.placeholder(finding.type)

    def _pseudonyms(self, findings: list[Finding], family: bool) -> dict[str, str]:
        """Assign surname + 某 to each name to pseudonymise, with 甲/乙 or 1/2 where surnames repeat."""
        used_names = {f.text for f in findings if f.type == "person" and f.masked}
        groups: dict[str, list[str]] = {}
        for finding in findings:
            if finding.type != "person" or self._action(finding, family) != "pseudonym":
                continue
            names = groups.setdefault(pseudonym_base(finding.text), [])
            if finding.text not in names:
                names.append(finding.text)

        pseudonyms = {}
        for base, names in groups.items():
            if len(names) == 1 and base not in used_names:
                pseudonyms[names[0]] = base
                continue
            suffixes = self._suffixes()
            for name in names:
                candidate = base + next(suffixes)
                while candidate in used_names:
                    candidate = base + next(suffixes)
                pseudonyms[name] = candidate
                used_names.add(candidate)
        return pseudonyms

    def _suffixes(self):
        if self.policy.duplicate_suffix == "stems":
            yield from _STEMS
            # More than ten people with one surname: continue with 甲1, 乙1 … so names stay unique.
            round_number = 1
            while True:
                for stem in _STEMS:
                    yield f"{stem}{round_number}"
                round_number += 1
        number = 1
        while True:
            yield str(number)
            number += 1


def mask_text(text: str, policy: "Policy | str | Path | dict | None" = None) -> str:
    """Return ``text`` with personal data masked under ``policy`` (default: the built-in ``court`` policy).

    ``policy`` may be a Policy, a built-in name (``court``, ``strict``), a YAML
    file path or a mapping in the YAML format.
    """
    return Anonymizer(policy).mask(text).text


def write_mapping(path: str | Path, documents: list[dict]) -> Path:
    """Write a re-identification mapping as JSON that only the owner can read (mode 0600).

    An existing file is replaced, and its mode is set to 0600 before any data is written.
    """
    file_path = Path(path)
    file_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(file_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # os.open applies the mode only to new files, so an existing file is restricted here.
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"version": 1, "documents": documents}, handle, ensure_ascii=False, indent=2)
    return file_path
