"""The official OpenAI Python client against a server on 127.0.0.1: models, chat completions, streaming."""

import pytest

pytest.importorskip("fastapi", reason="needs the service extra: pip install 'tianping[service]'")
openai = pytest.importorskip("openai", reason="needs the OpenAI Python client: pip install openai")

from servicekit import QUESTION, ThreadedServer, build_service_home, make_key
from tianping.service import ServiceSettings, create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = build_service_home(tmp_path_factory.mktemp("openai-home"))
    key = make_key(home, "openai-client")
    with ThreadedServer(create_app(ServiceSettings(home=home))) as running:
        yield openai.OpenAI(base_url=f"{running.base_url}/v1", api_key=key, max_retries=0, timeout=30)


def test_models_through_client(client):
    assert [model.id for model in client.models.list()] == ["tianping"]


def test_chat_completion_through_client(client):
    completion = client.chat.completions.create(model="tianping", messages=[{"role": "user", "content": QUESTION}])
    message = completion.choices[0].message
    assert message.role == "assistant"
    assert "《中华人民共和国道路交通安全法》第九十一条" in message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model_extra["tianping"]["citations"]


def test_streamed_chat_completion_through_client(client):
    whole = client.chat.completions.create(model="tianping", messages=[{"role": "user", "content": QUESTION}])
    stream = client.chat.completions.create(model="tianping", messages=[{"role": "user", "content": QUESTION}],
                                            stream=True)
    pieces, reasons = [], []
    for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")
        reasons.append(chunk.choices[0].finish_reason)
    assert "".join(pieces) == whole.choices[0].message.content
    assert reasons[-1] == "stop"


def test_client_sees_error_shape(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert raised.value.body["code"] == "not_found"
    assert "tianping" in raised.value.body["message"]


def test_client_with_wrong_key_gets_401(client):
    wrong = client.with_options(api_key="tp_000000000000_wrongwrongwrongwrongwrong")
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
