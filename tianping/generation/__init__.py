"""Grounded consultation: LLM backends, prompts with numbered sources, and citation verification."""

from tianping.generation.backends import (
    BackendError,
    GenerationParams,
    OpenAICompatibleBackend,
    TransformersBackend,
    make_backend,
)
from tianping.generation.grounded import DISCLAIMER, GroundedAnswer, GroundedAnswerer, event_date

__all__ = [
    "BackendError",
    "GenerationParams",
    "OpenAICompatibleBackend",
    "TransformersBackend",
    "make_backend",
    "GroundedAnswer",
    "GroundedAnswerer",
    "DISCLAIMER",
    "event_date",
]
