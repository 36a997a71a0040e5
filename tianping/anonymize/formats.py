"""Reading and writing the file formats the anonymiser accepts: .txt, .md, .jsonl and .docx."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tianping.anonymize.masker import Anonymizer, MaskResult
from tianping.errors import InvalidInputError, require
from tianping.text.encoding import decode_bytes
from tianping.text.structured import json_problem

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl", ".docx")
# Files larger than this are rejected before reading; JSONL data sets are the large case.
MAX_FILE_BYTES = 100 * 1024 * 1024
# One document (a .txt, .md or .docx file, or the strings of one JSONL record) may have at
# most this many characters. Pseudonyms are consistent within a document, and the time to
# find every mention of each name grows with the names times the length.
MAX_DOCUMENT_CHARS = 1_000_000


@dataclass
class FileResult:
    """The outcome of masking one file: the documents in it and the bytes to write."""

    path: Path
    format: str
    documents: list[MaskResult] = field(default_factory=list)
    output: bytes = b""

    def counts(self) -> dict[str, int]:
        total: Counter = Counter()
        for document in self.documents:
            total.update(document.counts())
        return dict(total)


def file_format(path: Path) -> str:
    """Return the format name for a path, or raise an error listing the supported suffixes."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(
            f"不支持的文件格式：{path}（{suffix or '无扩展名'}）",
            hint=f"支持的格式：{'、'.join(SUPPORTED_SUFFIXES)}；其他格式请先转换为 .txt",
        )
    return suffix.lstrip(".")


def read_checked(path: Path) -> bytes:
    """Read a file after checking that it exists, is not empty and is within MAX_FILE_BYTES."""
    if not path.is_file():
        raise InvalidInputError(f"文件不存在或不是普通文件：{path}", hint="请检查路径")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInputError(f"文件为空：{path}", hint="请提供有内容的文件")
    if size > MAX_FILE_BYTES:
        raise InvalidInputError(
            f"文件过大：{path}（{size} 字节）",
            hint=f"单个文件不能超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB，请先拆分",
        )
    return path.read_bytes()


def mask_bytes(data: bytes, fmt: str, source: str, anonymizer: Anonymizer,
               fields: list[str] | None = None) -> tuple[list[MaskResult], bytes]:
    """Mask file content of the given format; return the documents and the output bytes."""
    if fmt in ("txt", "md"):
        text = decode_bytes(data, source=source)
        _check_document(text, source)
        result = anonymizer.mask(text)
        return [result], result.text.encode("utf-8")
    if fmt == "jsonl":
        return _mask_jsonl(data, source, anonymizer, fields)
    if fmt == "docx":
        return _mask_docx(data, source, anonymizer)
    raise InvalidInputError(f"不支持的格式：{fmt}", hint=f"支持的格式：{'、'.join(SUPPORTED_SUFFIXES)}")


def mask_file(path: Path, anonymizer: Anonymizer, fields: list[str] | None = None) -> FileResult:
    fmt = file_format(path)
    data = read_checked(path)
    documents, output = mask_bytes(data, fmt, str(path), anonymizer, fields)
    return FileResult(path, fmt, documents, output)


def _check_document(text: str, source: str) -> None:
    if not text.strip():
        raise InvalidInputError(f"{source} 没有文字内容", hint="请提供非空的文本")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InvalidInputError(
            f"{source} 过长（{len(text)} 字）",
            hint=f"单个文档不能超过 {MAX_DOCUMENT_CHARS} 字，请按案件拆分为多个文件或 JSONL 记录",
        )


# --- JSONL ----------------------------------------------------------------------------


def _mask_jsonl(data: bytes, source: str, anonymizer: Anonymizer,
                fields: list[str] | None) -> tuple[list[MaskResult], bytes]:
    """Mask each record as its own document; only string values are changed."""
    text = decode_bytes(data, source=source)
    lines = text.splitlines()
    documents = []
    output_lines = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            output_lines.append(line)
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"JSON 格式错误：{source} {json_problem(exc, number)}", hint="JSONL 文件每行必须是一个 JSON 值"
            ) from None
        strings: list[str] = []
        for value in _selected_values(record, fields):
            _collect_strings(value, strings)
        if strings:
            _check_document("\n".join(strings), f"{source} 第 {number} 行")
            results = anonymizer.mask_segments(strings)
            masked = iter(result.text for result in results)
            record = _replace_record(record, fields, masked)
            documents.extend(results)
        output_lines.append(json.dumps(record, ensure_ascii=False))
    if not documents and not any(line.strip() for line in lines):
        raise InvalidInputError(f"{source} 没有任何记录", hint="请提供至少一行 JSON")
    if fields and not documents:
        raise InvalidInputError(
            f"{source} 中没有字段 {'、'.join(fields)} 的字符串值", hint="请用 --field 指定记录中存在的字段名"
        )
    trailing = "\n" if text.endswith(("\n", "\r")) else ""
    return documents, ("\n".join(output_lines) + trailing).encode("utf-8")


