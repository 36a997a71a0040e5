"""Drafting a document: fill a template, run the checks, and write it only when they pass."""

from __future__ import annotations

import datetime as _dt
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tianping import config
from tianping.drafting.builtin import BUILTIN_TEMPLATES, Block, BuiltinTemplate
from tianping.drafting.checks import check_amount_pairs, check_claim_basis, check_parties
from tianping.drafting.extract import Extraction, extract
from tianping.drafting.problems import Problem
from tianping.drafting.render import atomic_output, blocks_to_docx, blocks_to_markdown, convert_to_pdf
from tianping.drafting.schema import TemplateSchema
from tianping.drafting.usertemplates import (UserTemplate, find_user_template, list_user_templates, load_user_template,
                                             render_user_template)
from tianping.drafting.values import normalize
from tianping.errors import InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

OUTPUT_SUFFIXES = (".docx", ".md", ".pdf")
# Names of the checks in the order they run, as reported in ``DraftResult.checks``.
CHECKS = ("required_fields", "field_values", "id_numbers", "amounts", "claim_basis", "citations")
_CHECK_CODES = {
    "required_fields": ("missing_field",),
    "field_values": ("invalid_value",),
    "id_numbers": ("invalid_id_number", "id_number_mismatch", "invalid_credit_code"),
    "amounts": ("amount_mismatch",),
    "claim_basis": ("claim_without_basis",),
    "citations": ("invalid_citation",),
}


@dataclass
class DraftResult:
    """Outcome of drafting: the fields used, every check's result, the citations and the files written."""

    template: str
    title: str
    written: bool = False
    outputs: dict = field(default_factory=dict)
    fields_used: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    citation_date: str | None = None
    overrides: list[str] = field(default_factory=list)
    extraction: Extraction | None = None
    llm: dict | None = None
    markdown: str = ""
    seconds: float = 0.0

    @property
    def blocking(self) -> list[Problem]:
        """Errors that stop the document being written; overridden citation problems do not."""
        return [problem for problem in self.problems if problem.severity == "error"
                and not (problem.code == "invalid_citation" and "allow_invalid_citations" in self.overrides)]

    def checks(self) -> list[dict]:
        results = []
        for name in CHECKS:
            found = [problem for problem in self.problems if problem.code in _CHECK_CODES[name]]
            entry = {"check": name, "passed": not found, "problems": len(found)}
            if name == "citations":
                entry["overridden"] = bool(found) and "allow_invalid_citations" in self.overrides
            results.append(entry)
        return results

    def to_dict(self) -> dict:
        return {
            "template": self.template,
            "title": self.title,
            "written": self.written,
            "outputs": self.outputs,
            "fields_used": self.fields_used,
            "checks": self.checks(),
            "problems": [problem.to_dict() for problem in self.problems],
            "citation_date": self.citation_date,
            "citations": self.citations,
            "overrides": self.overrides,
            "extraction": self.extraction.to_dict() if self.extraction else None,
            "llm": self.llm,
            "seconds": round(self.seconds, 3),
        }


def list_templates() -> list[dict]:
    """List the built-in templates and the user templates in ``$TIANPING_HOME/templates``."""
    items = [{"name": template.schema.name, "title": template.schema.title, "source": "builtin",
              "aliases": list(template.schema.aliases), "description": template.schema.description}
             for template in BUILTIN_TEMPLATES.values()]
    for path in list_user_templates():
        items.append({"name": path.stem, "title": path.stem, "source": str(path), "aliases": [], "description": ""})
    return items


def resolve_template(name: str) -> BuiltinTemplate | UserTemplate:
    """Find a template by built-in name or alias, by user template name, or by the path of a .docx."""
    key = name.strip()
    for template in BUILTIN_TEMPLATES.values():
        if key == template.schema.name or key in template.schema.aliases:
            return template
    path = find_user_template(key)
    if path is not None:
        return load_user_template(path)
    known = "、".join(template.schema.name for template in BUILTIN_TEMPLATES.values())
    raise NotFoundError(f"未找到模板：{name}", hint=f"内置模板：{known}；用 tianping draft list 查看全部模板")


