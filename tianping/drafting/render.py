"""Writing documents: .docx in the customary court layout, Markdown for review, and PDF through LibreOffice."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tianping.drafting.builtin import Block
from tianping.errors import InvalidInputError, MissingDependencyError, TianpingError, require

# Fonts and sizes customary for Chinese court and official documents (GB/T 9704-2012):
# the title in 方正小标宋简体 二号 (22 pt), the body in 仿宋_GB2312 三号 (16 pt),
# section labels in 黑体 三号, and page numbers in 宋体 四号 (14 pt). Word substitutes
# an installed font when one of these is missing.
TITLE_FONT, TITLE_SIZE_PT = "方正小标宋简体", 22
BODY_FONT, BODY_SIZE_PT = "仿宋_GB2312", 16
LABEL_FONT = "黑体"
PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE_PT = "宋体", 14
# A4 with the margins of GB/T 9704-2012, in millimetres: top, bottom, left, right.
MARGINS_MM = (37, 35, 28, 26)
LINE_SPACING_PT = 28

# A PDF conversion that takes longer than this is stopped.
PDF_TIMEOUT_S = 120


@contextmanager
def atomic_output(path: Path):
    """Yield a temporary path beside ``path``; it replaces ``path`` only when the block succeeds."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidInputError(f"输出目录不存在：{directory}", hint="请先创建该目录或换一个输出路径")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def blocks_to_markdown(blocks: list[Block]) -> str:
    lines = []
    for block in blocks:
        if block.kind == "title":
            lines.append(f"# {block.text}")
        elif block.kind == "label":
            lines.append(f"**{block.text}**")
        elif block.kind == "right":
            lines.append(f"<div align=\"right\">{block.text}</div>")
        else:
            lines.append(block.text)
    return "\n\n".join(lines) + "\n"


def blocks_to_docx(blocks: list[Block], path: Path, properties: dict | None = None) -> None:
    """Write the blocks as an A4 .docx with the customary fonts and page numbers in the footer."""
    docx = require("docx", "draft", "python-docx")
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm, Pt

    document = docx.Document()
    _set_up_page(document, Mm)
    normal = document.styles["Normal"]
    _set_font(normal, BODY_FONT, Pt(BODY_SIZE_PT))
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(LINE_SPACING_PT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)

    for block in blocks:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(block.text)
        if block.kind == "title":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.space_after = Pt(LINE_SPACING_PT)
            paragraph.paragraph_format.line_spacing = Pt(TITLE_SIZE_PT * 1.5)
            _set_font(run, TITLE_FONT, Pt(TITLE_SIZE_PT))
        elif block.kind == "right":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.paragraph_format.right_indent = Pt(BODY_SIZE_PT * 2)
        elif block.kind == "plain":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
        else:
            # Left alignment, not justification: long unbreakable runs (ID numbers, ¥50,000.00)
            # would otherwise stretch the spaces of the whole line.
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
            paragraph.paragraph_format.first_line_indent = Pt(BODY_SIZE_PT * 2)
            if block.kind == "label":
                _set_font(run, LABEL_FONT, Pt(BODY_SIZE_PT))
    _add_page_number(document, Pt)
    _set_properties(document, properties or {})
    document.save(str(path))


def _set_up_page(document, mm) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = mm(210), mm(297)
    top, bottom, left, right = MARGINS_MM
    section.top_margin, section.bottom_margin = mm(top), mm(bottom)
    section.left_margin, section.right_margin = mm(left), mm(right)
    section.footer_distance = mm(28)


def _set_font(target, name: str, size) -> None:
    """Set the Latin and the East Asian font of a style or run; Word uses w:eastAsia for Chinese characters."""
    from docx.oxml.ns import qn

    target.font.name = name
    target.font.size = size
    properties = target.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.append(fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


def _add_page_number(document, pt) -> None:
    """Put “— PAGE —” centred in the footer, as a PAGE field that Word and LibreOffice update."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    footer = document.sections[0].footer
    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def add_run(text: str = ""):
        run = paragraph.add_run(text)
        _set_font(run, PAGE_NUMBER_FONT, pt(PAGE_NUMBER_SIZE_PT))
        return run

    add_run("— ")
    for kind, instruction in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = add_run()
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif instruction == "1":
            element = OxmlElement("w:t")
            element.text = "1"
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = instruction
        run._r.append(element)
    add_run(" —")


def _set_properties(document, properties: dict) -> None:
    core = document.core_properties
    core.title = properties.get("title", "")
    core.subject = properties.get("subject", "")
    core.comments = properties.get("comments", "")
    core.author = "tianping"


def libreoffice_path() -> str | None:
    return shutil.which("libreoffice") or shutil.which("soffice")


def convert_to_pdf(docx_path: Path, pdf_path: Path) -> None:
    """Convert a .docx to PDF with LibreOffice in headless mode; raise when it is not installed or fails."""
    program = libreoffice_path()
    if program is None:
        raise MissingDependencyError(
            "LibreOffice（libreoffice 命令）", "draft",
            hint="请用系统的软件包管理器安装 LibreOffice（例如 apt install libreoffice-writer），"
                 "或改为输出 .docx / .md")
    with tempfile.TemporaryDirectory(prefix="tianping-pdf-") as workdir:
        # A private profile directory lets conversions run while a desktop LibreOffice is open.
        profile = Path(workdir, "profile").as_uri()
        command = [program, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                   "--outdir", workdir, str(docx_path)]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=PDF_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise TianpingError(f"PDF 转换超时（超过 {PDF_TIMEOUT_S} 秒）：{docx_path}",
                                hint="请改用 .docx 输出，或用 LibreOffice 手动转换") from None
        produced = Path(workdir, Path(docx_path).with_suffix(".pdf").name)
        if completed.returncode != 0 or not produced.is_file():
            raise TianpingError(f"PDF 转换失败：{completed.stderr.strip() or completed.stdout.strip()}",
                                hint="请检查 LibreOffice 是否可用，或改用 .docx 输出")
        with atomic_output(pdf_path) as temporary:
            shutil.copyfile(produced, temporary)
