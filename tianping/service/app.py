"""The FastAPI application: statute, citation and consultation routes over ``tianping.api``.

Routes only translate between HTTP and the Python API; the guard around them
(keys, limits, audit, logs, metrics) is ``ServiceMiddleware``.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Path as PathParam, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST

from tianping import __version__, api, config
from tianping.service import errors, openai_compat
from tianping.service.errors import error_responses
from tianping.service.metrics import ServiceMetrics
from tianping.service.middleware import ServiceMiddleware
from tianping.service.schemas import (
    AskRequest,
    AskResponse,
    ArticleResponse,
    ChatCompletion,
    ChatCompletionRequest,
    Health,
    LawListResponse,
    Mode,
    ModelList,
    PredictRequest,
    PredictResponse,
    Readiness,
    SearchResponse,
    VerifyRequest,
    VerifyResponse,
)
from tianping.service.settings import ServiceSettings
from tianping.statutes.models import format_article_number
from tianping.service.state import ServiceState

logger = logging.getLogger("tianping.service")

STATIC_DIR = Path(__file__).parent / "static"

# The web page loads only its own files, so a script injected through a statute text cannot run.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

DESCRIPTION = """tianping（天平）的 HTTP 接口：法条检索、引用核验、有依据的法律问答，以及兼容 OpenAI 的对话接口。

Every `/v1/` route needs `Authorization: Bearer <key>` (create one with `tianping keys create --name NAME`).
Errors have the shape `{"error": {"code": "...", "message": "..."}}` with a Chinese message that says what to fix.
"""

bearer = HTTPBearer(auto_error=False, description="An API key made by `tianping keys create`.")
PROTECTED = [Depends(bearer)]
GUARDED_ERRORS = (401, 413, 429, 504)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """Build the app; the store under the settings' home is opened in the background at startup."""
    settings = settings or ServiceSettings()
    state = ServiceState(settings)
    pruned = state.records.prune_audit(settings.audit_retention_days)
    if pruned:
        logger.info("deleted %d audit rows older than %d days", pruned, settings.audit_retention_days)
    metrics = ServiceMetrics(state)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.warm_up()
        logger.info("service started: data in %s, %d requests per key per minute, timeout %g s",
                    state.home, settings.rate_limit_per_minute, settings.request_timeout)
        yield
        logger.info("service stopping")

    # No /docs: FastAPI's Swagger page loads its scripts from a CDN. The schema is at /openapi.json.
    app = FastAPI(title="tianping", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.service = state
    app.state.metrics = metrics
    app.state.started = int(time.time())
    errors.install(app)
    app.add_middleware(ServiceMiddleware, state=state, metrics=metrics, routes=app.router.routes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], expose_headers=["Retry-After", "X-Request-ID"])

    _add_statute_routes(app, state)
    _add_answer_routes(app, state)
    _add_openai_routes(app, state)
    _add_prediction_routes(app, state)
    _add_operator_routes(app, state, metrics)
    _add_web_routes(app)
    return app


def app_from_env() -> FastAPI:
    """Build the app from the settings ``tianping serve`` passes to each worker in the environment."""
    return create_app(ServiceSettings.from_env())


def _article_sources(items: list[dict]) -> list[str]:
    """Return 'law article' for each item that names both, for the audit log."""
    return [f"{item['law']} {item['article']}" for item in items if item.get("law") and item.get("article")]


def _add_statute_routes(app: FastAPI, state: ServiceState) -> None:
    @app.get("/v1/statutes/search", response_model=SearchResponse, tags=["statutes"], dependencies=PROTECTED,
             responses=error_responses(400, 404, 422, 503, *GUARDED_ERRORS), summary="Search statute articles")
    async def search_statutes(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=config.MAX_QUERY_CHARS, description="Question or keywords.")],
        top_k: Annotated[int, Query(ge=1, le=100)] = 10,
        date: Annotated[str | None, Query(description="Date in force, YYYY-MM-DD (default: today).")] = None,
        law: Annotated[str | None, Query(description="Only articles of this law (name or alias).")] = None,
        level: Annotated[str | None, Query(description="Only laws of this level, e.g. 法律, 司法解释.")] = None,
        status: Annotated[str | None, Query(description="Only versions with this status, e.g. 现行有效.")] = None,
        mode: Mode = "hybrid",
    ):
        result = await state.run(lambda searcher: api.search(q, top_k=top_k, date=date, law=law, level=level,
                                                             status=status, mode=mode, searcher=searcher))
        request.state.sources = _article_sources(result["hits"])
        return JSONResponse(result)

    @app.get("/v1/statutes/{law}/{article}", response_model=ArticleResponse, tags=["statutes"],
             dependencies=PROTECTED, responses=error_responses(400, 404, 422, *GUARDED_ERRORS),
             summary="Show an article in the version in force on a date")
    async def show_article(
        request: Request,
        law: Annotated[str, PathParam(description="Law name or alias, e.g. 刑法, 民法典.")],
        article: Annotated[str, PathParam(description="264, 第264条, 第一百三十三条之一 or 133-1.")],
        date: Annotated[str | None, Query(description="Date in force, YYYY-MM-DD (default: today).")] = None,
    ):
        result = await state.run(lambda searcher: api.show_article(law, article, date=date, store=searcher.store))
        request.state.sources = _article_sources([result])
        return JSONResponse(result)

    @app.get("/v1/laws", response_model=LawListResponse, tags=["statutes"], dependencies=PROTECTED,
             responses=error_responses(400, 422, *GUARDED_ERRORS), summary="List the laws in the store")
    async def list_laws(
        level: Annotated[str | None, Query(description="Only laws of this level, e.g. 法律.")] = None,
        status: Annotated[str | None, Query(description="Only laws whose current version has this status.")] = None,
    ):
        laws = await state.run(lambda searcher: searcher.store.list_laws(level=level, status=status))
        return JSONResponse({"laws": laws, "total": len(laws)})


