"""The HTTP service through FastAPI's test client: routes, error shapes, keys, limits and the audit log."""

import datetime as dt
import json
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="needs the service extra: pip install 'tianping[service]'")

from fastapi.testclient import TestClient

from servicekit import (QUESTION, assert_error, bearer, build_service_home, copy_home, make_key,
                        train_prediction_model)
from tianping import api
from tianping.service import ServiceSettings, create_app
from tianping.service.records import ServiceRecords, service_db_path


@pytest.fixture(scope="module")
def built_home(tmp_path_factory):
    return build_service_home(tmp_path_factory.mktemp("service-store"))


@pytest.fixture(scope="module")
def shared(built_home, tmp_path_factory):
    """One app for the tests that only read: its home, a key and a client."""
    home = copy_home(built_home, tmp_path_factory.mktemp("service-home"))
    key = make_key(home)
    with TestClient(create_app(ServiceSettings(home=home, rate_limit_per_minute=10_000))) as client:
        client.headers.update(bearer(key))
        yield home, key, client


@pytest.fixture()
def client(shared):
    return shared[2]


@pytest.fixture()
def fresh(built_home, tmp_path):
    """Make an app with its own home and settings; return (client, key, home)."""
    clients = []

    def make(**settings):
        home = copy_home(built_home, tmp_path / f"home-{len(clients)}")
        key = make_key(home)
        test_client = TestClient(create_app(ServiceSettings(home=home, **settings)))
        clients.append(test_client)
        return test_client, key, home

    yield make
    for test_client in clients:
        test_client.close()


def audit_rows(home):
    records = ServiceRecords(service_db_path(home))
    try:
        return list(records.audit_rows())
    finally:
        records.close()


# ------------------------------------------------------------------ statutes


def test_search_json_shape(client):
    response = client.get("/v1/statutes/search", params={"q": "盗窃公私财物数额较大", "top_k": 2, "mode": "bm25"})
    assert response.status_code == 200
    payload = response.json()
    assert set(payload) == {"query", "mode", "date", "notes", "hits"}
    assert payload["mode"] == "bm25"
    first = payload["hits"][0]
    assert (first["law"], first["article"]) == ("中华人民共和国刑法", "第二百六十四条")
    assert {"score", "rank", "matched_terms", "retrievers", "paragraphs", "status"} <= set(first)
    assert len(payload["hits"]) <= 2


def test_search_matches_python_api(client, shared):
    home = shared[0]
    from tianping.retrieval import ArticleIndex, LegalSearch
    from tianping.statutes.store import StatuteStore

    store = StatuteStore(home / "statutes.sqlite3")
    expected = api.search("盗窃", top_k=3, mode="bm25", searcher=LegalSearch(store, ArticleIndex(store, home / "index")))
    payload = client.get("/v1/statutes/search", params={"q": "盗窃", "top_k": 3, "mode": "bm25"}).json()
    assert payload == expected


def test_search_law_and_date_filters(client):
    payload = client.get("/v1/statutes/search", params={"q": "单处罚金 盗窃", "law": "刑法", "date": "2022-01-01",
                                                        "mode": "bm25", "top_k": 1}).json()
    assert payload["date"] == "2022-01-01"
    assert payload["hits"][0]["effective_date"] == "2021-03-01"


def test_search_hybrid_reports_missing_dense_index(client):
    payload = client.get("/v1/statutes/search", params={"q": "盗窃"}).json()
    assert payload["mode"] == "bm25"
    assert any("向量" in note for note in payload["notes"])


def test_show_article_with_versions(client):
    response = client.get("/v1/statutes/刑法/第二百六十四条", params={"date": "2022-01-01"})
    payload = response.json()
    assert response.status_code == 200
    assert payload["law"] == "中华人民共和国刑法"
    assert payload["effective_date"] == "2021-03-01"
    assert payload["status"] == "历史版本"
    assert payload["date"] == "2022-01-01"
    assert [version["effective_date"] for version in payload["versions"]] == ["2021-03-01", "2024-03-01"]


def test_show_article_suffix_forms(client):
    for article in ("133之一", "133-1", "第一百三十三条之一"):
        payload = client.get(f"/v1/statutes/刑法/{article}").json()
        assert payload["article"] == "第一百三十三条之一"


