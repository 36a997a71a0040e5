"""``tianping serve``: run the HTTP service and web page under uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import click

from tianping.errors import require
from tianping.service.settings import DEFAULT_MAX_BODY_BYTES, SETTINGS_ENV, LLMSettings, ServiceSettings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="绑定的地址；只有在 TLS 代理之后才使用 0.0.0.0。")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP 端口。")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="工作进程数；每个进程有各自的限流令牌桶和指标。")
@click.option("--rate-limit", default=60, show_default=True, type=click.IntRange(1),
              help="每个 API 密钥每分钟的请求数（令牌桶，突发容量与此相同）。")
@click.option("--max-body-bytes", default=DEFAULT_MAX_BODY_BYTES, show_default=True, type=click.IntRange(1024),
              help="请求体的最大字节数。")
@click.option("--request-timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="请求超过这么多秒后返回 504。")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="允许从浏览器调用 API 的来源（origin），例如 https://intranet.example；可重复使用。"
                   "默认：无（不发送 CORS 头）。")
@click.option("--audit-retention-days", default=90, show_default=True, type=click.IntRange(1),
              help="启动时删除早于这么多天的审计记录。")
@click.option("--prediction-model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="`tianping predict train` 写出的判决预测模型目录；"
                   "不给时 POST /v1/predict 返回 503。")
@click.option("--llm", is_flag=True, help="用兼容 OpenAI 接口的大模型服务撰写回答；"
                                          "引用仍会与法规库核对。")
@click.option("--llm-base-url", default=lambda: os.environ.get("TIANPING_LLM_BASE_URL"),
              help="大模型服务的地址，例如 http://127.0.0.1:8001/v1（环境变量 TIANPING_LLM_BASE_URL）。")
@click.option("--llm-model", default=lambda: os.environ.get("TIANPING_LLM_MODEL"),
              help="大模型服务上的模型名称（环境变量 TIANPING_LLM_MODEL）。")
@click.option("--llm-api-key-env", default="TIANPING_LLM_API_KEY", show_default=True,
              help="存放大模型服务 API 密钥的环境变量名。")
@click.option("--llm-timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="每个大模型请求的超时时间（秒）；请求失败时，回答改为条文摘录。")
def serve(host, port, workers, rate_limit, max_body_bytes, request_timeout, cors_origins, audit_retention_days,
          prediction_model, llm, llm_base_url, llm_model, llm_api_key_env, llm_timeout) -> None:
    """提供 HTTP API、兼容 OpenAI 的对话 API 和网页。

    每个 /v1/ 路由都需要用 `tianping keys create` 创建的 API 密钥。数据目录为 TIANPING_HOME。
    """
    uvicorn = require("uvicorn", "service")
    require("fastapi", "service")
    from tianping.service.logs import uvicorn_log_config

    settings = ServiceSettings(rate_limit_per_minute=rate_limit, max_body_bytes=max_body_bytes,
                               request_timeout=request_timeout, cors_origins=tuple(cors_origins),
                               audit_retention_days=audit_retention_days,
                               prediction_model=prediction_model.resolve() if prediction_model else None,
                               llm=LLMSettings(base_url=llm_base_url, model=llm_model, api_key_env=llm_api_key_env,
                                               timeout=llm_timeout) if llm else None)
    if prediction_model is not None:
        # Raises here, before the server starts, when the directory contains no loadable model.
        from tianping.prediction import load_model

        load_model(prediction_model)
    if settings.llm is not None:
        # Raises here, before the server starts, when the URL is missing or malformed.
        from tianping.service.state import backend_from_settings

        backend_from_settings(settings)
    # Each worker process builds its app from these settings.
    os.environ[SETTINGS_ENV] = settings.to_json()
    click.echo(f"tianping 服务地址：http://{host}:{port}/ （按 Ctrl-C 停止）", err=True)
    uvicorn.run("tianping.service.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_config=uvicorn_log_config(), access_log=False, server_header=False)


def register(cli: click.Group) -> None:
    cli.add_command(serve)