def draft(template_name: str, data: dict | None = None, facts: str | None = None, out: str | Path | None = None,
          markdown_out: str | Path | None = None, allow_invalid_citations: bool = False, store=None,
          backend=None, mask_personal_data: bool | None = None, today: _dt.date | None = None) -> DraftResult:
    """Fill a template from ``data`` and/or a free-text description, check it, and write it when it passes.

    ``out`` picks the format by suffix (.docx, .md or .pdf), and ``markdown_out`` adds
    a Markdown copy. Nothing is written when a check reports an error. Invalid
    citations are the one error that ``allow_invalid_citations`` lets through, and
    the override is recorded in the result and in the .docx properties.

    ``store`` is the statute store for citation checks. Without it the default store
    is opened, and only when the text cites an article. ``backend`` writes the facts
    section with an LLM, and ``mask_personal_data`` masks what is sent to it (by
    default only for a remote server).
    """
    started = time.perf_counter()
    template = resolve_template(template_name)
    schema = template.schema
    out_path = _check_output(out)
    markdown_path = _check_output(markdown_out, markdown=True)
    result = DraftResult(template=schema.name, title=schema.title)
    if allow_invalid_citations:
        result.overrides.append("allow_invalid_citations")

    merged: dict = {}
    if facts is not None:
        result.extraction = extract(schema, facts)
        merged.update(result.extraction.data)
    for key, value in (data or {}).items():
        name = schema.key_for(str(key)) or key
        extracted = merged.pop(name, None)
        if isinstance(extracted, dict) and isinstance(value, dict):
            # A party in the data file fills in or corrects the party taken from the facts.
            value = {**extracted, **value}
        merged[key] = value
    if facts is None and not data:
        raise InvalidInputError("没有提供文书内容", hint="请用 --data 给出数据文件，或用 --facts 给出案情描述")

    if backend is not None and facts is not None:
        from tianping.drafting.assist import write_facts

        result.llm = write_facts(backend, schema, facts, merged, mask_personal_data=mask_personal_data)

    values, problems = normalize(schema, merged, today=today)
    result.problems = problems
    result.fields_used = [spec.name for spec in schema.fields if spec.name in values]
    result.problems += check_parties(schema, values)

    blocks = None
    if not any(problem.code in ("missing_field", "invalid_value") for problem in problems):
        blocks = _layout(template, values)
    texts = _field_texts(schema, values)
    total = sum(len(text) for text in texts.values())
    if total > config.MAX_TEXT_CHARS:
        raise InvalidInputError(f"文书文字过长：{total} 字，上限为 {config.MAX_TEXT_CHARS} 字",
                                hint="请精简事实和理由")
    result.problems += check_amount_pairs(texts)
    result.problems += check_claim_basis(schema, values)
    _check_citations(result, schema, values, texts, store)

    if result.blocking or (out_path is None and markdown_path is None):
        result.markdown = blocks_to_markdown(blocks) if blocks else ""
        result.seconds = time.perf_counter() - started
        return result

    properties = {"title": schema.title, "subject": f"tianping 模板 {schema.name}",
                  "comments": _record(result)}
    if isinstance(template, BuiltinTemplate):
        result.markdown = blocks_to_markdown(blocks)
        _write_builtin(blocks, out_path, markdown_path, properties, result)
    else:
        _write_user(template, values, out_path, markdown_path, properties, result)
    result.written = True
    result.seconds = time.perf_counter() - started
    logger.info("drafted %s to %s in %.2f s", schema.name, result.outputs, result.seconds)
    return result


def _check_output(path, markdown: bool = False) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    allowed = (".md",) if markdown else OUTPUT_SUFFIXES
    if path.suffix.lower() not in allowed:
        raise InvalidInputError(f"不支持的输出格式：{path.name}", hint=f"输出文件的扩展名应为 {'、'.join(allowed)}")
    if path.is_dir():
        raise InvalidInputError(f"输出路径是目录：{path}", hint="请给出文件名，例如 起诉状.docx")
    return path


def _layout(template, values: dict) -> list[Block] | None:
    if isinstance(template, BuiltinTemplate):
        return template.layout(dict(values))
    return None


