"""Locations of tianping's data and the limits that apply to user input."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

# Texts longer than this are rejected by citation checking and search, so one
# request cannot tie up a process; 200,000 characters is about a 130-page judgment.
MAX_TEXT_CHARS = 200_000

# Search queries longer than this are rejected; questions are short.
MAX_QUERY_CHARS = 2_000


def home() -> Path:
    """Return the data directory: ``TIANPING_HOME`` or the user's data directory."""
    configured = os.environ.get("TIANPING_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path(user_data_dir("tianping", appauthor=False))


def statute_db_path() -> Path:
    return home() / "statutes.sqlite3"


def index_dir() -> Path:
    return home() / "index"
