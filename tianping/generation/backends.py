"""LLM backends behind one small interface: an OpenAI-compatible HTTP client and local transformers models."""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

from tianping.errors import InvalidInputError, TianpingError, require

logger = logging.getLogger(__name__)

DEFAULT_API_KEY_ENV = "TIANPING_LLM_API_KEY"
# The name that selects the packaged default base model, as in the fine-tuning engine's configs.
DEFAULT_LOCAL_MODEL = "gemma3-270m"


class BackendError(TianpingError):
    """The LLM backend failed: unreachable, timed out, or returned malformed output."""

    code = "backend_error"
    exit_code = 7


@dataclass
class GenerationParams:
    """Sampling settings passed to every backend."""

    max_tokens: int = 512
    temperature: float = 0.2
    top_p: float = 0.9

    def __post_init__(self):
        if not 1 <= self.max_tokens <= 32_768:
            raise InvalidInputError(f"max_tokens 无效：{self.max_tokens}", hint="请取 1 到 32768 之间的整数")
        if not 0.0 <= self.temperature <= 2.0:
            raise InvalidInputError(f"temperature 无效：{self.temperature}", hint="请取 0 到 2 之间的数")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidInputError(f"top_p 无效：{self.top_p}", hint="请取大于 0、不超过 1 的数")


@dataclass
class OpenAICompatibleBackend:
    """A chat-completions client for vLLM, Ollama, llama.cpp server and hosted OpenAI-compatible APIs.

    The API key is read from the environment variable named by ``api_key_env``
    and is sent only in the Authorization header; it is never logged.
    """

    base_url: str
    model: str
    api_key_env: str = DEFAULT_API_KEY_ENV
    timeout: float = 60.0
    max_retries: int = 2
    backoff: float = 0.5
    params: GenerationParams = field(default_factory=GenerationParams)

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    @property
    def is_remote(self) -> bool:
        """Whether the server is on another machine (its host is not a loopback address)."""
        import ipaddress
        from urllib.parse import urlparse

        host = urlparse(self.base_url).hostname or ""
        if host == "localhost":
            return False
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return True

    def _request(self, messages: list[dict], stream: bool) -> urllib.request.Request:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.params.max_tokens,
            "temperature": self.params.temperature,
            "top_p": self.params.top_p,
            "stream": stream,
        }
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(self.api_key_env)
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        url = self.base_url.rstrip("/") + "/chat/completions"
        return urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")

    def _open(self, messages: list[dict], stream: bool):
        """Send the request, retrying connection errors, timeouts and 429/5xx with exponential backoff."""
        last_error: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return urllib.request.urlopen(self._request(messages, stream), timeout=self.timeout)
            except urllib.error.HTTPError as error:
                last_error = error
                logger.warning("LLM backend %s returned HTTP %d (attempt %d)", self.base_url, error.code, attempt + 1)
                if error.code not in (408, 429) and error.code < 500:
                    raise BackendError(f"大模型后端拒绝了请求（HTTP {error.code}）",
                                       hint="请检查模型名称和 API 密钥设置") from error
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
                last_error = error
                logger.warning("LLM backend %s unreachable (attempt %d): %s", self.base_url, attempt + 1,
                               type(error).__name__)
        if isinstance(last_error, TimeoutError) or "timed out" in str(last_error):
            raise BackendError(f"大模型后端超时（{self.timeout:g} 秒）：{self.base_url}",
                               hint="请检查服务是否过载，或用 --timeout 调大超时") from last_error
        if isinstance(last_error, urllib.error.HTTPError):
            raise BackendError(f"大模型后端出错：{self.base_url} 返回 HTTP {last_error.code}"
                               f"（已重试 {self.max_retries} 次）",
                               hint="请查看该服务的日志，稍后再试") from last_error
        raise BackendError(f"无法连接大模型后端：{self.base_url}",
                           hint="请确认服务已启动、地址和端口正确") from last_error

    def generate(self, messages: list[dict]) -> str:
        with self._open(messages, stream=False) as response:
            raw = response.read()
        try:
            payload = json.loads(raw)
            content = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise BackendError("大模型后端返回了无法解析的结果", hint="请确认该服务实现了 OpenAI chat completions 接口") from error
        if not isinstance(content, str):
            raise BackendError("大模型后端返回的内容不是文本", hint="请确认该服务实现了 OpenAI chat completions 接口")
        return content

    def stream(self, messages: list[dict]) -> Iterator[str]:
        """Yield pieces of the answer as the server sends them (server-sent events)."""
        with self._open(messages, stream=True) as response:
            for raw_line in response:
                line = raw_line.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[len("data:"):].strip()
                if data == "[DONE]":
                    return
                try:
                    delta = json.loads(data)["choices"][0].get("delta", {})
                except (ValueError, KeyError, IndexError, TypeError) as error:
                    raise BackendError("大模型后端的流式输出无法解析") from error
                piece = delta.get("content")
                if piece:
                    yield piece


