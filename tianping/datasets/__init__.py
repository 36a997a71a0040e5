"""Judgment data sets: CAIL2018 and other case files, label vocabularies, LawBench items."""

from tianping.datasets.lawbench import LawBenchItem, load_lawbench
from tianping.datasets.loaders import (
    MAX_FACT_CHARS,
    FieldMap,
    load_cail,
    load_cases,
    load_label_file,
)
from tianping.datasets.records import BadRecord, Case, Dataset, Term, normalize_charge
from tianping.datasets.vocab import LabelVocabulary

__all__ = [
    "BadRecord", "Case", "Dataset", "FieldMap", "LabelVocabulary", "LawBenchItem", "MAX_FACT_CHARS",
    "Term", "load_cail", "load_cases", "load_label_file", "load_lawbench", "normalize_charge",
]