def test_list_laws(client):
    payload = client.get("/v1/laws").json()
    assert payload["total"] == 3
    assert {law["short_name"] for law in payload["laws"]} == {"刑法", "民法典", "道路交通安全法"}


# ------------------------------------------------------------------ citations and ask


def test_verify_citations(client):
    response = client.post("/v1/citations/verify", json={"text": "依照《合同法》第一百零七条处理。",
                                                          "date": "2022-03-01"})
    payload = response.json()
    assert response.status_code == 200
    assert (payload["total"], payload["valid"], payload["invalid"]) == (1, 0, 1)
    citation = payload["citations"][0]
    assert citation["reason"] == "repealed"
    assert citation["successor"] == "中华人民共和国民法典"


def test_ask_grounded_answer(client):
    response = client.post("/v1/ask", json={"question": QUESTION, "top_k": 3})
    payload = response.json()
    assert response.status_code == 200
    assert payload["answerable"] is True
    assert "《中华人民共和国道路交通安全法》第九十一条" in payload["answer"]
    assert len(payload["sources"]) <= 3
    assert all(citation["valid"] for citation in payload["citations"])
    assert payload["disclaimer"]


def test_ask_uses_given_date(client):
    payload = client.post("/v1/ask", json={"question": "盗窃公私财物数额较大怎么处罚", "date": "2022-01-01",
                                           "mode": "bm25"}).json()
    assert payload["date"] == "2022-01-01"
    assert payload["date_source"] == "given"


# ------------------------------------------------------------------ error shapes


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code"), [
    ("post", "/v1/ask", {"content": b'{"question": ', "headers": {"Content-Type": "application/json"}}, 400,
     "invalid_json"),
    ("post", "/v1/ask", {"json": {"question": 5}}, 422, "validation_error"),
    ("post", "/v1/ask", {"json": {"question": QUESTION, "top_k": "many"}}, 422, "validation_error"),
    ("post", "/v1/ask", {"json": {"question": QUESTION, "top_k": 0}}, 422, "validation_error"),
    ("post", "/v1/ask", {"json": {}}, 422, "validation_error"),
    ("post", "/v1/ask", {"json": ["not", "an", "object"]}, 422, "validation_error"),
    ("post", "/v1/ask", {"json": {"question": ""}}, 422, "validation_error"),
    ("post", "/v1/ask", {"json": {"question": "   "}}, 400, "invalid_input"),
    ("post", "/v1/ask", {"json": {"question": "问" * 2001}}, 422, "validation_error"),
    ("post", "/v1/ask", {"json": {"question": QUESTION, "date": "2021/01/01"}}, 400, "invalid_input"),
    ("post", "/v1/citations/verify", {"json": {"text": "  \n "}}, 400, "invalid_input"),
    ("post", "/v1/citations/verify", {"json": {"text": "法" * 200_001}}, 422, "validation_error"),
    ("post", "/v1/citations/verify", {"json": {"text": ["依照刑法第264条"]}}, 422, "validation_error"),
    ("get", "/v1/statutes/search", {"params": {"q": ""}}, 422, "validation_error"),
    ("get", "/v1/statutes/search", {"params": {"q": "盗窃", "top_k": 101}}, 422, "validation_error"),
    ("get", "/v1/statutes/search", {"params": {"q": "盗窃", "mode": "magic"}}, 422, "validation_error"),
    ("get", "/v1/statutes/search", {"params": {"q": "   "}}, 400, "invalid_input"),
    ("get", "/v1/statutes/search", {"params": {"q": "盗窃", "law": "利率法"}}, 404, "not_found"),
    ("get", "/v1/statutes/search", {"params": {"q": "盗窃", "status": "生效"}}, 400, "invalid_input"),
    ("get", "/v1/statutes/利率法/1", {}, 404, "not_found"),
    ("get", "/v1/statutes/民法典/1438", {}, 404, "not_found"),
    ("get", "/v1/statutes/民法典/abc", {}, 400, "invalid_input"),
    ("get", "/v1/statutes/民法典/577", {"params": {"date": "yesterday"}}, 400, "invalid_input"),
    ("get", "/v1/nothing-here", {}, 404, "not_found"),
    ("delete", "/v1/ask", {}, 405, "method_not_allowed"),
])
def test_error_shapes(client, method, path, kwargs, status, code):
    response = getattr(client, method)(path, **kwargs)
    assert_error(response, status, code)


