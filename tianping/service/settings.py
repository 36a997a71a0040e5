"""Settings of the HTTP service: where its data lives and the limits it enforces."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tianping import config
from tianping.errors import InvalidInputError

# The JSON of a ServiceSettings, passed to each uvicorn worker process by ``tianping serve``.
SETTINGS_ENV = "TIANPING_SERVICE_SETTINGS"

# A citation check may send 200,000 characters. A client that escapes every
# Chinese character as \uXXXX sends 6 bytes for each, so 2 MiB leaves room
# for the largest allowed text plus the rest of the JSON body.
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class LLMSettings:
    """An LLM backend that writes answers; its citations are still verified against the store."""

    backend: str = "openai"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "TIANPING_LLM_API_KEY"
    timeout: float = 60.0
    max_tokens: int = 512
    temperature: float = 0.2


@dataclass(frozen=True)
class ServiceSettings:
    """Limits and locations of one service instance.

    ``home`` is the data directory (default: ``TIANPING_HOME``).
    ``rate_limit_per_minute`` is the size of each API key's token bucket and
    its refill per minute. ``max_body_bytes`` caps a request body.
    ``request_timeout`` is in seconds. ``cors_origins`` is empty by default,
    which sends no CORS headers. Audit rows older than
    ``audit_retention_days`` are deleted when the service starts.
    ``prediction_model`` is a directory written by ``tianping predict train``;
    without it ``POST /v1/predict`` returns 503.
    """

    home: Path | None = None
    rate_limit_per_minute: int = 60
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    request_timeout: float = 60.0
    cors_origins: tuple[str, ...] = ()
    audit_retention_days: int = 90
    llm: LLMSettings | None = None
    prediction_model: Path | None = None

    def __post_init__(self):
        if self.rate_limit_per_minute < 1:
            raise InvalidInputError(f"速率限制无效：{self.rate_limit_per_minute}", hint="每分钟请求数应为正整数")
        if self.max_body_bytes < 1024:
            raise InvalidInputError(f"请求体上限无效：{self.max_body_bytes}", hint="请给出不小于 1024 的字节数")
        if self.request_timeout <= 0:
            raise InvalidInputError(f"请求超时无效：{self.request_timeout}", hint="请给出大于 0 的秒数")
        if self.audit_retention_days < 1:
            raise InvalidInputError(f"审计日志保留天数无效：{self.audit_retention_days}", hint="请给出正整数天数")
        if "*" in self.cors_origins:
            raise InvalidInputError("CORS 来源不能是 *", hint="请逐个列出允许的来源，例如 https://example.com")

    def resolved_home(self) -> Path:
        return Path(self.home).expanduser() if self.home else config.home()

    def to_json(self) -> str:
        payload = asdict(self)
        payload["home"] = str(self.home) if self.home else None
        payload["prediction_model"] = str(self.prediction_model) if self.prediction_model else None
        payload["cors_origins"] = list(self.cors_origins)
        return json.dumps(payload)

    @classmethod
    def from_json(cls, text: str) -> ServiceSettings:
        payload = json.loads(text)
        known = {item.name for item in fields(cls)}
        payload = {key: value for key, value in payload.items() if key in known}
        for name in ("home", "prediction_model"):
            if payload.get(name):
                payload[name] = Path(payload[name])
        payload["cors_origins"] = tuple(payload.get("cors_origins") or ())
        if payload.get("llm"):
            payload["llm"] = LLMSettings(**payload["llm"])
        return cls(**payload)

    @classmethod
    def from_env(cls) -> ServiceSettings:
        text = os.environ.get(SETTINGS_ENV)
        return cls.from_json(text) if text else cls()