def _add_answer_routes(app: FastAPI, state: ServiceState) -> None:
    @app.post("/v1/citations/verify", response_model=VerifyResponse, tags=["citations"], dependencies=PROTECTED,
              responses=error_responses(400, 422, *GUARDED_ERRORS), summary="Verify every citation in a text")
    async def verify_citations(request: Request, body: VerifyRequest):
        result = await state.run(lambda searcher: api.check_citations(body.text, date=body.date,
                                                                      store=searcher.store))
        request.state.sources = _article_sources(result["citations"])
        return JSONResponse(result)

    @app.post("/v1/ask", response_model=AskResponse, tags=["consultation"], dependencies=PROTECTED,
              responses=error_responses(400, 422, 503, *GUARDED_ERRORS),
              summary="Answer a legal question with the articles that apply")
    async def ask(request: Request, body: AskRequest):
        result = await state.run(lambda searcher: api.ask(body.question, top_k=body.top_k, date=body.date,
                                                          mode=body.mode, backend=state.backend,
                                                          searcher=searcher))
        request.state.sources = _article_sources(result["sources"])
        return JSONResponse(result)


def _add_prediction_routes(app: FastAPI, state: ServiceState) -> None:
    @app.post("/v1/predict", response_model=PredictResponse, tags=["prediction"], dependencies=PROTECTED,
              responses=error_responses(400, 422, 503, *GUARDED_ERRORS),
              summary="Predict charges, Criminal Law articles and prison term from the facts of a case")
    async def predict(request: Request, body: PredictRequest):
        def run(searcher):
            from tianping.prediction.grounding import ArticleTexts

            model = state.prediction_model()
            predictions = model.predict([body.fact], abstain_below=body.abstain_below,
                                        article_texts=ArticleTexts(searcher.store))
            return predictions[0].to_dict()

        result = await state.run(run)
        request.state.sources = [
            f"中华人民共和国刑法 {item.get('provision') or format_article_number(item['article_number'])}"
            for item in result["articles"]]
        return JSONResponse(result)


def _add_openai_routes(app: FastAPI, state: ServiceState) -> None:
    @app.get("/v1/models", response_model=ModelList, tags=["openai"], dependencies=PROTECTED,
             responses=error_responses(*GUARDED_ERRORS), summary="List models (OpenAI API)")
    async def models():
        return JSONResponse(openai_compat.model_list(app.state.started))

    stream_response = {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                             "description": "A chat completion, or server-sent chunks when stream is true."}}

    @app.post("/v1/chat/completions", response_model=ChatCompletion, tags=["openai"], dependencies=PROTECTED,
              responses={**stream_response, **error_responses(400, 404, 422, 503, *GUARDED_ERRORS)},
              summary="Grounded, citation-checked chat completion (OpenAI API)")
    async def chat_completions(request: Request, body: ChatCompletionRequest):
        question, context, topic = openai_compat.question_and_context(body)
        result = await state.run(lambda searcher: api.ask(question, context=context, topic=topic,
                                                          backend=state.backend, searcher=searcher))
        request.state.sources = _article_sources(result["sources"])
        if body.stream:
            return StreamingResponse(openai_compat.completion_chunks(question, result),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        return JSONResponse(openai_compat.completion(question, result))


def _add_operator_routes(app: FastAPI, state: ServiceState, metrics: ServiceMetrics) -> None:
    @app.get("/healthz", response_model=Health, tags=["operations"], summary="Liveness: the process answers")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", response_model=Readiness, tags=["operations"],
             responses={503: {"model": Readiness, "description": "The store is still being opened."}},
             summary="Readiness: the store is open and the index loaded")
    async def readyz():
        if not state.ready.is_set():
            return JSONResponse({"status": "starting"}, status_code=503)
        info = state.index_info()
        return {"status": "ready", "store_generation": info.get("generation"), "articles": info.get("articles")}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["operations"], summary="Prometheus metrics")
    async def prometheus_metrics():
        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE_LATEST)


def _add_web_routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