def test_validation_message_names_field(client):
    error = assert_error(client.post("/v1/ask", json={"question": 5}), 422)
    assert "question" in error["message"]
    assert "字符串" in error["message"]


def test_unknown_law_message_says_what_to_do(client):
    error = assert_error(client.get("/v1/statutes/利率法/1"), 404)
    assert "利率法" in error["message"]
    assert "laws list" in error["message"]


def test_unexpected_error_is_500_shape(fresh, monkeypatch):
    test_client, key, _ = fresh()

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(api, "search", broken)
    response = test_client.get("/v1/statutes/search", params={"q": "盗窃"}, headers=bearer(key))
    error = assert_error(response, 500, "internal_error")
    assert "secret internal detail" not in error["message"]
    assert response.headers["X-Request-ID"] in error["message"]


# ------------------------------------------------------------------ authentication


def test_missing_key_is_401(fresh):
    test_client, _, _ = fresh()
    response = test_client.get("/v1/models")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", [
    "Bearer tp_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "Bearer not-a-key",
    "Basic dXNlcjpwYXNz",
    "Bearer ",
])
def test_bad_key_is_401(fresh, header):
    test_client, _, _ = fresh()
    assert_error(test_client.get("/v1/models", headers={"Authorization": header}), 401, "unauthorized")


def test_tampered_secret_is_401(fresh):
    test_client, key, _ = fresh()
    tampered = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert_error(test_client.get("/v1/models", headers=bearer(tampered)), 401)


def test_revoked_key_is_401(fresh):
    test_client, key, home = fresh()
    assert test_client.get("/v1/models", headers=bearer(key)).status_code == 200
    records = ServiceRecords(service_db_path(home))
    records.revoke_key("tester")
    records.close()
    assert_error(test_client.get("/v1/models", headers=bearer(key)), 401, "unauthorized")


def test_open_paths_need_no_key(fresh):
    test_client, _, _ = fresh()
    for path in ("/healthz", "/metrics", "/", "/static/app.js", "/static/style.css", "/openapi.json"):
        assert test_client.get(path).status_code == 200, path


def test_key_is_stored_hashed(fresh):
    _, key, home = fresh()
    secret = key.split("_", 2)[2]
    for path in home.glob("service.sqlite3*"):
        data = path.read_bytes()
        assert secret.encode() not in data
        assert key.encode() not in data


def test_key_names_unique_while_active(tmp_path):
    from tianping.errors import InvalidInputError

    records = ServiceRecords(tmp_path / "service.sqlite3")
    records.create_key("clerk")
    with pytest.raises(InvalidInputError, match="已有名为 clerk"):
        records.create_key("clerk")
    records.revoke_key("clerk")
    _, key = records.create_key("clerk")
    assert records.verify_key(key) is not None
    assert [item.revoked_at is None for item in records.list_keys()] == [False, True]


# ------------------------------------------------------------------ limits


def test_rate_limit_429_with_retry_after(fresh):
    test_client, key, home = fresh(rate_limit_per_minute=2)
    other = make_key(home, "other")
    for _ in range(2):
        assert test_client.get("/v1/models", headers=bearer(key)).status_code == 200
    response = test_client.get("/v1/models", headers=bearer(key))
    error = assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["Retry-After"] in error["message"]
    assert test_client.get("/v1/models", headers=bearer(other)).status_code == 200


def test_rate_limiter_refills():
    from tianping.service.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.acquire("k") == 0 for _ in range(60))
    assert limiter.acquire("k") == 1
    now[0] += 1.0
    assert limiter.acquire("k") == 0


def test_body_over_limit_is_413(fresh):
    test_client, key, _ = fresh(max_body_bytes=4096)
    response = test_client.post("/v1/citations/verify", json={"text": "依照刑法第264条。" * 500}, headers=bearer(key))
    assert_error(response, 413, "payload_too_large")


def test_chunked_body_over_limit_is_413(fresh):
    test_client, key, _ = fresh(max_body_bytes=4096)

    def chunks():
        yield b'{"text": "'
        for _ in range(100):
            yield "依照刑法第264条。".encode() * 10
        yield b'"}'

    headers = dict(bearer(key), **{"Content-Type": "application/json"})
    response = test_client.post("/v1/citations/verify", content=chunks(), headers=headers)
    assert_error(response, 413, "payload_too_large")


