"""The HTTP service: a FastAPI app over ``tianping.api`` with API keys, limits, an audit log and a web page.

``create_app`` needs the ``service`` extra; the key and audit records in
``tianping.service.records`` need only the standard library.
"""

from __future__ import annotations

from tianping.service.settings import LLMSettings, ServiceSettings

__all__ = ["create_app", "ServiceSettings", "LLMSettings"]


def __getattr__(name: str):
    if name == "create_app":
        from tianping.errors import require

        require("fastapi", "service")
        from tianping.service.app import create_app

        return create_app
    raise AttributeError(name)
