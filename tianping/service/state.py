"""Shared state of one service instance: the store, the search indexes, the limits and the records."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from tianping.errors import TianpingError
from tianping.service.ratelimit import RateLimiter
from tianping.service.records import ServiceRecords, service_db_path
from tianping.service.settings import ServiceSettings

logger = logging.getLogger("tianping.service")


class RequestTimeout(Exception):
    """A request ran longer than the configured timeout."""


class PredictionUnavailable(TianpingError):
    """The service has no judgment prediction model, or the configured one cannot be loaded."""

    code = "prediction_unavailable"


class ServiceState:
    """The statute store and one LegalSearch, shared by all requests of an app.

    All work on the store and the indexes runs on one worker thread, one request
    at a time. The index cache's SQLite connection may only be used by the thread
    that opened it, and a search is CPU-bound, so more threads would not make a
    process faster. Health checks and the timeout keep working meanwhile,
    because they run on the event loop.
    """

    def __init__(self, settings: ServiceSettings):
        self.settings = settings
        self.home = settings.resolved_home()
        self.records = ServiceRecords(service_db_path(self.home))
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tianping-store")
        self.backend = backend_from_settings(settings)
        self._searcher = None
        self._generation = None
        self._prediction_model = None
        self.ready = threading.Event()

    def searcher(self):
        """Return the shared LegalSearch, opening the store and loading the index on first use.

        A new LegalSearch is made when the store's generation changed (an import
        ran while the service was up), so responses use the imported texts.
        Call it on the worker thread only.
        """
        if self._searcher is None:
            from tianping.retrieval import ArticleIndex, LegalSearch

            store = _open_store_at(self.home)
            index = ArticleIndex(store, self.home / "index")
            self._searcher = LegalSearch(store, index)
            self._searcher.index.ensure()
            self._generation = store.generation()
            self.ready.set()
        elif self._searcher.store.generation() != self._generation:
            # A new store object as well, because StatuteStore caches the law aliases it has read.
            from tianping.retrieval import ArticleIndex, LegalSearch

            old = self._searcher
            logger.info("statute store changed (generation %s -> %s), reloading the index",
                        self._generation, old.store.generation())
            store = _open_store_at(self.home)
            self._searcher = LegalSearch(store, ArticleIndex(store, old.index.directory))
            self._searcher.index.ensure()
            self._generation = store.generation()
            old.index.cache.close()
            old.store.close()
        return self._searcher

    def prediction_model(self):
        """Return the judgment prediction model, loading it on first use. Call it on the worker thread only."""
        if self.settings.prediction_model is None:
            raise PredictionUnavailable("服务未加载判决预测模型",
                                        hint="请用 tianping serve --prediction-model 指定 tianping predict train 写出的模型目录")
        if self._prediction_model is None:
            from tianping.prediction import load_model

            try:
                self._prediction_model = load_model(self.settings.prediction_model)
            except TianpingError as exc:
                logger.error("loading the prediction model from %s failed: %s", self.settings.prediction_model, exc)
                raise PredictionUnavailable(f"判决预测模型无法加载：{exc}",
                                            hint="请管理员检查 --prediction-model 指定的目录") from None
            logger.info("prediction model loaded from %s", self.settings.prediction_model)
        return self._prediction_model

    def warm_up(self) -> None:
        """Open the store and load the index in the background, so the first request does not wait."""
        def run():
            try:
                self.searcher()
            except Exception:
                logger.exception("warm-up of the statute store failed")

        self.executor.submit(run)

    async def run(self, function, *args, **kwargs):
        """Run ``function(searcher, *args, **kwargs)`` on the worker thread, within the request timeout.

        NOTE: on timeout the client gets 504 at once, but the worker thread
        finishes the work in the background, and later requests wait for it.
        """
        def call():
            return function(self.searcher(), *args, **kwargs)

        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, call)
        try:
            return await asyncio.wait_for(future, timeout=self.settings.request_timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout() from None

    def index_info(self) -> dict:
        """Return the store generation and the BM25 manifest, or empty values before the store is open."""
        if self._searcher is None:
            return {}
        manifest = self._searcher.index.manifest()
        return {"generation": self._generation, "articles": manifest.get("articles"),
                "index_format": manifest.get("format"), "dense_model": manifest.get("dense_model"),
                "tianping_version": manifest.get("tianping_version")}


def _open_store_at(home):
    """Open the store under ``home``, importing the default source when it is empty, as api.open_store does."""
    from tianping.statutes.importers import ensure_default
    from tianping.statutes.store import StatuteStore

    store = StatuteStore(home / "statutes.sqlite3")
    ensure_default(store)
    return store


def backend_from_settings(settings: ServiceSettings):
    """Build the LLM backend the settings name, or return None when answers are extracts of the articles."""
    if settings.llm is None:
        return None
    from tianping.generation import GenerationParams, make_backend

    llm = settings.llm
    params = GenerationParams(max_tokens=llm.max_tokens, temperature=llm.temperature)
    return make_backend(llm.backend, model=llm.model, base_url=llm.base_url, api_key_env=llm.api_key_env,
                        timeout=llm.timeout, params=params)