def test_slow_request_is_504(fresh, monkeypatch):
    test_client, key, _ = fresh(request_timeout=0.2)

    release = threading.Event()
    finished = []

    def slow(*args, **kwargs):
        release.wait(30)
        finished.append(True)
        return {}

    monkeypatch.setattr(api, "search", slow)
    response = test_client.get("/v1/statutes/search", params={"q": "盗窃"}, headers=bearer(key))
    # The 504 came back while the work was still blocked, so the timeout did not wait for it.
    assert_error(response, 504, "timeout")
    assert finished == []
    release.set()


def test_cors_off_by_default(fresh):
    test_client, _, _ = fresh()
    response = test_client.options("/v1/ask", headers={"Origin": "https://intranet.example",
                                                       "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_configured_origin(fresh):
    test_client, _, _ = fresh(cors_origins=("https://intranet.example",))
    response = test_client.options("/v1/ask", headers={"Origin": "https://intranet.example",
                                                       "Access-Control-Request-Method": "POST"})
    assert response.headers["access-control-allow-origin"] == "https://intranet.example"
    other = test_client.options("/v1/ask", headers={"Origin": "https://other.example",
                                                    "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in other.headers


def test_settings_reject_bad_values():
    from tianping.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        ServiceSettings(rate_limit_per_minute=0)
    with pytest.raises(InvalidInputError):
        ServiceSettings(request_timeout=0)
    with pytest.raises(InvalidInputError):
        ServiceSettings(cors_origins=("*",))


def test_settings_json_round_trip(tmp_path):
    settings = ServiceSettings(home=tmp_path, rate_limit_per_minute=5, cors_origins=("https://a.example",))
    assert ServiceSettings.from_json(settings.to_json()) == settings


# ------------------------------------------------------------------ OpenAI-compatible API


def chat(client, **body):
    body.setdefault("model", "tianping")
    body.setdefault("messages", [{"role": "user", "content": QUESTION}])
    return client.post("/v1/chat/completions", json=body)


def test_models_list(client):
    payload = client.get("/v1/models").json()
    assert payload["object"] == "list"
    assert payload["data"][0]["id"] == "tianping"
    assert payload["data"][0]["object"] == "model"
    assert isinstance(payload["data"][0]["created"], int)


def test_chat_completion_shape(client):
    response = chat(client, temperature=0.3, max_tokens=100)
    payload = response.json()
    assert response.status_code == 200
    assert payload["id"].startswith("chatcmpl-")
    assert payload["object"] == "chat.completion"
    assert payload["model"] == "tianping"
    choice = payload["choices"][0]
    assert (choice["index"], choice["finish_reason"]) == (0, "stop")
    assert choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert "《中华人民共和国道路交通安全法》第九十一条" in content
    assert "参考法条" in content
    assert content.endswith(payload["tianping"]["disclaimer"])
    usage = payload["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert all(citation["valid"] for citation in payload["tianping"]["citations"])


def test_chat_completion_multipart_content_and_history(client):
    messages = [
        {"role": "system", "content": "你是助手"},
        {"role": "user", "content": "2022年1月5日，我朋友借了我5000元"},
        {"role": "assistant", "content": "请继续说明。"},
        {"role": "user", "content": [{"type": "text", "text": "盗窃公私财物数额较大怎么处罚"}]},
    ]
    payload = chat(client, messages=messages).json()
    assert payload["tianping"]["question"] == "盗窃公私财物数额较大怎么处罚"
    assert payload["tianping"]["date"] == "2022-01-05"


def read_events(response) -> list:
    events = []
    for line in response.text.splitlines():
        if line.startswith("data: "):
            events.append(line[len("data: "):])
    return events


def test_chat_completion_stream(client):
    whole = chat(client).json()["choices"][0]["message"]["content"]
    response = chat(client, stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = read_events(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks) == whole
    assert chunks[-1]["tianping"]["sources"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"model": "gpt-4o"}, 404, "not_found"),
    ({"messages": []}, 422, "validation_error"),
    ({"messages": [{"role": "assistant", "content": "你好"}]}, 400, "invalid_input"),
    ({"messages": [{"role": "user", "content": "   "}]}, 400, "invalid_input"),
    ({"messages": [{"role": "wizard", "content": QUESTION}]}, 422, "validation_error"),
    ({"messages": "醉酒驾驶"}, 422, "validation_error"),
    ({"stream": "yes"}, 422, "validation_error"),
])
def test_chat_completion_errors(client, body, status, code):
    assert_error(chat(client, **body), status, code)


# ------------------------------------------------------------------ operations


def test_health_and_readiness(fresh):
    test_client, _, _ = fresh()
    assert test_client.get("/healthz").json() == {"status": "ok"}
    with test_client:
        deadline = time.monotonic() + 10
        while test_client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        payload = test_client.get("/readyz").json()
    assert payload["status"] == "ready"
    assert payload["articles"] == 10


def test_readiness_503_before_store_opens(fresh):
    test_client, _, _ = fresh()
    response = test_client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "starting"}


def test_metrics_count_requests_and_errors(fresh):
    test_client, key, _ = fresh()
    test_client.get("/v1/statutes/search", params={"q": "盗窃", "mode": "bm25"}, headers=bearer(key))
    test_client.get("/v1/statutes/利率法/1", headers=bearer(key))
    test_client.get("/v1/models")
    text = test_client.get("/metrics").text
    assert 'tianping_http_requests_total{method="GET",route="/v1/statutes/search",status="200"} 1.0' in text
    assert 'tianping_http_errors_total{code="not_found",route="/v1/statutes/{law}/{article}"} 1.0' in text
    assert 'tianping_http_errors_total{code="unauthorized",route="/v1/models"} 1.0' in text
    assert 'tianping_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/v1/statutes/search"}' in text
    assert "tianping_store_generation 4.0" in text
    assert "tianping_index_articles 10.0" in text
    assert 'tianping_build_info{dense_model=' in text


def test_request_id_header(client):
    response = client.get("/healthz")
    assert len(response.headers["X-Request-ID"]) == 16


def test_store_change_is_picked_up(fresh):
    from lawtexts import write_law
    from tianping.statutes.importers import import_source
    from tianping.statutes.store import StatuteStore

    test_client, key, home = fresh()
    assert_error(test_client.get("/v1/statutes/海商法/1", headers=bearer(key)), 404)
    law = "中华人民共和国海商法\n\n1992年11月7日 通过\n1993年7月1日 施行\n\n第一条 为了调整海上运输关系，制定本法。\n"
    with StatuteStore(home / "statutes.sqlite3") as store:
        import_source(store, str(write_law(home, "maritime.txt", law)))
    response = test_client.get("/v1/statutes/海商法/1", headers=bearer(key))
    assert response.status_code == 200
    payload = test_client.get("/v1/statutes/search", params={"q": "海上运输", "mode": "bm25"}, headers=bearer(key)).json()
    assert payload["hits"][0]["law"] == "中华人民共和国海商法"


def test_web_page_is_chinese_and_self_contained(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert "法律咨询" in response.text
    assert "http://" not in response.text
    assert "https://" not in response.text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    script = client.get("/static/app.js").text
    assert "sessionStorage" in script
    assert "innerHTML" not in script


def test_openapi_documents_errors_and_auth(client):
    document = client.get("/openapi.json").json()
    search = document["paths"]["/v1/statutes/search"]["get"]
    assert {"200", "400", "401", "404", "413", "422", "429", "504"} <= set(search["responses"])
    assert search["security"] == [{"HTTPBearer": []}]
    assert "healthz" not in json.dumps(document["paths"]["/healthz"].get("security", []))


# ------------------------------------------------------------------ audit log


def test_audit_rows_record_sources_not_texts(fresh):
    test_client, key, home = fresh()
    response = test_client.post("/v1/ask", json={"question": QUESTION, "mode": "bm25"}, headers=bearer(key))
    denied = test_client.get("/v1/models", headers={"Authorization": "Bearer wrong"})
    rows = {row["request_id"]: row for row in audit_rows(home)}
    row = rows[response.headers["X-Request-ID"]]
    assert row["endpoint"] == "/v1/ask"
    assert row["method"] == "POST"
    assert row["status"] == 200
    assert row["key_id"] == key.split("_")[1]
    assert "中华人民共和国道路交通安全法 第九十一条" in row["sources"]
    assert row["latency_ms"] > 0
    assert dt.datetime.fromisoformat(row["time"]).tzinfo is not None
    assert QUESTION not in json.dumps(row, ensure_ascii=False)
    failed = rows[denied.headers["X-Request-ID"]]
    assert (failed["status"], failed["key_id"], failed["endpoint"]) == (401, None, "/v1/models")


def test_health_checks_not_audited(fresh):
    test_client, _, home = fresh()
    test_client.get("/healthz")
    test_client.get("/metrics")
    assert audit_rows(home) == []


def test_audit_retention_pruned_at_startup(built_home, tmp_path):
    home = copy_home(built_home, tmp_path / "home")
    records = ServiceRecords(service_db_path(home))
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=91)).isoformat(timespec="milliseconds")
    recent = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=89)).isoformat(timespec="milliseconds")
    for request_id, time_ in (("old", old), ("recent", recent)):
        records.record(request_id=request_id, key_id="k", method="GET", endpoint="/v1/models", status=200,
                       sources=[], latency_ms=1.0, time=time_)
    records.close()
    create_app(ServiceSettings(home=home))
    assert [row["request_id"] for row in audit_rows(home)] == ["recent"]


