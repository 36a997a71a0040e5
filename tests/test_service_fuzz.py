"""Schema-driven fuzzing of the HTTP API: generated requests get no 500 and no response outside the schema."""

import importlib.util

import pytest

pytest.importorskip("fastapi", reason="needs the service extra: pip install 'tianping[service]'")
schemathesis = pytest.importorskip("schemathesis", reason="needs schemathesis: pip install schemathesis")

from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from servicekit import bearer, build_service_home, make_key, train_prediction_model
from tianping.service import ServiceSettings, create_app

# The checks for "no server error" and "the response matches the document". Checks
# that expect every schema-valid value to be accepted do not apply: a date such as
# "2021-13-99" is a valid string to the schema and is rejected with 400 on purpose.
RESPONSE_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

OPERATIONS = [
    "GET /v1/statutes/search",
    "GET /v1/statutes/{law}/{article}",
    "GET /v1/laws",
    "POST /v1/citations/verify",
    "POST /v1/ask",
    "POST /v1/predict",
    "GET /v1/models",
    "POST /v1/chat/completions",
    "GET /healthz",
    "GET /readyz",
]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    home = build_service_home(tmp_path_factory.mktemp("fuzz-home"))
    key = make_key(home, "fuzz")
    model = None
    if importlib.util.find_spec("sklearn") is not None:
        model = train_prediction_model(tmp_path_factory.mktemp("fuzz-model"))
    app = create_app(ServiceSettings(home=home, rate_limit_per_minute=100_000, request_timeout=30,
                                     prediction_model=model))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = {result.ok().label: result.ok() for result in schema.get_all_operations()}
    return operations, key, model is not None


def test_fuzzed_operations_are_all_routes(fuzz_target):
    operations, _, _ = fuzz_target
    assert set(operations) == set(OPERATIONS) | {"GET /metrics"}


# Invalid inputs can only be made for operations that take parameters or a body.
CASES = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [
    (label, GenerationMode.NEGATIVE) for label in OPERATIONS if label not in ("GET /healthz", "GET /readyz")
]


@pytest.mark.slow
@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
def test_operation_conforms_to_openapi(fuzz_target, label, mode):
    operations, key, has_model = fuzz_target
    if label == "POST /v1/predict" and not has_model:
        pytest.skip("needs the predict extra to train a model: pip install 'tianping[predict]'")

    @given(case=operations[label].as_strategy(generation_mode=mode))
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        case.call_and_validate(headers=bearer(key), checks=RESPONSE_CHECKS)

    check()
