"""The guard around every request: API keys, rate limits, body size, metrics, audit rows and access logs."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders

from tianping.service.errors import BodyTooLarge, error_response

logger = logging.getLogger("tianping.service")
access_logger = logging.getLogger("tianping.service.access")

# Paths under this prefix need an API key; health checks, metrics, the web page and /openapi.json do not.
PROTECTED_PREFIX = "/v1/"


class ServiceMiddleware:
    """A pure ASGI middleware, so that streamed responses pass through unbuffered."""

    def __init__(self, app, state, metrics, routes):
        self.app = app
        self.state = state
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        scope_state = scope.setdefault("state", {})
        scope_state["request_id"] = request_id
        response = {"status": 500, "started": False}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["started"] = True
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        key_id = None
        try:
            rejection, key_id = self._check(scope)
            if rejection is not None:
                await rejection(scope, receive, send_with_id)
            else:
                await self.app(scope, self._limited(receive), send_with_id)
        except Exception:
            # Errors the exception handlers did not turn into a response; the client gets the error shape.
            logger.exception("unhandled error in request %s %s %s", request_id, scope["method"],
                             _route_path(scope, self.routes))
            scope_state["error_code"] = "internal_error"
            if not response["started"]:
                await error_response(500, "internal_error", "服务器内部错误，请稍后重试；问题持续时请联系管理员并提供请求编号 "
                                     + request_id)(scope, receive, send_with_id)
        finally:
            self._finish(scope, key_id, response["status"], time.perf_counter() - started)

    def _check(self, scope):
        """Return (a rejection response or None, the key id) for the request's key, rate and size."""
        settings = self.state.settings
        headers = Headers(scope=scope)
        key_id = None
        if scope["path"].startswith(PROTECTED_PREFIX) and scope["method"] != "OPTIONS":
            key_id = self._authenticate(headers.get("authorization"))
            if key_id is None:
                scope["state"]["error_code"] = "unauthorized"
                return error_response(401, "unauthorized", "缺少或无效的 API 密钥：请在请求头中加入 "
                                      "Authorization: Bearer <密钥>（用 tianping keys create 创建）",
                                      headers={"WWW-Authenticate": "Bearer"}), None
            scope["state"]["key_id"] = key_id
            self.state.records.touch_key(key_id)
            wait = self.state.limiter.acquire(key_id)
            if wait:
                scope["state"]["error_code"] = "rate_limited"
                return error_response(429, "rate_limited", f"请求过于频繁：每个密钥每分钟最多 "
                                      f"{settings.rate_limit_per_minute} 次，请 {wait} 秒后重试",
                                      headers={"Retry-After": str(wait)}), key_id
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                scope["state"]["error_code"] = "bad_request"
                return error_response(400, "bad_request", "请求头 Content-Length 无效"), key_id
            if int(length) > settings.max_body_bytes:
                scope["state"]["error_code"] = "payload_too_large"
                return error_response(413, "payload_too_large", f"请求体过大：{length} 字节，上限为 "
                                      f"{settings.max_body_bytes} 字节（请缩短文本或分段提交）"), key_id
        return None, key_id

    def _authenticate(self, authorization: str | None) -> str | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.state.records.verify_key(token.strip())

    def _limited(self, receive):
        """Wrap ``receive`` so that a body sent without Content-Length is also held to the limit."""
        limit = self.state.settings.max_body_bytes
        received = 0

        async def receive_limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return receive_limited

    def _finish(self, scope, key_id: str | None, status: int, seconds: float) -> None:
        state = scope.get("state", {})
        route = _route_path(scope, self.routes)
        error_code = state.get("error_code") if status >= 400 else None
        self.metrics.observe(scope["method"], route, status, seconds, error_code)
        sources = state.get("sources", [])
        if scope["path"].startswith(PROTECTED_PREFIX):
            try:
                self.state.records.record(request_id=state["request_id"], key_id=key_id, method=scope["method"],
                                          endpoint=route, status=status, sources=sources,
                                          latency_ms=seconds * 1000)
            except Exception:
                logger.exception("writing the audit row of request %s failed", state.get("request_id"))
        # Paths and query strings are not logged: they can hold search texts with personal data.
        access_logger.info("request", extra={"fields": {
            "request_id": state.get("request_id"),
            "method": scope["method"],
            "route": route,
            "status": status,
            "latency_ms": round(seconds * 1000, 2),
            "key_id": key_id,
            "error": error_code,
            "sources": len(sources),
        }})


def _route_path(scope, routes) -> str:
    """Return the route template (/v1/statutes/{law}/{article}), so that metrics have few label values.

    A request rejected before routing (401, 429, 413) is matched against the routes here.
    """
    from starlette.routing import Match

    if scope["path"].startswith("/static/"):
        return "/static"
    route = scope.get("route")
    if route is None:
        route = next((candidate for candidate in routes if candidate.matches(scope)[0] != Match.NONE), None)
    return getattr(route, "path", None) or "unmatched"
