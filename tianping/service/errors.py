"""Error responses of the HTTP API: one JSON shape, ``{"error": {"code", "message"}}``, for every error."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tianping.errors import MissingDependencyError, NotFoundError, TianpingError
from tianping.service.schemas import ErrorResponse
from tianping.service.state import PredictionUnavailable, RequestTimeout

logger = logging.getLogger("tianping.service")

_HTTP_CODES = {
    400: ("bad_request", "请求无效"),
    401: ("unauthorized", "未提供有效的 API 密钥"),
    403: ("forbidden", "没有权限访问"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_error", "请求参数无效"),
    429: ("rate_limited", "请求过于频繁"),
    500: ("internal_error", "服务器内部错误，请稍后重试；问题持续时请联系管理员并提供 X-Request-ID"),
    503: ("unavailable", "服务暂不可用"),
    504: ("timeout", "请求处理超时"),
}

# Chinese wording for the pydantic error types a client can cause.
_VALIDATION_MESSAGES = {
    "missing": "缺少该字段",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为数组",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "string_too_short": "不能为空",
    "too_short": "不能为空",
    "string_too_long": "过长",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
    "literal_error": "取值无效",
    "union_tag_invalid": "取值无效",
    "none_required": "应为 null",
}


class BodyTooLarge(HTTPException):
    """The request body is larger than the configured limit."""

    def __init__(self, limit: int):
        super().__init__(413, f"请求体过大，上限为 {limit} 字节（请缩短文本或分段提交）")


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def error_responses(*statuses: int) -> dict:
    """OpenAPI ``responses`` entries for the given error statuses, all with the error shape."""
    return {status: {"model": ErrorResponse, "description": _HTTP_CODES[status][1]} for status in statuses}


def _mark(request: Request, code: str) -> None:
    request.state.error_code = code


async def tianping_error(request: Request, exc: TianpingError) -> JSONResponse:
    # InvalidInputError and every other error a user can cause are 400.
    status = 400
    if isinstance(exc, NotFoundError):
        status = 404
    elif isinstance(exc, (MissingDependencyError, PredictionUnavailable)):
        status = 503
    _mark(request, exc.code)
    return error_response(status, exc.code, str(exc))


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        _mark(request, "invalid_json")
        return error_response(400, "invalid_json", "请求体不是有效的 JSON（请检查引号、逗号和括号，并使用 UTF-8 编码）")
    parts = []
    for error in errors[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
        wording = _VALIDATION_MESSAGES.get(error.get("type", ""), "取值无效")
        context = error.get("ctx") or {}
        if error.get("type") == "string_too_long" and "max_length" in context:
            wording += f"（上限 {context['max_length']} 字）"
        elif error.get("type") in ("greater_than_equal", "less_than_equal"):
            bound = context.get("ge", context.get("le"))
            wording += f"（边界为 {bound}）"
        elif error.get("type") == "literal_error" and "expected" in context:
            wording += f"（可选值：{context['expected']}）"
        parts.append(f"{location or '请求体'}：{wording}")
    _mark(request, "validation_error")
    return error_response(422, "validation_error", "请求参数无效：" + "；".join(parts))


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code, default = _HTTP_CODES.get(exc.status_code, ("http_error", "请求失败"))
    message = exc.detail if isinstance(exc.detail, str) and exc.detail and exc.detail != _default_detail(exc) else None
    if exc.status_code == 404 and message is None:
        message = f"未找到路径 {request.url.path}（接口列表见 /openapi.json）"
    elif exc.status_code == 405 and message is None:
        message = f"路径 {request.url.path} 不支持 {request.method} 方法（接口列表见 /openapi.json）"
    _mark(request, code)
    return error_response(exc.status_code, code, message or default, headers=getattr(exc, "headers", None))


async def timeout_error(request: Request, exc: RequestTimeout) -> JSONResponse:
    limit = request.app.state.service.settings.request_timeout
    _mark(request, "timeout")
    logger.warning("request %s timed out after %s s", getattr(request.state, "request_id", "-"), limit)
    return error_response(504, "timeout", f"请求处理超时（上限 {limit:g} 秒），请缩短问题或文本后重试")


def _default_detail(exc: HTTPException) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(exc.status_code).phrase
    except ValueError:
        return ""


def install(app) -> None:
    app.add_exception_handler(TianpingError, tianping_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestTimeout, timeout_error)
