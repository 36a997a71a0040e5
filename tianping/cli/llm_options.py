"""Command-line options that choose and configure an LLM backend."""

from __future__ import annotations

import functools
import os

import click

from tianping.generation.backends import DEFAULT_API_KEY_ENV, GenerationParams, make_backend


def llm_options(command):
    """Add --llm and the backend flags; their defaults come from TIANPING_LLM_* environment variables."""
    options = [
        click.option("--llm", is_flag=True, help="Write the answer with an LLM backend; citations are still verified."),
        click.option("--backend", type=click.Choice(["openai", "transformers"]),
                     default=lambda: os.environ.get("TIANPING_LLM_BACKEND", "openai"), show_default="openai",
                     help="openai: any OpenAI-compatible server; transformers: a local model directory."),
        click.option("--base-url", default=lambda: os.environ.get("TIANPING_LLM_BASE_URL"),
                     help="Server URL for the openai backend, e.g. http://127.0.0.1:8000/v1 (env TIANPING_LLM_BASE_URL)."),
        click.option("--model", default=lambda: os.environ.get("TIANPING_LLM_MODEL"),
                     help="Model name on the server, or the local model directory (env TIANPING_LLM_MODEL)."),
        click.option("--api-key-env", default=DEFAULT_API_KEY_ENV, show_default=True,
                     help="Environment variable that contains the API key."),
        click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds per request."),
        click.option("--max-tokens", type=int, default=512, show_default=True, help="Maximum tokens to generate."),
        click.option("--temperature", type=float, default=0.2, show_default=True, help="Sampling temperature."),
        click.option("--mask-personal-data/--no-mask-personal-data", default=None,
                     help="Mask names, ID numbers, phone numbers and addresses in the question before it is sent "
                          "(default: only for servers that are not on this machine)."),
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
