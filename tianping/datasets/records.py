"""Records of judgment data sets: one criminal case with its charges, articles and prison term."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Term:
    """A sentence: fixed-term imprisonment in months, or death, or life imprisonment."""

    months: int = 0
    death_penalty: bool = False
    life_imprisonment: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Case:
    """One case: the facts and, when the data set has them, the judgment labels.

    ``articles`` are Criminal Law article numbers (264 for 第二百六十四条).
    ``line`` is the 1-based line (JSON lines) or row (CSV) the case was read from.
    """

    fact: str
    charges: list[str] = field(default_factory=list)
    articles: list[int] = field(default_factory=list)
    term: Term | None = None
    fine: int | None = None
    criminals: list[str] = field(default_factory=list)
    line: int = 0
    # The record's own identifier, when the data has one.
    id: str | None = None

    @property
    def has_labels(self) -> bool:
        return bool(self.charges) or bool(self.articles) or self.term is not None


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be used, with the reason in Chinese."""

    line: int
    reason: str

    def to_dict(self) -> dict:
        return {"line": self.line, "reason": self.reason}


@dataclass
class Dataset:
    """Cases loaded from one file, with the records that were skipped."""

    cases: list[Case]
    bad_records: list[BadRecord]
    source: str
    encoding: str

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self):
        return iter(self.cases)

    def summary(self) -> dict:
        return {
            "source": self.source,
            "encoding": self.encoding,
            "cases": len(self.cases),
            "skipped": len(self.bad_records),
            "bad_records": [record.to_dict() for record in self.bad_records],
        }


def normalize_charge(name: str) -> str:
    """Return a charge name for comparison across data sets.

    CAIL2018 writes alternatives in brackets ([走私、贩卖、运输、制造]毒品) where
    LawBench writes 走私、贩卖、运输、制造毒品, and some sources add the final 罪.
    """
    cleaned = name.strip().replace("[", "").replace("]", "")
    if cleaned.endswith("罪") and len(cleaned) > 2:
        cleaned = cleaned[:-1]
    return cleaned
