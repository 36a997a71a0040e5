"""``tianping anonymize``: mask personal data in .txt, .md, .jsonl and .docx files."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

from tianping.cli.output import emit_json
from tianping.errors import InvalidInputError, TianpingError

_FORMATS = ("txt", "md", "jsonl")


@click.command("anonymize")
@click.argument("source", required=False, default="-")
@click.option("--policy", "policy_name", default="court", show_default=True,
              help="内置策略（court、strict）或 YAML 策略文件的路径。")
@click.option("--out", "out_path", type=click.Path(path_type=Path),
              help="输出文件；SOURCE 为目录时为输出目录。")
@click.option("--in-place", is_flag=True, help="用脱敏后的文本覆盖输入文件。")
@click.option("--dry-run", is_flag=True, help="只列出将被脱敏的片段，不写入任何文件。")
@click.option("--report", is_flag=True, help="在标准错误中按类型输出脱敏的处数。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 摘要，供脚本使用。")
@click.option("--field", "fields", multiple=True,
              help="仅用于 JSONL：对该顶层键的字符串值脱敏，可重复使用。默认：所有字符串值。")
@click.option("--mapping", "mapping_path", type=click.Path(path_type=Path),
              help="写出一个 JSON 文件（权限 0600），记录每处替换对应的原文。")
@click.option("--format", "stdin_format", type=click.Choice(_FORMATS), default="txt", show_default=True,
              help="SOURCE 为 - 或省略时，标准输入的格式。")
def anonymize(source, policy_name, out_path, in_place, dry_run, report, as_json, fields, mapping_path,
              stdin_format) -> None:
    """对一个文件、一个目录下所有支持的文件或标准输入中的个人信息脱敏。

    SOURCE 是文件或目录；为 - 或省略时读取标准输入。读取 .txt、.md（UTF-8 或 GB18030
    编码）、.jsonl 和 .docx，并写出相同的格式。单个文本文件在不加 --out
    时写到标准输出。.docx 文件和目录需要 --out 或 --in-place，--dry-run 除外。不加 --in-place
    时不会修改输入文件。目录中有任何文件处理失败时，退出码为 1。
    """
    from tianping.anonymize import Anonymizer

    if in_place and out_path is not None:
        raise InvalidInputError("--in-place 与 --out 不能同时使用", hint="请只保留其中一个")
    anonymizer = Anonymizer(policy_name)
    options = _Options(out_path, in_place, dry_run, report, as_json, list(fields) or None, mapping_path)

    if source == "-":
        if in_place:
            raise InvalidInputError("标准输入不能使用 --in-place", hint="请用 --out 指定输出文件")
        _run_stdin(anonymizer, options, stdin_format)
        return
    path = Path(source)
    if path.is_dir():
        failed = _run_directory(path, anonymizer, options)
        if failed:
            raise SystemExit(1)
        return
    _run_file(path, anonymizer, options)


@dataclass
class _Options:
    """The output options of one ``tianping anonymize`` run."""

    out_path: Path | None
    in_place: bool
    dry_run: bool
    report: bool
    as_json: bool
    fields: list[str] | None
    mapping_path: Path | None


# --- single inputs ----------------------------------------------------------------------


def _run_stdin(anonymizer, options: _Options, fmt: str) -> None:
    from tianping.anonymize.formats import MAX_FILE_BYTES, mask_bytes

    data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if not data.strip():
        raise InvalidInputError("标准输入为空", hint="请通过管道或文件提供要脱敏的文本")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInputError(
            "标准输入过大", hint=f"不能超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB，请拆分后分别处理"
        )
    documents, output = mask_bytes(data, fmt, "标准输入", anonymizer, options.fields)
    _finish_single("标准输入", documents, output, options, destination=options.out_path)


def _run_file(path: Path, anonymizer, options: _Options) -> None:
    from tianping.anonymize.formats import file_format, mask_file

    if not path.exists():
        raise InvalidInputError(f"文件或目录不存在：{path}", hint="请检查路径")
    fmt = file_format(path)
    if options.in_place:
        destination = path
    elif options.out_path is not None:
        destination = options.out_path / path.name if options.out_path.is_dir() else options.out_path
        if destination.resolve() == path.resolve():
            raise InvalidInputError(f"输出文件与输入文件相同：{path}", hint="如需覆盖原文件，请使用 --in-place")
        # The output keeps the input's format, so a Word file written under .txt would not open as text.
        if _format_family(fmt) != _format_family(destination.suffix.lower().lstrip(".")):
            raise InvalidInputError(
                f"输出文件 {destination.name} 的扩展名与输入格式（{path.suffix}）不符",
                hint=f"输出格式与输入相同，请把输出文件命名为 {destination.stem}{path.suffix}")
    elif fmt == "docx" and not options.dry_run:
        raise InvalidInputError(f".docx 文件不能输出到终端：{path}", hint="请用 --out 指定输出文件，或使用 --in-place")
    else:
        destination = None

    result = mask_file(path, anonymizer, options.fields)
    _finish_single(str(path), result.documents, result.output, options, destination)


def _format_family(suffix: str) -> str:
    """Return the kind of content a suffix stands for: docx, jsonl, or plain text (txt, md and any other)."""
    return suffix if suffix in ("docx", "jsonl") else "text"


def _finish_single(name: str, documents, output: bytes, options: _Options, destination: Path | None) -> None:
    if options.dry_run:
        _emit_findings([(name, documents)], options.as_json)
        return
    if destination is not None:
        _write_atomic(destination, output)
    if options.mapping_path is not None:
        _write_mapping(options.mapping_path, [(name, documents)])

    summary = {"files": [_file_summary(name, documents, destination)], "failed": []}
    if options.as_json:
        if destination is None:
            summary["files"][0]["text"] = output.decode("utf-8")
        emit_json(summary)
    else:
        if destination is None:
            click.echo(output.decode("utf-8"), nl=False)
        else:
            click.echo(f"已写入 {destination}", err=True)
    if options.report and not options.as_json:
        _echo_report(summary["files"])


# --- folders ----------------------------------------------------------------------------


def _run_directory(folder: Path, anonymizer, options: _Options) -> int:
    """Mask every supported file under ``folder`` and return the number of files that failed."""
    from tianping.anonymize.formats import SUPPORTED_SUFFIXES, mask_file

    if not (options.in_place or options.dry_run or options.out_path is not None):
        raise InvalidInputError(f"处理目录 {folder} 时必须指定 --out 输出目录", hint="或使用 --in-place 覆盖原文件、--dry-run 仅查看")
    out_root = options.out_path.resolve() if options.out_path is not None else None
    if out_root is not None and out_root == folder.resolve():
        raise InvalidInputError(f"输出目录与输入目录相同：{folder}", hint="如需覆盖原文件，请使用 --in-place")

    paths, skipped = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if out_root is not None and out_root in path.resolve().parents:
            continue  # output of an earlier run inside the input folder
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            paths.append(path)
        else:
            skipped.append(path)

    summaries, failures, masked_documents = [], [], []
    for path in paths:
        try:
            result = mask_file(path, anonymizer, options.fields)
            destination = None
            if not options.dry_run:
                destination = path if options.in_place else options.out_path / path.relative_to(folder)
                _write_atomic(destination, result.output)
        except TianpingError as exc:
            failures.append({"file": str(path), "error": exc.to_dict()})
            continue
        except OSError as exc:
            failures.append({"file": str(path), "error": {"code": "os_error", "message": f"读写失败：{exc}"}})
            continue
        masked_documents.append((str(path), result.documents))
        summaries.append(_file_summary(str(path), result.documents, destination))

    if options.dry_run:
        _emit_findings(masked_documents, options.as_json, failures, skipped)
        return len(failures)
    if options.mapping_path is not None:
        _write_mapping(options.mapping_path, masked_documents)

    summary = {"files": summaries, "failed": failures, "skipped": [str(p) for p in skipped]}
    if options.as_json:
        emit_json(summary)
    else:
        for item in summaries:
            click.echo(f"已写入 {item['output']}（{item['masked']} 处）")
        _echo_problems(failures, skipped)
        click.echo(f"完成：成功 {len(summaries)} 个文件，失败 {len(failures)} 个，跳过 {len(skipped)} 个。")
        if options.report:
            _echo_report(summaries)
    return len(failures)


# --- output helpers ---------------------------------------------------------------------


def _file_summary(name: str, documents, destination: Path | None) -> dict:
    counts: dict[str, int] = {}
    for document in documents:
        for entity_type, count in document.counts().items():
            counts[entity_type] = counts.get(entity_type, 0) + count
    return {
        "file": name,
        "output": str(destination) if destination is not None else None,
        "documents": len(documents),
        "masked": sum(counts.values()),
        "by_type": counts,
    }


def _echo_report(summaries: list[dict]) -> None:
    from tianping.anonymize import ENTITY_LABELS

    total: dict[str, int] = {}
    for item in summaries:
        for entity_type, count in item["by_type"].items():
            total[entity_type] = total.get(entity_type, 0) + count
    click.echo("脱敏统计：", err=True)
    if not total:
        click.echo("  未发现需要脱敏的内容", err=True)
    for entity_type, count in sorted(total.items(), key=lambda pair: -pair[1]):
        click.echo(f"  {ENTITY_LABELS.get(entity_type, entity_type)}（{entity_type}）：{count} 处", err=True)


def _echo_problems(failures: list[dict], skipped: list) -> None:
    for failure in failures:
        message = failure["error"]["message"]
        # Most messages already name the file, so it is not repeated before them.
        where = "" if failure["file"] in message else f"{failure['file']}："
        click.echo(f"失败：{where}{message}", err=True)
    for path in skipped:
        click.echo(f"跳过（不支持的格式）：{path}", err=True)


def _emit_findings(items, as_json: bool, failures=(), skipped=()) -> None:
    """Print what a dry run found: every finding with its action, per file."""
    from tianping.anonymize import ENTITY_LABELS
    from tianping.anonymize.findings import ROLE_LABELS

    if as_json:
        files = [
            {"file": name, "documents": [{"findings": _finding_rows(document)} for document in documents]}
            for name, documents in items
        ]
        emit_json({"dry_run": True, "files": files, "failed": list(failures),
                   "skipped": [str(p) for p in skipped]})
        return

    for name, documents in items:
        total = sum(len(d.findings) for d in documents)
        click.echo(f"{name}：发现 {total} 处，将替换 {sum(len(d.replacements) for d in documents)} 处")
        for index, document in enumerate(documents, start=1):
            lookup = {(r.finding.start, r.finding.end): r for r in document.replacements}
            prefix = f"  [{index}] " if len(documents) > 1 else "  "
            for finding in document.findings:
                replacement = lookup.get((finding.start, finding.end))
                target = f"→ {replacement.new_text or '（删除）'}" if replacement else "保留"
                role = f"，{ROLE_LABELS.get(finding.role, finding.role)}" if finding.role else ""
                click.echo(
                    f"{prefix}{finding.start}-{finding.end} {ENTITY_LABELS.get(finding.type, finding.type)}"
                    f"{role}：{finding.text} {target}（置信度 {finding.confidence:.2f}）"
                )
    _echo_problems(list(failures), list(skipped))
    click.echo("（试运行，未写入任何文件）")


def _finding_rows(document) -> list[dict]:
    """Return each finding of a masked document as a dict with the action taken and its new text."""
    changed = {(r.finding.start, r.finding.end): r for r in document.replacements}
    rows = []
    for finding in document.findings:
        replacement = changed.get((finding.start, finding.end))
        row = finding.to_dict()
        row["action"] = replacement.action if replacement else "keep"
        row["replacement"] = replacement.new_text if replacement else finding.text
        rows.append(row)
    return rows


def _write_atomic(destination: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, so an interrupted run leaves no half-written file."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.exists():
        mode = destination.stat().st_mode & 0o777
    else:
        # mkstemp creates files readable by the owner only; a new output file gets the usual umask mode.
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    descriptor, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_mapping(path: Path, items) -> None:
    from tianping.anonymize import write_mapping

    documents = []
    for name, results in items:
        for index, result in enumerate(results):
            documents.append({"file": name, "document": index, "replacements": result.mapping_entries()})
    write_mapping(path, documents)
    click.echo(f"已写入还原映射 {path}（仅所有者可读写，请妥善保管）", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(anonymize)
