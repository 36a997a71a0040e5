"""Command-line options that choose and configure an LLM backend."""

from __future__ import annotations

import functools
import os

import click

from tianping.generation.backends import DEFAULT_API_KEY_ENV, GenerationParams, make_backend


def llm_options(command=None, *, writes: str = "回答", sends: str = "问题"):
    """Add --llm and the backend flags; their defaults come from TIANPING_LLM_* environment variables.

    ``writes`` names what the model writes and ``sends`` what is sent to it, in the help text.
    """
    if command is None:
        return functools.partial(llm_options, writes=writes, sends=sends)
    options = [
        click.option("--llm", is_flag=True, help=f"由大模型后端撰写{writes}；引用仍会核验。"),
        click.option("--backend", type=click.Choice(["openai", "transformers"]),
                     default=lambda: os.environ.get("TIANPING_LLM_BACKEND", "openai"),
                     help="openai：任何兼容 OpenAI 接口的服务；transformers：本地模型目录"
                          "（默认：openai，环境变量 TIANPING_LLM_BACKEND）。"),
        click.option("--base-url", default=lambda: os.environ.get("TIANPING_LLM_BASE_URL"),
                     help="openai 后端的服务地址，例如 http://127.0.0.1:8000/v1（环境变量 TIANPING_LLM_BASE_URL）。"),
        click.option("--model", default=lambda: os.environ.get("TIANPING_LLM_MODEL"),
                     help="服务上的模型名称，或本地模型目录（环境变量 TIANPING_LLM_MODEL）。"),
        click.option("--api-key-env", default=DEFAULT_API_KEY_ENV, show_default=True,
                     help="存放 API 密钥的环境变量名。"),
        click.option("--timeout", type=float, default=60.0, show_default=True, help="每个请求的超时时间（秒）。"),
        click.option("--max-tokens", type=int, default=512, show_default=True, help="最多生成的 token 数。"),
        click.option("--temperature", type=float, default=0.2, show_default=True, help="采样温度。"),
        click.option("--mask-personal-data/--no-mask-personal-data", default=None,
                     help=f"发送前对{sends}中的姓名、公民身份号码、电话号码和地址脱敏"
                          "（默认：只对不在本机的服务脱敏）。"),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapper(*args, llm, backend, base_url, model, api_key_env, timeout, max_tokens, temperature,
                mask_personal_data, **kwargs):
        chosen = None
        if llm:
            params = GenerationParams(max_tokens=max_tokens, temperature=temperature)
            chosen = make_backend(backend, model=model, base_url=base_url, api_key_env=api_key_env,
                                  timeout=timeout, params=params)
        return command(*args, backend=chosen, mask_personal_data=mask_personal_data, **kwargs)

    return wrapper