def _field_texts(schema: TemplateSchema, values: dict) -> dict[str, str]:
    """Return the user-written text of each field, where amounts and citations can appear."""
    texts = {}
    for spec in schema.fields:
        value = values.get(spec.name)
        if value is None:
            continue
        if spec.type in ("text", "longtext"):
            texts[spec.name] = value
        elif spec.type == "list":
            for index, item in enumerate(value):
                texts[f"{spec.name}[{index}]"] = item
    return texts


def _check_citations(result: DraftResult, schema: TemplateSchema, values: dict, texts: dict[str, str], store) -> None:
    """Verify every citation in the user-written text for the document's date (today when it has none)."""
    from tianping.statutes.citations import ANCHOR

    date_value = values.get(schema.date_field) if schema.date_field else None
    result.citation_date = (date_value or _dt.date.today()).isoformat()
    cited = {name: text for name, text in texts.items() if ANCHOR.search(text)}
    if not cited:
        return
    from tianping.statutes.verify import CitationVerifier

    if store is None:
        from tianping import api

        store = api.open_store()
    verifier = CitationVerifier(store)
    for name, text in cited.items():
        for check in verifier.check_text(text, result.citation_date):
            entry = check.to_dict()
            entry["field"] = name
            result.citations.append(entry)
            if not check.valid:
                result.problems.append(Problem(
                    "invalid_citation", name, f"{check.citation.text}：{check.message}",
                    _citation_fix(check) + "；确需保留时可使用 --allow-invalid-citations（该选择会记入报告）"))


def _citation_fix(check) -> str:
    if check.successor:
        return f"请改为引用《{check.successor}》的相应条文"
    if check.reason == "quote_mismatch":
        return "请按法条原文更正引文"
    if check.reason == "amended":
        return "请注明所依据的版本，或引用现行条文"
    return "请用 tianping laws show 核对法律名称和条号后更正"


def _record(result: DraftResult) -> str:
    """Return the note stored in the .docx properties: the checks run and any override."""
    invalid = [item["text"] for item in result.citations if not item["valid"]]
    note = f"tianping 起草；核对法条引用 {len(result.citations)} 处（日期 {result.citation_date}）"
    if invalid:
        note += f"；用户选择保留无效引用（--allow-invalid-citations）：{'、'.join(invalid)}"
    return note


def _write_builtin(blocks, out_path, markdown_path, properties, result: DraftResult) -> None:
    if out_path is not None:
        suffix = out_path.suffix.lower()
        if suffix == ".md":
            _write_text(out_path, result.markdown)
        elif suffix == ".docx":
            with atomic_output(out_path) as temporary:
                blocks_to_docx(blocks, temporary, properties)
        else:
            with tempfile.TemporaryDirectory(prefix="tianping-draft-") as workdir:
                docx_path = Path(workdir, out_path.with_suffix(".docx").name)
                blocks_to_docx(blocks, docx_path, properties)
                convert_to_pdf(docx_path, out_path)
        result.outputs[suffix.lstrip(".")] = str(out_path)
    if markdown_path is not None:
        _write_text(markdown_path, result.markdown)
        result.outputs["markdown"] = str(markdown_path)


def _write_user(template: UserTemplate, values, out_path, markdown_path, properties, result: DraftResult) -> None:
    with tempfile.TemporaryDirectory(prefix="tianping-draft-") as workdir:
        docx_path = Path(workdir, f"{template.schema.name}.docx")
        paragraphs = render_user_template(template, values, docx_path, properties)
        result.markdown = "\n\n".join(paragraphs) + "\n"
        if out_path is not None:
            suffix = out_path.suffix.lower()
            if suffix == ".docx":
                with atomic_output(out_path) as temporary:
                    temporary.write_bytes(docx_path.read_bytes())
            elif suffix == ".md":
                _write_text(out_path, result.markdown)
            else:
                convert_to_pdf(docx_path, out_path)
            result.outputs[suffix.lstrip(".")] = str(out_path)
    if markdown_path is not None:
        _write_text(markdown_path, result.markdown)
        result.outputs["markdown"] = str(markdown_path)


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
