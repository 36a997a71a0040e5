"""Shared fixtures: the real-data location and a statute store built from small texts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
DATA_HINT = (
    "needs the real legal data set: set TIANPING_DATA to the folder that holds "
    "cail2018/, lawbench/ and lawrefbook/ (default ../shared/data beside the repository)"
)


def data_dir() -> Path:
    """Return the real-data folder: TIANPING_DATA, or ../shared/data beside the repository."""
    return Path(os.environ.get("TIANPING_DATA", REPOSITORY.parent / "shared" / "data")).resolve()


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``data`` when the data is missing, unless TIANPING_REQUIRE_DATA=1."""
    if data_dir().is_dir():
        return
    if os.environ.get("TIANPING_REQUIRE_DATA") == "1":
        raise pytest.UsageError(f"TIANPING_REQUIRE_DATA=1 but {data_dir()} does not exist; {DATA_HINT}")
    skip = pytest.mark.skip(reason=DATA_HINT)
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def real_data() -> Path:
    return data_dir()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Give every test its own TIANPING_HOME so no test touches the user's data."""
    home = tmp_path / "tianping-home"
    monkeypatch.setenv("TIANPING_HOME", str(home))
    return home
