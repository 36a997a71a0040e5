"""Helpers for the HTTP service tests: a statute store built once, copied into each test's home."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

from lawtexts import build_store

QUESTION = "醉酒驾驶机动车怎么处罚"


def build_service_home(directory: Path) -> Path:
    """Build the small statute store and its BM25 index in ``directory``."""
    from tianping.retrieval import ArticleIndex
    from tianping.statutes.store import StatuteStore

    build_store(directory)
    with StatuteStore(directory / "statutes.sqlite3") as store:
        ArticleIndex(store, directory / "index").ensure()
    return directory


def copy_home(source: Path, target: Path) -> Path:
    """Copy the store and index of a built home, without its keys and audit log."""
    target.mkdir(parents=True, exist_ok=True)
    # The store runs in WAL mode: recent transactions may still be in the -wal file.
    for suffix in ("", "-wal", "-shm"):
        if (source / f"statutes.sqlite3{suffix}").exists():
            shutil.copy2(source / f"statutes.sqlite3{suffix}", target / f"statutes.sqlite3{suffix}")
    shutil.copytree(source / "index", target / "index", dirs_exist_ok=True)
    return target


def make_key(home: Path, name: str = "tester") -> str:
    from tianping.service.records import ServiceRecords, service_db_path

    records = ServiceRecords(service_db_path(home))
    try:
        return records.create_key(name)[1]
    finally:
        records.close()


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


# Hand-written facts, four per charge, enough for a TF-IDF model to tell the charges apart.
PREDICTION_FACTS = {
    ("盗窃", 264): ["被告人张某在超市内秘密窃取香烟两条，价值人民币800元。",
                   "被告人李某趁被害人熟睡之际，盗窃其手机一部，价值人民币2000元。",
                   "被告人王某在公交车上扒窃他人钱包，窃得现金1500元。",
                   "被告人赵某撬开车门，盗走车内笔记本电脑一台，价值3000元。"],
    ("诈骗", 266): ["被告人孙某虚构投资项目，骗取被害人人民币5万元。",
                   "被告人周某冒充公安人员，以转账核查为名骗得被害人存款3万元。",
                   "被告人吴某谎称能办理工作，收取被害人好处费2万元后逃匿。",
                   "被告人郑某虚构购房事实，骗取亲友借款10万元。"],
    ("危险驾驶", 133): ["被告人陈某醉酒后驾驶小型轿车在道路上行驶，血液酒精含量为180mg/100ml。",
                      "被告人褚某醉酒驾驶摩托车，被交警查获，血液酒精含量为120mg/100ml。",
                      "被告人卫某醉驾机动车与他车相撞，血液酒精含量为210mg/100ml。",
                      "被告人蒋某在道路上醉酒驾驶机动车，血液酒精含量为95mg/100ml。"],
    # CAIL2018 spells this charge with its alternatives in brackets.
    ("[引诱、容留、介绍]卖淫", 359): ["被告人冯某在其经营的足浴店内容留两名妇女从事卖淫活动。",
                                "被告人杨某介绍多名女子向嫖客卖淫，从中收取介绍费。",
                                "被告人何某在出租屋内多次容留他人卖淫。",
                                "被告人朱某引诱、容留妇女在其宾馆房间内卖淫。"],
}


# Recommended ranges (months) appended to copies of PREDICTION_FACTS. The sentences in those
# copies are 60% of the middle of the range, so the model learns a share of 0.6.
RECOMMENDED_RANGES = ((6, 12), (12, 24))


def train_prediction_model(directory: Path) -> Path:
    """Train a TF-IDF judgment model on PREDICTION_FACTS and save it in ``directory``.

    Every fact also appears once per range of RECOMMENDED_RANGES with a sentencing
    recommendation, so predictions for facts that quote one show the term's basis.
    """
    from tianping.datasets import Case, Term
    from tianping.prediction import create_model

    cases = []
    for (charge, article), facts in PREDICTION_FACTS.items():
        for fact in facts:
            cases.append(Case(fact=fact, charges=[charge], articles=[article], term=Term(months=6),
                              line=len(cases) + 1))
            for low, high in RECOMMENDED_RANGES:
                cases.append(Case(fact=f"{fact}公诉机关建议判处{low}个月至{high}个月有期徒刑。", charges=[charge],
                                  articles=[article], term=Term(months=round(0.6 * (low + high) / 2)),
                                  line=len(cases) + 1))
    create_model("tfidf").fit(cases).save(directory)
    return directory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Check the status and the error shape; return the error object."""
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"code", "message"}
    assert payload["error"]["message"]
    if code is not None:
        assert payload["error"]["code"] == code
    return payload["error"]


class ThreadedServer:
    """The app under uvicorn on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn stopped during startup"
            assert time.monotonic() < deadline, "uvicorn did not start within 20 s"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc_info):
        self.server.should_exit = True
        self.thread.join(timeout=10)
