"""``tianping serve``: run the HTTP service and web page under uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import click

from tianping.errors import require
from tianping.service.settings import DEFAULT_MAX_BODY_BYTES, SETTINGS_ENV, LLMSettings, ServiceSettings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; use 0.0.0.0 only behind a TLS proxy.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes; each keeps its own rate-limit buckets and metrics.")
@click.option("--rate-limit", default=60, show_default=True, type=click.IntRange(1),
              help="Requests per minute per API key (token bucket, burst of the same size).")
@click.option("--max-body-bytes", default=DEFAULT_MAX_BODY_BYTES, show_default=True, type=click.IntRange(1024),
              help="Largest request body in bytes.")
@click.option("--request-timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Seconds before a request gets 504.")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="Origin allowed to call the API from a browser, e.g. https://intranet.example; repeatable. "
                   "Default: none (no CORS headers).")
@click.option("--audit-retention-days", default=90, show_default=True, type=click.IntRange(1),
              help="Audit rows older than this are deleted at startup.")
@click.option("--prediction-model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Judgment prediction model directory written by `tianping predict train`; "
                   "without it POST /v1/predict returns 503.")
@click.option("--llm", is_flag=True, help="Write answers with an OpenAI-compatible LLM server; citations are still "
                                          "verified against the store.")
@click.option("--llm-base-url", default=lambda: os.environ.get("TIANPING_LLM_BASE_URL"),
              help="LLM server URL, e.g. http://127.0.0.1:8001/v1 (env TIANPING_LLM_BASE_URL).")
@click.option("--llm-model", default=lambda: os.environ.get("TIANPING_LLM_MODEL"),
              help="Model name on the LLM server (env TIANPING_LLM_MODEL).")
@click.option("--llm-api-key-env", default="TIANPING_LLM_API_KEY", show_default=True,
              help="Environment variable that contains the LLM server's API key.")
@click.option("--llm-timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Seconds per LLM request; on failure the answer falls back to an extract of the articles.")
def serve(host, port, workers, rate_limit, max_body_bytes, request_timeout, cors_origins, audit_retention_days,
          prediction_model, llm, llm_base_url, llm_model, llm_api_key_env, llm_timeout) -> None:
    """Serve the HTTP API, the OpenAI-compatible chat API and the web page.

    Every /v1/ route needs an API key made with `tianping keys create`.
    The data directory is TIANPING_HOME.
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
