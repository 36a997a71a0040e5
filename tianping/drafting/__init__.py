"""Drafting court filings and contracts as .docx, from structured data or a case description.

Entry points:

``draft(template, data=None, facts=None, out=None, ...) -> DraftResult``
    Fill a template, run the checks (required fields, resident IDs, amounts,
    claim basis, statute citations) and write .docx, Markdown or PDF only when
    they pass.
``list_templates()``, ``resolve_template(name)``
    The built-in templates and the user's own (.docx with docxtpl tags plus a YAML schema).
``extract(schema, text)``
    The fields found in a free-text description, and those still missing.
``format_amount(50000)`` → 人民币伍万元整（¥50,000.00）; ``court_date("2024-03-01")`` → 二〇二四年三月一日.
"""

from tianping.drafting.drafter import CHECKS, DraftResult, draft, list_templates, resolve_template
from tianping.drafting.extract import MAX_FACTS_CHARS, Extraction, extract
from tianping.drafting.numerals import capital, court_date, figures, format_amount, text_date
from tianping.drafting.problems import PROBLEM_CODES, Problem

__all__ = [
    "CHECKS",
    "DraftResult",
    "Extraction",
    "MAX_FACTS_CHARS",
    "PROBLEM_CODES",
    "Problem",
    "capital",
    "court_date",
    "draft",
    "extract",
    "figures",
    "format_amount",
    "list_templates",
    "resolve_template",
    "text_date",
]