def test_access_log_is_json_without_secrets(fresh, caplog):
    test_client, key, _ = fresh()
    with caplog.at_level("INFO", logger="tianping.service.access"):
        test_client.get("/v1/statutes/search", params={"q": "我叫张三，住在某某路", "mode": "bm25"}, headers=bearer(key))
    records = [record for record in caplog.records if record.name == "tianping.service.access"]
    assert records
    fields = records[-1].fields
    assert fields["route"] == "/v1/statutes/search"
    assert fields["status"] == 200
    from tianping.service.logs import JsonFormatter

    line = JsonFormatter().format(records[-1])
    assert json.loads(line)["status"] == 200
    assert key not in line
    assert key.split("_", 2)[2] not in line
    assert "张三" not in line


def test_key_last_use_recorded(fresh):
    test_client, key, home = fresh()
    records = ServiceRecords(service_db_path(home))
    assert records.list_keys()[0].last_used_at is None
    test_client.get("/v1/models", headers=bearer(key))
    assert records.list_keys()[0].last_used_at is not None
    records.close()


# ------------------------------------------------------------------ judgment prediction

@pytest.fixture(scope="module")
def prediction_model_dir(tmp_path_factory):
    pytest.importorskip("sklearn", reason="needs the predict extra: pip install 'tianping[predict]'")
    return train_prediction_model(tmp_path_factory.mktemp("prediction-model"))


