"""Load test of the HTTP service on this machine: statute search and ask at several concurrency levels.

Reports, for each route and number of concurrent clients: requests sent,
errors (any status other than 200, or no response), throughput, and p50/p95/p99
latency. Each level stops after ``--requests`` requests or ``--seconds`` seconds,
whichever comes first.

Usage:
    python benchmarks/service_load.py --start [--home DIR] [--levels 1,4,16] [--requests 200] [--out FILE]
    python benchmarks/service_load.py --url http://127.0.0.1:8000 --key KEY [...]

``--start`` runs ``tianping serve`` on 127.0.0.1 and a free port, with a key it
creates and a rate limit high enough not to interfere. ``--home`` is its
TIANPING_HOME (default: the current one). With ``--url`` the server must have
been started with a ``--rate-limit`` above the request rate, or the 429s count
as errors. Only loopback addresses are accepted.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

QUESTIONS = [
    "醉酒驾驶机动车怎么处罚",
    "盗窃公私财物数额较大怎么判",
    "合同一方不履行义务要承担什么责任",
    "诈骗罪的量刑标准",
    "交通事故后逃逸有什么后果",
    "借钱不还可以起诉吗",
    "故意伤害他人造成轻伤怎么处理",
    "劳动合同解除的经济补偿",
    "房屋租赁合同到期后押金不退怎么办",
    "未成年人犯罪的刑事责任年龄",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def require_loopback(url: str) -> None:
    host = urllib.parse.urlparse(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"only servers on this machine are load-tested; {host!r} is not a loopback address")


def make_request(base: str, key: str, route: str, index: int) -> urllib.request.Request:
    question = QUESTIONS[index % len(QUESTIONS)]
    headers = {"Authorization": f"Bearer {key}"}
    if route == "search":
        query = urllib.parse.urlencode({"q": question, "top_k": 10})
        return urllib.request.Request(f"{base}/v1/statutes/search?{query}", headers=headers)
    body = json.dumps({"question": question, "top_k": 5}).encode("utf-8")
    headers["Content-Type"] = "application/json"
    return urllib.request.Request(f"{base}/v1/ask", data=body, headers=headers, method="POST")


def run_level(base: str, key: str, route: str, clients: int, max_requests: int, max_seconds: float) -> dict:
    """Send requests from ``clients`` threads until the count or the time runs out."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = {"sent": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        while True:
            with lock:
                if counter["sent"] >= max_requests or time.monotonic() >= deadline:
                    return
                index = counter["sent"]
                counter["sent"] += 1
            started = time.perf_counter()
            outcome = "200"
            try:
                with urllib.request.urlopen(make_request(base, key, route, index), timeout=120) as response:
                    response.read()
            except urllib.error.HTTPError as error:
                outcome = str(error.code)
            except OSError as error:
                outcome = type(error).__name__
            elapsed = time.perf_counter() - started
            with lock:
                if outcome == "200":
                    latencies.append(elapsed)
                else:
                    errors[outcome] = errors.get(outcome, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for _ in range(clients):
            pool.submit(client)
    wall = time.perf_counter() - started
    row = {"route": route, "clients": clients, "requests": counter["sent"], "errors": sum(errors.values()),
           "error_kinds": errors, "seconds": round(wall, 2),
           "throughput_per_s": round(len(latencies) / wall, 2) if wall else 0.0}
    if latencies:
        row.update({f"p{int(share * 100)}_ms": round(percentile(latencies, share) * 1000, 1)
                    for share in (0.5, 0.95, 0.99)})
        row["mean_ms"] = round(statistics.fmean(latencies) * 1000, 1)
    return row


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(home: str | None) -> tuple[subprocess.Popen, str, str]:
    """Start ``tianping serve`` on 127.0.0.1; return the process, its URL and a new key."""
    environment = dict(os.environ)
    if home:
        environment["TIANPING_HOME"] = home
    tianping = [sys.executable, "-m", "tianping.cli.main"]
    name = f"load-test-{os.getpid()}"
    key = subprocess.run([*tianping, "keys", "create", "--name", name], env=environment, check=True,
                         capture_output=True, text=True).stdout.strip()
    port = free_port()
    process = subprocess.Popen([*tianping, "serve", "--port", str(port), "--rate-limit", "1000000"],
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                if response.status == 200:
                    break
        except (urllib.error.HTTPError, OSError):
            pass
        if process.poll() is not None:
            raise SystemExit("tianping serve exited during startup")
        if time.monotonic() > deadline:
            process.terminate()
            raise SystemExit("tianping serve was not ready within 300 s")
        time.sleep(0.5)
    return process, base, key


def revoke(home: str | None, name: str) -> None:
    environment = dict(os.environ, **({"TIANPING_HOME": home} if home else {}))
    subprocess.run([sys.executable, "-m", "tianping.cli.main", "keys", "revoke", name], env=environment,
                   check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--start", action="store_true", help="start tianping serve on 127.0.0.1 for the run")
    target.add_argument("--url", help="base URL of a running server on this machine")
    parser.add_argument("--key", help="API key for --url")
    parser.add_argument("--home", help="TIANPING_HOME for --start")
    parser.add_argument("--levels", default="1,4,16", help="comma-separated numbers of concurrent clients")
    parser.add_argument("--requests", type=int, default=200, help="maximum requests per route and level")
    parser.add_argument("--seconds", type=float, default=60.0, help="maximum seconds per route and level")
    parser.add_argument("--routes", default="search,ask", help="comma-separated: search, ask")
    parser.add_argument("--out", help="write the results as JSON to this file")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.levels.split(",")]
    routes = arguments.routes.split(",")

    process = None
    if arguments.start:
        process, base, key = start_server(arguments.home)
    else:
        if not arguments.key:
            parser.error("--url needs --key")
        require_loopback(arguments.url)
        base, key = arguments.url.rstrip("/"), arguments.key

    rows = []
    try:
        for route in routes:
            # One unmeasured request loads the index and, for hybrid search, the encoder.
            urllib.request.urlopen(make_request(base, key, route, 0), timeout=300).read()
            for clients in levels:
                row = run_level(base, key, route, clients, arguments.requests, arguments.seconds)
                rows.append(row)
                print(f"{route:6} clients={clients:3} requests={row['requests']:4} errors={row['errors']:3} "
                      f"{row['throughput_per_s']:7.2f}/s  p50={row.get('p50_ms', '-')} ms  "
                      f"p95={row.get('p95_ms', '-')} ms  p99={row.get('p99_ms', '-')} ms", flush=True)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
            revoke(arguments.home, f"load-test-{os.getpid()}")

    report = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                          "cpus": os.cpu_count()},
              "settings": {"levels": levels, "max_requests": arguments.requests, "max_seconds": arguments.seconds},
              "results": rows}
    if arguments.out:
        Path(arguments.out).write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")


if __name__ == "__main__":
    main()
