"""Template schemas: the fields a document takes, which are required, and how parties are described."""

from __future__ import annotations

from dataclasses import dataclass, field

from tianping.errors import InvalidInputError

FIELD_TYPES = ("text", "longtext", "date", "amount", "number", "list", "party", "parties")

# Details of a natural person in the order the court samples list them.
PERSON_FIELDS = (
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("ethnicity", "民族"),
    ("employer", "工作单位和职务"),
    ("address", "住所"),
    ("phone", "联系方式"),
    ("id_number", "公民身份号码"),
)
# Details of an organisation (a legal person or other organisation).
ORGANIZATION_FIELDS = (
    ("name", "名称"),
    ("address", "住所"),
    ("representative", "法定代表人/主要负责人"),
    ("representative_title", "职务"),
    ("credit_code", "统一社会信用代码"),
    ("phone", "联系方式"),
)
# Extra keys a party may carry: the head's kind (法定代表人 or 主要负责人) and the
# party's standing in the first instance (原审原告 …), used by appeals.
PARTY_EXTRA_FIELDS = (("kind", "类型"), ("representative_kind", "负责人类型"), ("standing", "原审诉讼地位"))

# Party details that must be present, by level. "full" is for the party who files or
# signs the document. "basic" is for the other side, whose particulars the filer may not
# know, because a complaint must only name the defendant and give an address for service.
# "name" is for parties named only in passing, such as agents or the plaintiff in a defence.
REQUIRED_PERSON = {"full": ("name", "gender", "birth_date", "ethnicity", "address", "phone", "id_number"),
                   "basic": ("name", "address"),
                   "name": ("name",)}
REQUIRED_ORGANIZATION = {"full": ("name", "address", "representative", "representative_title", "credit_code",
                                  "phone"),
                         "basic": ("name", "address"),
                         "name": ("name",)}

_LABELS = {key: label for key, label in PERSON_FIELDS + ORGANIZATION_FIELDS + PARTY_EXTRA_FIELDS}
_PARTY_LABEL_TO_KEY = {label: key for key, label in PERSON_FIELDS + ORGANIZATION_FIELDS + PARTY_EXTRA_FIELDS}
_PARTY_LABEL_TO_KEY.update({"法定代表人": "representative", "主要负责人": "representative",
                            "身份证号": "id_number", "身份证号码": "id_number", "电话": "phone",
                            "住址": "address", "工作单位": "employer"})


def party_label(key: str) -> str:
    return _LABELS.get(key, key)


def party_key(key: str) -> str:
    """Map a Chinese party detail label (姓名, 住所 …) to its key; keys pass through."""
    return _PARTY_LABEL_TO_KEY.get(key, key)


@dataclass
class FieldSpec:
    """One field of a template.

    ``roles`` are the words that introduce this party in a free-text description
    (原告, 起诉人 …); ``detail`` is "full", "basic" or "name" (see REQUIRED_PERSON).
    """

    name: str
    label: str
    type: str = "text"
    required: bool = False
    default: object = None
    help: str = ""
    roles: tuple[str, ...] = ()
    detail: str = "full"
    choices: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        payload = {"name": self.name, "label": self.label, "type": self.type, "required": self.required}
        if self.default is not None:
            payload["default"] = self.default
        if self.help:
            payload["help"] = self.help
        if self.type in ("party", "parties"):
            payload["roles"] = list(self.roles)
            payload["detail"] = self.detail
            payload["required_details"] = {
                "person": list(REQUIRED_PERSON[self.detail]),
                "organization": list(REQUIRED_ORGANIZATION[self.detail]),
            }
        if self.choices:
            payload["choices"] = list(self.choices)
        return payload


@dataclass
class TemplateSchema:
    """The fields of one template and the roles they play in checks.

    ``date_field`` dates the document and sets the date citations are checked for;
    ``claims_field`` and ``facts_fields`` are compared by the claim-basis check.
    """

    name: str
    title: str
    fields: list[FieldSpec]
    description: str = ""
    aliases: tuple[str, ...] = ()
    date_field: str | None = "date"
    claims_field: str | None = None
    facts_fields: tuple[str, ...] = ()
    source: str = "builtin"

    def field(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.name == name), None)

    def key_for(self, key: str) -> str | None:
        """Return the field name for a data key given as a field name or its Chinese label."""
        for spec in self.fields:
            if key in (spec.name, spec.label):
                return spec.name
        return None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "aliases": list(self.aliases),
            "source": self.source,
            "date_field": self.date_field,
            "claims_field": self.claims_field,
            "facts_fields": list(self.facts_fields),
            "fields": [spec.to_dict() for spec in self.fields],
        }


def schema_from_mapping(payload: dict, source: str) -> TemplateSchema:
    """Build a schema from the mapping of a user's schema file, rejecting unknown types and keys."""
    where = f"模板说明文件 {source}"
    if not isinstance(payload, dict):
        raise InvalidInputError(f"{where} 的顶层不是映射", hint="请按 name、title、fields 的结构书写")
    fields_payload = payload.get("fields")
    if not isinstance(fields_payload, list) or not fields_payload:
        raise InvalidInputError(f"{where} 缺少 fields 列表", hint="请在 fields 下列出模板的字段")

    fields = []
    seen = set()
    allowed = {"name", "label", "type", "required", "default", "help", "roles", "detail", "choices"}
    for index, item in enumerate(fields_payload, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].isidentifier():
            raise InvalidInputError(f"{where} 第 {index} 个字段缺少有效的 name",
                                    hint="name 须为英文标识符，例如 plaintiff、amount")
        unknown = set(item) - allowed
        if unknown:
            raise InvalidInputError(f"{where} 字段 {item['name']} 含未知的键：{'、'.join(sorted(unknown))}",
                                    hint=f"可用的键：{'、'.join(sorted(allowed))}")
        kind = item.get("type", "text")
        if kind not in FIELD_TYPES:
            raise InvalidInputError(f"{where} 字段 {item['name']} 的类型 {kind!r} 无效",
                                    hint=f"可选类型：{'、'.join(FIELD_TYPES)}")
        detail = item.get("detail", "full")
        if detail not in REQUIRED_PERSON:
            raise InvalidInputError(f"{where} 字段 {item['name']} 的 detail {detail!r} 无效", hint="可选值：full、basic、name")
        if item["name"] in seen:
            raise InvalidInputError(f"{where} 字段 {item['name']} 重复出现", hint="每个字段名只能出现一次")
        seen.add(item["name"])
        fields.append(FieldSpec(
            name=item["name"], label=str(item.get("label", item["name"])), type=kind,
            required=bool(item.get("required", False)), default=item.get("default"),
            help=str(item.get("help", "")), roles=tuple(item.get("roles") or ()), detail=detail,
            choices=tuple(item.get("choices") or ()),
        ))

    name = payload.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{where} 缺少 name", hint="请写明模板名称，例如 name: lawyer-letter")
    date_field = payload.get("date_field", "date" if "date" in seen else None)
    for key in [date_field, payload.get("claims_field"), *(payload.get("facts_fields") or [])]:
        if key is not None and key not in seen:
            raise InvalidInputError(f"{where} 引用了不存在的字段 {key}", hint="date_field、claims_field、facts_fields 须为 fields 中的字段名")

    return TemplateSchema(
        name=name.strip(), title=str(payload.get("title", name)), fields=fields,
        description=str(payload.get("description", "")), date_field=date_field,
        claims_field=payload.get("claims_field"), facts_fields=tuple(payload.get("facts_fields") or ()),
        source=source,
    )
