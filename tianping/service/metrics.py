"""Prometheus metrics of one app: requests, latency, errors, and the store and index it serves."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily

from tianping import __version__

# Seconds; a BM25 search takes milliseconds, an answer written by an LLM several seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ServiceMetrics:
    """Metrics in a registry of their own, so that several apps in one process do not collide."""

    def __init__(self, state):
        self.registry = CollectorRegistry()
        self.requests = Counter("tianping_http_requests", "HTTP requests by route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("tianping_http_request_duration_seconds", "Time to answer a request.",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter("tianping_http_errors", "Error responses by route and error code.",
                              ["route", "code"], registry=self.registry)
        self.registry.register(_StoreCollector(state))

    def observe(self, method: str, route: str, status: int, seconds: float, error_code: str | None) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if error_code:
            self.errors.labels(route, error_code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StoreCollector:
    """Reads the store generation and the index manifest at each scrape."""

    def __init__(self, state):
        self.state = state

    def describe(self):
        return []

    def collect(self):
        info = self.state.index_info()
        build = InfoMetricFamily("tianping_build", "Versions of tianping and of the search index.")
        build.add_metric([], {
            "version": __version__,
            "index_format": str(info.get("index_format") or ""),
            "dense_model": str(info.get("dense_model") or ""),
            "llm_backend": getattr(self.state.backend, "name", "") or "none",
        })
        yield build
        ready = GaugeMetricFamily("tianping_ready", "1 when the store is open and the index loaded.")
        ready.add_metric([], 1.0 if self.state.ready.is_set() else 0.0)
        yield ready
        if info:
            generation = GaugeMetricFamily("tianping_store_generation", "Generation of the statute store; "
                                           "it grows by one with each import that adds texts.")
            generation.add_metric([], float(info["generation"] or 0))
            yield generation
            articles = GaugeMetricFamily("tianping_index_articles", "Articles in the BM25 index.")
            articles.add_metric([], float(info["articles"] or 0))
            yield articles