def _selected_values(record, fields: list[str] | None) -> list:
    """Return the parts of a record to mask: the whole record, or the values of the named top-level keys."""
    if fields is None:
        return [record]
    if not isinstance(record, dict):
        return []
    return [record[key] for key in fields if key in record]


def _collect_strings(value, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _collect_strings(item, out)


def _replace_strings(value, masked):
    """Return a copy of ``value`` with each string replaced by the next item of ``masked``."""
    if isinstance(value, str):
        return next(masked)
    if isinstance(value, dict):
        return {key: _replace_strings(item, masked) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_strings(item, masked) for item in value]
    return value


def _replace_record(record, fields: list[str] | None, masked):
    if fields is None:
        return _replace_strings(record, masked)
    if not isinstance(record, dict):
        return record
    return {key: _replace_strings(item, masked) if key in fields else item for key, item in record.items()}


# --- DOCX ------------------------------------------------------------------------------


def _mask_docx(data: bytes, source: str, anonymizer: Anonymizer) -> tuple[list[MaskResult], bytes]:
    """Mask the paragraphs of the body, tables, headers and footers, editing runs in place.

    A replacement is written into the run where the masked span starts, and the
    rest of the span is removed from the following runs, so run formatting is kept.
    NOTE: comments, footnotes, text boxes and document properties (author) are not masked.
    """
    docx = require("docx", "anonymize", package="python-docx")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InvalidInputError(f"{source} 不是有效的 .docx 文件（不是 ZIP 包）", hint="请用 Word 另存为 .docx 后重试")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises several types for damaged packages
        raise InvalidInputError(
            f"{source} 无法作为 .docx 打开：{type(exc).__name__}", hint="文件可能已损坏，请用 Word 另存为 .docx 后重试"
        ) from None

    paragraphs = list(_iter_paragraphs(document))
    run_lists = [_paragraph_runs(paragraph) for paragraph in paragraphs]
    segments = ["".join(run.text for run in runs) for runs in run_lists]
    _check_document("\n".join(segments), source)

    results = anonymizer.mask_segments(segments)
    for runs, result in zip(run_lists, results):
        for replacement in reversed(result.replacements):
            _replace_in_runs(runs, replacement.finding.start, replacement.finding.end, replacement.new_text)

    buffer = io.BytesIO()
    document.save(buffer)
    return results, buffer.getvalue()


def _iter_paragraphs(document):
    """Yield each paragraph once: body, tables (nested too), then section headers and footers."""
    seen: set[int] = set()

    def from_container(container):
        for paragraph in container.paragraphs:
            if id(paragraph._p) not in seen:
                seen.add(id(paragraph._p))
                yield paragraph
        for table in getattr(container, "tables", []):
            for row in table.rows:
                for cell in row.cells:
                    yield from from_container(cell)

    yield from from_container(document)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header,
                     section.first_page_footer, section.even_page_header, section.even_page_footer):
            # A linked part has no content of its own; reading it would add an empty definition.
            if part.is_linked_to_previous:
                continue
            yield from from_container(part)


def _paragraph_runs(paragraph) -> list:
    runs = []
    for item in paragraph.iter_inner_content():
        if hasattr(item, "runs"):
            runs.extend(item.runs)  # a hyperlink
        else:
            runs.append(item)
    return runs


def _replace_in_runs(runs: list, start: int, end: int, new_text: str) -> None:
    position = 0
    written = False
    for run in runs:
        text = run.text
        run_start, run_end = position, position + len(text)
        position = run_end
        if run_end <= start or run_start >= end:
            continue
        local_start = max(start, run_start) - run_start
        local_end = min(end, run_end) - run_start
        if not written:
            run.text = text[:local_start] + new_text + text[local_end:]
            written = True
        else:
            run.text = text[:local_start] + text[local_end:]
