"""Masking policies: what to do with each kind of personal data and each role of a person.

Two policies are built in:

``court``
    Follows the Supreme People's Court provisions on publishing judgments on the
    internet (法释〔2016〕19号): victims, witnesses, appraisers, minors, legal
    representatives and relatives get surname + 某; in family and inheritance
    cases the parties do too. Defendants, civil parties, lawyers and officials
    acting in office keep their names. ID numbers, addresses, phone numbers,
    bank accounts, e-mail, licence plates, birth dates and health data are
    replaced by a placeholder. This is the default.
``strict``
    Every name gets surname + 某 and every other kind is replaced by a
    placeholder. Meant for training data, prompts sent to remote models, and logs.

Neither policy detects organisation names; ``organizations: true`` adds them,
and ``entities: {organization: replace}`` masks them.

A YAML policy starts from one of them (``base``) and overrides single keys.

NOTE: the ``court`` policy was written from a summary of the 2016 provisions,
not checked article by article against their text.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from tianping.anonymize.findings import ENTITY_LABELS, ENTITY_TYPES, ROLES
from tianping.errors import InvalidInputError
from tianping.text.structured import load_yaml

PERSON_ACTIONS = ("keep", "pseudonym", "replace", "delete", "mask")
ENTITY_ACTIONS = ("keep", "replace", "delete", "mask")
SUFFIX_STYLES = ("stems", "digits")
MODEL_MODES = ("auto", "true", "false")
FAMILY_MODES = ("auto", "true", "false")
# Policy files larger than this are rejected; a policy is a few dozen lines.
MAX_POLICY_BYTES = 64 * 1024

_TOP_KEYS = (
    "base", "name", "model", "min_confidence", "family_case", "duplicate_suffix",
    "organizations", "persons", "family_case_persons", "entities", "placeholders",
)
_NON_PERSON_TYPES = tuple(t for t in ENTITY_TYPES if t != "person")


@dataclass
class Policy:
    """A complete masking policy; see the module docstring for the built-in ones."""

    name: str
    persons: dict[str, str]
    family_case_persons: dict[str, str]
    entities: dict[str, str]
    placeholders: dict[str, str]
    organizations: bool = False
    model: str = "auto"
    min_confidence: float = 0.6
    family_case: str = "auto"
    duplicate_suffix: str = "stems"
    source: str | None = field(default=None, compare=False)

    def person_action(self, role: str, family: bool) -> str:
        if family and role in self.family_case_persons:
            return self.family_case_persons[role]
        return self.persons.get(role, self.persons["unknown"])

    def entity_action(self, entity_type: str) -> str:
        return self.entities.get(entity_type, "replace")

    def placeholder(self, entity_type: str) -> str:
        return self.placeholders.get(entity_type, f"[{ENTITY_LABELS.get(entity_type, entity_type)}]")

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "model": self.model,
            "min_confidence": self.min_confidence,
            "family_case": self.family_case,
            "duplicate_suffix": self.duplicate_suffix,
            "organizations": self.organizations,
            "persons": dict(self.persons),
            "family_case_persons": dict(self.family_case_persons),
            "entities": dict(self.entities),
            "placeholders": dict(self.placeholders),
        }


def _court_policy() -> Policy:
    protected = ("minor", "victim", "witness", "appraiser", "legal_representative", "relative", "unknown")
    persons = {role: "pseudonym" for role in protected}
    persons.update({role: "keep" for role in ("civil_party", "defendant", "agent", "official")})
    entities = {entity_type: "replace" for entity_type in _NON_PERSON_TYPES}
    entities["organization"] = "keep"
    return Policy(
        name="court",
        persons=persons,
        family_case_persons={"civil_party": "pseudonym", "defendant": "pseudonym"},
        entities=entities,
        placeholders={t: f"[{ENTITY_LABELS[t]}]" for t in _NON_PERSON_TYPES},
        organizations=False,
    )


def _strict_policy() -> Policy:
    policy = _court_policy()
    policy.name = "strict"
    policy.persons = {role: "pseudonym" for role in ROLES}
    policy.family_case_persons = {}
    policy.entities = {entity_type: "replace" for entity_type in _NON_PERSON_TYPES}
    return policy


BUILTIN_POLICIES = {"court": _court_policy, "strict": _strict_policy}


def builtin_policy(name: str) -> Policy:
    """Return a fresh copy of a built-in policy (``court`` or ``strict``)."""
    try:
        factory = BUILTIN_POLICIES[name]
    except KeyError:
        raise InvalidInputError(
            f"未知的内置策略：{name}", hint=f"可用的内置策略：{'、'.join(BUILTIN_POLICIES)}，或给出 YAML 文件路径"
        ) from None
    return factory()


def resolve_policy(policy: "Policy | str | Path | dict | None") -> Policy:
    """Turn None, a built-in name, a YAML path, a mapping or a Policy into a Policy."""
    if policy is None:
        return builtin_policy("court")
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, dict):
        return policy_from_mapping(policy, source="<dict>")
    if isinstance(policy, str) and policy in BUILTIN_POLICIES:
        return builtin_policy(policy)
    if isinstance(policy, str) and not Path(policy).exists() and not policy.endswith((".yaml", ".yml")):
        raise InvalidInputError(f"未知的策略：{policy}",
                                hint=f"内置策略为 {'、'.join(BUILTIN_POLICIES)}，或给出 YAML 策略文件路径")
    return load_policy(policy)


def load_policy(path: str | Path) -> Policy:
    """Read a YAML policy file; every error names the file and the key at fault."""
    file_path = Path(path)
    if not file_path.is_file():
        raise InvalidInputError(
            f"策略文件不存在：{file_path}",
            hint=f"请给出 YAML 策略文件路径，或内置策略名 {'、'.join(BUILTIN_POLICIES)}",
        )
    if file_path.stat().st_size > MAX_POLICY_BYTES:
        raise InvalidInputError(f"策略文件过大：{file_path}", hint=f"策略文件不能超过 {MAX_POLICY_BYTES} 字节")
    try:
        text = file_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"策略文件不是 UTF-8 文本：{file_path}", hint="请以 UTF-8 编码保存") from None
    data = load_yaml(text, f"策略文件 {file_path}", extra="anonymize")
    if data is None:
        raise InvalidInputError(f"策略文件为空：{file_path}", hint="至少写一行，例如 base: court")
    return policy_from_mapping(data, source=str(file_path))


def policy_from_mapping(data, source: str) -> Policy:
    """Build a policy from a parsed YAML mapping, rejecting unknown keys and invalid values."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"策略 {source} 的顶层必须是键值映射", hint="例如 base: court")
    _reject_unknown(data, _TOP_KEYS, source, "顶层")

    base_name = data.get("base", "court")
    if base_name not in BUILTIN_POLICIES:
        raise InvalidInputError(
            f"策略 {source} 的 base 无效：{base_name!r}", hint=f"可选值：{'、'.join(BUILTIN_POLICIES)}"
        )
    policy = copy.deepcopy(builtin_policy(base_name))
    policy.name = str(data.get("name", Path(source).stem if source != "<dict>" else "custom"))
    policy.source = source

    if "model" in data:
        policy.model = _choice(_yaml_word(data["model"]), MODEL_MODES, source, "model")
    if "family_case" in data:
        policy.family_case = _choice(_yaml_word(data["family_case"]), FAMILY_MODES, source, "family_case")
    if "duplicate_suffix" in data:
        policy.duplicate_suffix = _choice(data["duplicate_suffix"], SUFFIX_STYLES, source, "duplicate_suffix")
    if "organizations" in data:
        if not isinstance(data["organizations"], bool):
            raise InvalidInputError(f"策略 {source} 的 organizations 必须是 true 或 false")
        policy.organizations = data["organizations"]
    if "min_confidence" in data:
        value = data["min_confidence"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise InvalidInputError(f"策略 {source} 的 min_confidence 无效：{value!r}", hint="请填写 0 到 1 之间的数")
        policy.min_confidence = float(value)

    policy.persons.update(_section(data, "persons", ROLES, PERSON_ACTIONS, source))
    policy.family_case_persons.update(_section(data, "family_case_persons", ROLES, PERSON_ACTIONS, source))
    policy.entities.update(_section(data, "entities", _NON_PERSON_TYPES, ENTITY_ACTIONS, source))
    placeholders = data.get("placeholders") or {}
    if not isinstance(placeholders, dict):
        raise InvalidInputError(f"策略 {source} 的 placeholders 必须是键值映射")
    _reject_unknown(placeholders, _NON_PERSON_TYPES, source, "placeholders")
    for key, value in placeholders.items():
        if not isinstance(value, str):
            raise InvalidInputError(f"策略 {source} 的 placeholders.{key} 必须是字符串", hint="例如 \"[身份证号码]\"")
        policy.placeholders[key] = value
    return policy


def _yaml_word(value) -> str:
    # YAML reads true/false as booleans; the policy also accepts them as words.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _choice(value, allowed: tuple, source: str, key: str) -> str:
    if value not in allowed:
        raise InvalidInputError(f"策略 {source} 的 {key} 无效：{value!r}", hint=f"可选值：{'、'.join(allowed)}")
    return value


def _reject_unknown(data: dict, allowed: tuple, source: str, where: str) -> None:
    unknown = [str(key) for key in data if key not in allowed]
    if unknown:
        raise InvalidInputError(
            f"策略 {source} 的{where}有未知的键：{'、'.join(unknown)}",
            hint=f"允许的键：{'、'.join(allowed)}",
        )


def _section(data: dict, key: str, allowed_keys: tuple, actions: tuple, source: str) -> dict[str, str]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        raise InvalidInputError(f"策略 {source} 的 {key} 必须是键值映射", hint="例如 victim: pseudonym")
    _reject_unknown(section, allowed_keys, source, f" {key} ")
    for name, action in section.items():
        _choice(action, actions, source, f"{key}.{name}")
    return dict(section)
