"""User templates: a .docx with docxtpl (Jinja2) tags and a YAML schema of its fields."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tianping import config
from tianping.drafting.numerals import capital, court_date, figures, format_amount, text_date
from tianping.drafting.parties import party_block
from tianping.drafting.schema import TemplateSchema, schema_from_mapping
from tianping.drafting.values import parse_data_text
from tianping.errors import InvalidInputError, NotFoundError, require

# Template files larger than this are rejected before they are opened.
MAX_TEMPLATE_BYTES = 10_000_000
SCHEMA_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class UserTemplate:
    schema: TemplateSchema
    docx_path: Path


def user_template_dir() -> Path:
    """Return the folder searched for user templates by name: ``$TIANPING_HOME/templates``."""
    return config.home() / "templates"


def list_user_templates() -> list[Path]:
    folder = user_template_dir()
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*.docx") if not path.name.startswith("~$"))


def find_user_template(name: str) -> Path | None:
    """Return the .docx of a user template given as a path or as a name in the user template folder."""
    candidate = Path(name)
    if candidate.suffix.lower() == ".docx":
        if not candidate.is_file():
            raise NotFoundError(f"模板文件不存在：{candidate}", hint="请检查路径")
        return candidate
    in_folder = user_template_dir() / f"{name}.docx"
    return in_folder if in_folder.is_file() else None


def schema_path_for(docx_path: Path) -> Path:
    for suffix in SCHEMA_SUFFIXES:
        candidate = docx_path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    raise NotFoundError(f"模板 {docx_path.name} 缺少说明文件 {docx_path.with_suffix('.yaml').name}",
                        hint="请在模板旁放置同名的 .yaml 文件，列出模板的字段")


def load_user_template(docx_path: Path) -> UserTemplate:
    """Load a user template and its schema; reject broken tags and tags that the schema does not define."""
    docx_path = Path(docx_path)
    size = docx_path.stat().st_size
    if size > MAX_TEMPLATE_BYTES:
        raise InvalidInputError(f"模板文件过大：{docx_path}（{size} 字节），上限为 {MAX_TEMPLATE_BYTES} 字节",
                                hint="请删去模板中的大图片")
    schema_path = schema_path_for(docx_path)
    text = schema_path.read_text(encoding="utf-8-sig")
    payload = parse_data_text(text, source=str(schema_path), json_only=schema_path.suffix == ".json")
    payload.setdefault("name", docx_path.stem)
    schema = schema_from_mapping(payload, str(schema_path))
    names = _template_variables(docx_path)
    known = {spec.name for spec in schema.fields} | _helper_names(schema)
    unknown = sorted(names - known)
    if unknown:
        raise InvalidInputError(f"模板 {docx_path.name} 使用了说明文件中没有的字段：{'、'.join(unknown)}",
                                hint=f"请在 {schema_path.name} 的 fields 中加入这些字段，或更正模板中的标签")
    return UserTemplate(schema, docx_path)


def _open_template(docx_path: Path):
    docxtpl = require("docxtpl", "draft")
    try:
        return docxtpl.DocxTemplate(str(docx_path))
    except Exception as exc:  # python-docx raises several types for a file that is not a .docx
        raise InvalidInputError(f"无法打开模板文件 {docx_path}：{exc}", hint="请确认它是 Word 2007 及以后的 .docx 文件") from None


def _template_variables(docx_path: Path) -> set[str]:
    import jinja2

    template = _open_template(docx_path)
    try:
        return set(template.get_undeclared_template_variables())
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidInputError(f"模板 {docx_path.name} 的标签有误：{exc.message}（模板 XML 第 {exc.lineno} 行）",
                                hint="请检查 {{ }}、{% %} 是否成对，for/if 是否有对应的 endfor/endif") from None


def _helper_names(schema: TemplateSchema) -> set[str]:
    names = set()
    for spec in schema.fields:
        if spec.type == "amount":
            names |= {f"{spec.name}_capital", f"{spec.name}_figures"}
        elif spec.type == "date":
            names |= {f"{spec.name}_text", f"{spec.name}_iso"}
    return names


def template_context(schema: TemplateSchema, values: dict) -> dict:
    """Build the Jinja2 context: amounts and dates pre-formatted, parties with a ready ``block`` line.

    An amount field ``x`` gives ``x`` (人民币伍万元整（¥50,000.00）), ``x_capital`` and
    ``x_figures``. A date field gives ``x`` (二〇二四年三月一日), ``x_text`` (2024年3月1日)
    and ``x_iso``. Each party has its details plus ``block``, the whole party line.
    """
    context = {}
    for spec in schema.fields:
        value = values.get(spec.name)
        if spec.type == "amount":
            context[spec.name] = format_amount(value) if value is not None else ""
            context[f"{spec.name}_capital"] = capital(value) if value is not None else ""
            context[f"{spec.name}_figures"] = figures(value) if value is not None else ""
        elif spec.type == "date":
            context[spec.name] = court_date(value) if value else ""
            context[f"{spec.name}_text"] = text_date(value) if value else ""
            context[f"{spec.name}_iso"] = value.isoformat() if value else ""
        elif spec.type == "party":
            context[spec.name] = _party_context(spec.label, value) if value else {}
        elif spec.type == "parties":
            context[spec.name] = [_party_context(spec.label, party) for party in value or []]
        elif spec.type == "list":
            context[spec.name] = value or []
        else:
            context[spec.name] = "" if value is None else value
    return context


def _party_context(label: str, party: dict) -> dict:
    context = {key: (text_date(value) if key == "birth_date" else value) for key, value in party.items()}
    context["block"] = party_block(label, party)
    return context


def render_user_template(template: UserTemplate, values: dict, path: Path, properties: dict) -> list[str]:
    """Render the template to ``path`` and return the text of its paragraphs for checks and Markdown."""
    import jinja2

    document = _open_template(template.docx_path)
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    try:
        document.render(template_context(template.schema, values), jinja_env=environment)
    except jinja2.TemplateError as exc:
        raise InvalidInputError(f"模板 {template.docx_path.name} 渲染失败：{exc}",
                                hint="请检查模板标签与说明文件中的字段是否一致") from None
    core = document.docx.core_properties
    core.title = properties.get("title", "")
    core.comments = properties.get("comments", "")
    document.save(str(path))
    return rendered_paragraphs(path)


def rendered_paragraphs(path: Path) -> list[str]:
    docx = require("docx", "draft", "python-docx")
    document = docx.Document(str(path))
    lines = [paragraph.text for paragraph in document.paragraphs if paragraph.text.strip()]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return lines
