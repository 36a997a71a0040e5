"""Back-translation: paraphrases of the training texts from a pluggable translator.

A translator maps a list of Chinese texts to a list of paraphrases of the same
length. Two kinds exist: a Python function named ``module:function``, and an
OpenAI-compatible chat server that is asked to translate each text into a pivot
language and then back into Chinese. Each paraphrase is kept only when it is
non-empty, differs from its source and has a length within
``[min_length_ratio, max_length_ratio]`` times the source's length (in characters).

Every answer of the translator, kept or rejected, is stored in
``RUN_DIR/back_translation.jsonl``; a resumed run reads it and asks the
translator only for texts that are not in it, so it trains on the same data.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from tianping.errors import InvalidInputError
from tianping.finetune.config import BackTranslationConfig

logger = logging.getLogger(__name__)

CACHE_NAME = "back_translation.jsonl"
ACCEPTED = "accepted"

Translator = Callable[[list[str]], list[str]]


def import_function(reference: str) -> Translator:
    """Import the callable that ``module:function`` names."""
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInputError(f"无法导入回译函数所在的模块 {module_name}：{exc}", code="invalid_config",
                                hint="请检查 augment.back_translation.function，并确认该模块在 Python 路径上") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise InvalidInputError(f"模块 {module_name} 中没有可调用的 {attribute}", code="invalid_config",
                                hint="请检查 augment.back_translation.function 的函数名")
    return function


class ChatTranslator:
    """Back-translation through an OpenAI-compatible chat server: Chinese → pivot language → Chinese."""

    def __init__(self, settings: BackTranslationConfig):
        from tianping.generation.backends import GenerationParams, make_backend

        # Greedy decoding, so that the same server and model give the same paraphrase.
        params = GenerationParams(max_tokens=1024, temperature=0.0, top_p=1.0)
        self.backend = make_backend("openai", model=settings.model, base_url=settings.base_url,
                                    api_key_env=settings.api_key_env, timeout=settings.timeout, params=params)
        self.pivot = settings.pivot_language

    def _translate(self, text: str, source: str, target: str) -> str:
        messages = [
            {"role": "system", "content": "You are a professional legal translator. "
                                          "Reply with the translation only, without notes or quotation marks."},
            {"role": "user", "content": f"Translate the following {source} text into {target}.\n\n{text}"},
        ]
        return self.backend.generate(messages).strip()

    def __call__(self, texts: list[str]) -> list[str]:
        paraphrases = []
        for text in texts:
            pivot = self._translate(text, "Chinese", self.pivot)
            paraphrases.append(self._translate(pivot, self.pivot, "Chinese") if pivot else "")
        return paraphrases


def make_translator(settings: BackTranslationConfig) -> Translator:
    if settings.translator == "function":
        return import_function(settings.function)
    if settings.translator == "openai":
        return ChatTranslator(settings)
    raise InvalidInputError(f"配置字段 augment.back_translation.translator 的值无效：{settings.translator!r}",
                            code="invalid_config", hint="允许的值为 function, openai")


def check_paraphrase(source: str, paraphrase, min_ratio: float, max_ratio: float) -> str:
    """Return ``accepted``, or the reason for rejecting the paraphrase.

    The reasons are ``not_text``, ``empty``, ``identical`` and ``length_ratio``.
    """
    if not isinstance(paraphrase, str):
        return "not_text"
    stripped = paraphrase.strip()
    if not stripped:
        return "empty"
    if stripped == source.strip():
        return "identical"
    ratio = len(stripped) / max(1, len(source.strip()))
    if not min_ratio <= ratio <= max_ratio:
        return "length_ratio"
    return ACCEPTED


def read_cache(path: Path) -> dict[str, str]:
    """Return the stored translator answers by source text."""
    cache = {}
    if not path.is_file():
        return cache
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            cache[entry["text"]] = entry["paraphrase"]
    return cache


def write_cache(path: Path, entries: Sequence[dict]) -> None:
    path.write_text("".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries), encoding="utf-8")


def back_translate(texts: Sequence[str], settings: BackTranslationConfig,
                   cache: dict[str, str] | None = None) -> tuple[list[tuple[int, str]], list[dict], dict]:
    """Return ``(source index, paraphrase)`` for accepted paraphrases, the cache entries and the counts.

    Texts found in ``cache`` are not sent to the translator. The counts are
    ``accepted``, ``rejected``, ``rejected_by_reason`` and ``from_cache``.
    """
    cache = dict(cache or {})
    unique = list(dict.fromkeys(texts))
    missing = [text for text in unique if text not in cache]
    from_cache = len(unique) - len(missing)
    if missing:
        translator = make_translator(settings)
        for start in range(0, len(missing), settings.batch_size):
            batch = missing[start:start + settings.batch_size]
            answers = translator(list(batch))
            if not isinstance(answers, (list, tuple)) or len(answers) != len(batch):
                size = len(answers) if isinstance(answers, (list, tuple)) else type(answers).__name__
                raise InvalidInputError(f"回译函数对 {len(batch)} 条文本返回了 {size} 条结果",
                                        code="invalid_translator", hint="翻译器应返回与输入等长的字符串列表")
            for text, answer in zip(batch, answers):
                cache[text] = answer if isinstance(answer, str) else None
            logger.info("back-translated %d of %d texts", min(start + len(batch), len(missing)), len(missing))

    produced = []
    entries = []
    reasons: Counter = Counter()
    decided: dict[str, str] = {}
    for text in unique:
        paraphrase = cache[text]
        status = check_paraphrase(text, paraphrase, settings.min_length_ratio, settings.max_length_ratio)
        decided[text] = status
        entries.append({"text": text, "paraphrase": paraphrase, "status": status})
    for index, text in enumerate(texts):
        if decided[text] == ACCEPTED:
            produced.append((index, cache[text].strip()))
        else:
            reasons[decided[text]] += 1
    counts = {"accepted": len(produced), "rejected": sum(reasons.values()),
              "rejected_by_reason": dict(sorted(reasons.items())), "from_cache": from_cache}
    logger.info("back-translation kept %d paraphrases and rejected %d %s", counts["accepted"], counts["rejected"],
                counts["rejected_by_reason"])
    return produced, entries, counts
