"""Benchmark of drafting from free-text descriptions.

For every case in benchmarks/drafting_cases/*.yaml the script extracts the
template's fields from the description, scores each expected required field
(party details count one by one), drafts the document to .docx with the
citation checks on, and times it. It writes the results to
docs/benchmarks-drafting.md, and with --images renders page 1 of each template's
first case to docs/images/drafting-TEMPLATE.png through LibreOffice and pdftoppm.

Usage: python benchmarks/drafting.py [--images] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
CASES = REPOSITORY / "benchmarks" / "drafting_cases"
PAGE = REPOSITORY / "docs" / "benchmarks-drafting.md"
IMAGES = REPOSITORY / "docs" / "images"
sys.path.insert(0, str(REPOSITORY / "tests"))


def score_field(expected, found) -> tuple[int, int, list[str]]:
    """Return (correct, total, wrong keys) for one expected field."""
    if isinstance(expected, dict) and set(expected) == {"contains"}:
        text = "\n".join(found) if isinstance(found, list) else str(found or "")
        ok = expected["contains"] in text
        return int(ok), 1, [] if ok else ["contains"]
    if isinstance(expected, list):
        found = found if isinstance(found, list) else []
        correct = total = 0
        wrong = []
        for index, item in enumerate(expected):
            candidate = found[index] if index < len(found) else {}
            c, t, w = score_field(item, candidate)
            correct, total = correct + c, total + t
            wrong += [f"[{index}].{key}" for key in w]
        return correct, total, wrong
    if isinstance(expected, dict):
        found = found if isinstance(found, dict) else {}
        wrong = [key for key, value in expected.items() if not _same(value, found.get(key))]
        return len(expected) - len(wrong), len(expected), wrong
    return int(_same(expected, found)), 1, [] if _same(expected, found) else ["value"]


def _same(expected, found) -> bool:
    if found is None:
        return False
    if isinstance(expected, _dt.date):
        return str(found) == expected.isoformat()
    try:
        return Decimal(str(expected)) == Decimal(str(found))
    except ArithmeticError:
        return str(expected).strip() == str(found).strip()


def run(images: bool) -> dict:
    from lawtexts import build_store
    from tianping.drafting import draft, extract, resolve_template
    from tianping.drafting.render import libreoffice_path

    workdir = Path(tempfile.mkdtemp(prefix="tianping-bench-"))
    store = build_store(workdir)
    rows = []
    totals = {"correct": 0, "total": 0, "written": 0, "invalid_written": 0, "cases": 0}
    image_files = []
    for path in sorted(CASES.glob("*.yaml")):
        suite = yaml.safe_load(path.read_text(encoding="utf-8"))
        schema = resolve_template(suite["template"]).schema
        for index, case in enumerate(suite["cases"]):
            started = time.perf_counter()
            extraction = extract(schema, case["description"])
            extract_seconds = time.perf_counter() - started
            correct = total = 0
            wrong = []
            for name, expected in case["expected"].items():
                c, t, w = score_field(expected, extraction.data.get(name))
                correct, total = correct + c, total + t
                wrong += [f"{name}{'' if key in ('value', 'contains') else '.' + key.lstrip('.')}" if not key.startswith("[")
                          else f"{name}{key}" for key in w]
            out = workdir / f"{case['id']}.docx"
            started = time.perf_counter()
            result = draft(suite["template"], facts=case["description"], out=out, store=store,
                           today=_dt.date(2024, 8, 1))
            draft_seconds = time.perf_counter() - started
            invalid = [item for item in result.citations if not item["valid"]]
            totals["cases"] += 1
            totals["correct"] += correct
            totals["total"] += total
            totals["written"] += int(result.written)
            totals["invalid_written"] += len(invalid) if result.written else 0
            rows.append({"case": case["id"], "split": case.get("split", "tuned"), "template": suite["template"], "correct": correct, "total": total,
                         "wrong": wrong, "written": result.written, "citations": len(result.citations),
                         "invalid": len(invalid), "missing": result.extraction.missing,
                         "blocking": [problem.code for problem in result.blocking],
                         "extract_ms": extract_seconds * 1000, "draft_ms": draft_seconds * 1000})
            if images and index == 0 and libreoffice_path() and shutil.which("pdftoppm"):
                image_files.append(_render_image(suite["template"], case, workdir, store))
    return {"rows": rows, "totals": totals, "images": image_files}


def _render_image(template: str, case: dict, workdir: Path, store) -> Path:
    """Render page 1 of the template, filled from its complete sample data file, to a PNG."""
    from tianping.drafting import draft

    data = yaml.safe_load((REPOSITORY / "tests" / "drafting_samples" / f"{template}.yaml").read_text(encoding="utf-8"))
    pdf = workdir / f"{template}.pdf"
    draft(template, data=data, out=pdf, store=store)
    IMAGES.mkdir(parents=True, exist_ok=True)
    target = IMAGES / f"drafting-{template}"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)],
                   check=True)
    return target.with_suffix(".png")


def _by_split(report: dict) -> dict:
    splits: dict[str, list[int]] = {}
    for row in report["rows"]:
        entry = splits.setdefault(row["split"], [0, 0])
        entry[0] += row["correct"]
        entry[1] += row["total"]
    return splits


def write_page(report: dict, command: str) -> None:
    totals = report["totals"]
    share = totals["correct"] / totals["total"] if totals["total"] else 0.0
    lines = [
        "# Drafting benchmark",
        "",
        "Drafting from free-text descriptions. `benchmarks/drafting.py` extracts each template's",
        "required fields from the descriptions in `benchmarks/drafting_cases/`, which were written",
        "for this benchmark with invented people, companies and numbers. It scores the fields against",
        "the expected values listed with each description. Then it drafts the .docx with every check",
        "on, and citations are verified against the small statute store of `tests/lawtexts.py`.",
        "",
        f"- Command: `{command}`",
        f"- Machine: {platform.machine()}, 2 CPU cores shared with other jobs, no GPU; Python {platform.python_version()}",
        f"- Date: {_dt.date.today().isoformat()}",
        "",
        "## Result",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| required fields extracted correctly | {totals['correct']}/{totals['total']} ({share:.1%}) | ≥ 90% |",
        f"| invalid citations in written documents | {totals['invalid_written']} | 0 |",
        f"| descriptions drafted without further input | {totals['written']}/{totals['cases']} | — |",
        "",
        "By split of the descriptions:",
        "",
        "| split | fields correct |",
        "|---|---|",
        *[f"| {split} | {correct}/{total} ({correct / total:.1%}) |" for split, (correct, total) in _by_split(report).items()],
        "",
        "The extraction rules were adjusted while looking at the `tuned` descriptions. The `heldout-1`",
        "descriptions were written before their first run, which scored 76 of 84 fields (90.5%); the",
        "plaintiff's address in a defence was still required then. Their misses were then fixed: a",
        "birth date written 1991年2月14日生, a defendant's address in a later sentence, party names",
        "inside the cause of action, and a purpose given as 因购买车辆向…借款. So they count as tuned now.",
        "The `heldout-2` descriptions were written after those fixes and have not been used to change",
        "the rules. One of them still loses the counterparty and the cause of action of a power of",
        "attorney, because 程伟相邻关系纠纷 is read as one cause.",
        "`complaint-repealed-law` cites 《中华人民共和国合同法》第一百零七条, repealed on 2021-01-01,",
        "so the citation check blocks it and nothing is written.",
        "",
        "Only required fields are scored. A party's required details count one by one: 姓名, 性别,",
        "出生日期, 民族, 住所, 联系方式 and 公民身份号码 for a person who files or signs (名称, 住所,",
        "法定代表人, 职务, 统一社会信用代码 and 联系方式 for an organisation); 名称 and 住所 for the other",
        "side; the name alone for agents and for the plaintiff named in a defence. Claims, facts and",
        "reasons count as correct when they contain the expected phrase.",
        "",
        "| case | split | template | fields correct | wrong or missing | written | citations (invalid) | extract ms | draft ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        wrong = ", ".join(row["wrong"]) or "—"
        lines.append(f"| {row['case']} | {row['split']} | {row['template']} | {row['correct']}/{row['total']} | {wrong} | "
                     f"{'yes' if row['written'] else 'no: ' + ', '.join(sorted(set(row['blocking'])))} | "
                     f"{row['citations']} ({row['invalid']}) | {row['extract_ms']:.1f} | {row['draft_ms']:.1f} |")
    lines += ["", "Draft time includes checking citations and writing the .docx.", ""]
    lines += ["## Rendered pages", ""]
    if report["images"]:
        lines += ["Page 1 of each built-in template, filled from its sample data file in",
                  "`tests/drafting_samples/`, converted with LibreOffice (headless) to PDF and with",
                  "pdftoppm to PNG. The machine has no 方正小标宋 or 仿宋_GB2312 fonts, so LibreOffice",
                  "substituted Noto CJK; in Word with the usual Chinese fonts the pages look as specified.", ""]
        for image in report["images"]:
            lines.append(f"![{image.stem}](images/{image.name})")
            lines.append("")
    else:
        lines += ["LibreOffice or pdftoppm was not installed when this page was written, so no pages were rendered.", ""]
    PAGE.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", action="store_true", help="render page 1 of each template to docs/images/")
    parser.add_argument("--no-write", action="store_true", help="print the results without writing the docs page")
    args = parser.parse_args()
    report = run(args.images)
    for row in report["rows"]:
        print(f"{row['case']:<22} {row['correct']:>2}/{row['total']:<2} written={row['written']} "
              f"wrong={row['wrong']} blocking={row['blocking']} {row['draft_ms']:.0f} ms")
    totals = report["totals"]
    print(f"fields {totals['correct']}/{totals['total']} = {totals['correct'] / totals['total']:.1%}; "
          f"invalid citations written: {totals['invalid_written']}")
    if not args.no_write:
        command = "python benchmarks/drafting.py" + (" --images" if args.images else "")
        write_page(report, command)


if __name__ == "__main__":
    main()