def test_predict_without_model_is_503(client):
    error = assert_error(client.post("/v1/predict", json={"fact": "被告人某某盗窃手机一部。"}), 503,
                         "prediction_unavailable")
    assert "--prediction-model" in error["message"]


def test_predict_with_model(fresh, prediction_model_dir):
    test_client, key, home = fresh(prediction_model=prediction_model_dir)
    fact = "2022年3月5日，被告人韩某在商场内秘密窃取他人手机一部，价值人民币3000元。"
    response = test_client.post("/v1/predict", json={"fact": fact}, headers=bearer(key))
    payload = response.json()
    assert response.status_code == 200, response.text
    assert payload["charges"][0]["name"] == "盗窃"
    assert payload["articles"][0]["article_number"] == 264
    assert payload["articles"][0]["text"].startswith("盗窃公私财物")
    assert payload["articles"][0]["version_effective_date"] == "2021-03-01"
    assert payload["event_date"] == "2022-03-05"
    assert set(payload["term"]) == {"months", "death_penalty", "life_imprisonment"}
    row = next(row for row in audit_rows(home) if row["request_id"] == response.headers["X-Request-ID"])
    assert row["sources"][0] == "中华人民共和国刑法 第二百六十四条"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"fact": ""}, 422, "validation_error"),
    ({"fact": "   "}, 400, "invalid_input"),
    ({"fact": "被告人盗窃手机。", "abstain_below": 2}, 422, "validation_error"),
    ({"facts": ["被告人盗窃手机。"]}, 422, "validation_error"),
])
def test_predict_bad_input(fresh, prediction_model_dir, body, status, code):
    test_client, key, _ = fresh(prediction_model=prediction_model_dir)
    assert_error(test_client.post("/v1/predict", json=body, headers=bearer(key)), status, code)


def test_predict_broken_model_is_503(fresh, tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", "utf-8")
    test_client, key, _ = fresh(prediction_model=broken)
    error = assert_error(test_client.post("/v1/predict", json={"fact": "被告人盗窃手机。"}, headers=bearer(key)), 503,
                         "prediction_unavailable")
    assert "无法加载" in error["message"]
