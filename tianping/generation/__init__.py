"""Grounded consultation: LLM backends, prompts with numbered sources, and citation verification.

Names are imported on first use, so that importing the backends alone (as the
CLI does to build its options) does not load the search indexes' dependencies.
"""

import importlib

_EXPORTS = {
    "BackendError": "tianping.generation.backends",
    "GenerationParams": "tianping.generation.backends",
    "OpenAICompatibleBackend": "tianping.generation.backends",
    "TransformersBackend": "tianping.generation.backends",
    "make_backend": "tianping.generation.backends",
    "GroundedAnswer": "tianping.generation.grounded",
    "GroundedAnswerer": "tianping.generation.grounded",
    "DISCLAIMER": "tianping.generation.grounded",
    "event_date": "tianping.generation.grounded",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tianping.generation' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