@dataclass
class TransformersBackend:
    """A local chat or base model directory run with transformers on the CPU or a GPU when present."""

    model_dir: str
    params: GenerationParams = field(default_factory=GenerationParams)
    gguf_file: str | None = None
    _model: object = None
    _tokenizer: object = None

    @property
    def name(self) -> str:
        return f"transformers:{self.model_dir}"

    def _load(self) -> None:
        if self._model is not None:
            return
        transformers = require("transformers", "llm", "transformers")
        torch = require("torch", "llm", "torch")
        if self.model_dir == DEFAULT_LOCAL_MODEL:
            # The packaged Gemma-3-270m GGUF that the fine-tuning engine also uses; assembled on first use.
            # NOTE: a base model, not instruction-tuned; loading takes about a minute on two CPU cores.
            from tianping.finetune.models import resolve_model

            source = resolve_model(DEFAULT_LOCAL_MODEL)
            self.model_dir, self.gguf_file = str(source.directory), source.gguf_file
        options = {"local_files_only": True}
        if self.gguf_file:
            options["gguf_file"] = self.gguf_file
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(self.model_dir, **options)
            self._model = transformers.AutoModelForCausalLM.from_pretrained(self.model_dir, **options)
        except (OSError, ValueError) as error:
            raise BackendError(f"无法加载本地模型：{self.model_dir}",
                               hint="请指定包含 config.json 和权重文件的模型目录") from error
        if torch.cuda.is_available():
            self._model.to("cuda")
        self._model.eval()

    def _prompt(self, messages: list[dict]) -> str:
        if getattr(self._tokenizer, "chat_template", None):
            return self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(f"{message['role']}: {message['content']}" for message in messages) + "\n\nassistant:"

    def generate(self, messages: list[dict]) -> str:
        self._load()
        import torch

        inputs = self._tokenizer(self._prompt(messages), return_tensors="pt").to(self._model.device)
        context = getattr(self._model.config, "max_position_embeddings", None) or getattr(
            self._model.config, "n_positions", None)
        needed = inputs["input_ids"].shape[1] + self.params.max_tokens
        if context and needed > context:
            raise BackendError(f"提示和回答共需 {needed} 个词元，超过模型的上下文长度 {context}",
                               hint="请减少 --top-k 或 --max-tokens，或换用上下文更长的模型")
        with torch.no_grad():
            output = self._model.generate(
                **inputs,
                max_new_tokens=self.params.max_tokens,
                do_sample=self.params.temperature > 0,
                temperature=max(self.params.temperature, 1e-5),
                top_p=self.params.top_p,
            )
        return self._tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)

    def stream(self, messages: list[dict]) -> Iterator[str]:
        yield self.generate(messages)


def make_backend(kind: str, *, model: str | None = None, base_url: str | None = None,
                 api_key_env: str = DEFAULT_API_KEY_ENV, timeout: float = 60.0,
                 params: GenerationParams | None = None):
    """Build a backend from CLI flags or configuration."""
    params = params or GenerationParams()
    if timeout <= 0:
        raise InvalidInputError(f"超时时间无效：{timeout}", hint="请给出大于 0 的秒数")
    if kind == "openai":
        if not base_url:
            raise InvalidInputError("未指定大模型服务地址", hint="请用 --base-url 或 TIANPING_LLM_BASE_URL 指定，例如 http://127.0.0.1:8000/v1")
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInputError(f"服务地址无效：{base_url}", hint="地址应以 http:// 或 https:// 开头")
        return OpenAICompatibleBackend(base_url, model or "default", api_key_env=api_key_env, timeout=timeout,
                                       params=params)
    if kind == "transformers":
        return TransformersBackend(model or DEFAULT_LOCAL_MODEL, params=params)
    raise InvalidInputError(f"未知的后端：{kind}", hint="可选值：openai、transformers")
