"""API keys and the audit log of the HTTP service, in ``TIANPING_HOME/service.sqlite3``.

This module needs only the standard library, so ``tianping keys`` and
``tianping audit`` work without the ``service`` extra.

A key is ``tp_<key id>_<secret>``. The key id is public and names the row. The
secret is stored only as SHA-256 over a random per-key salt and the secret, and
the hashes are compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tianping import config
from tianping.errors import InvalidInputError, NotFoundError

KEY_PREFIX = "tp_"
_KEY_FORMAT = re.compile(r"^tp_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
_NAME_FORMAT = re.compile(r"^[\w.@-]{1,64}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    salt TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS active_key_names ON api_keys (name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    request_id TEXT NOT NULL,
    key_id TEXT,
    method TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status INTEGER NOT NULL,
    sources TEXT NOT NULL,
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_log (time);
"""


def service_db_path(home: Path | None = None) -> Path:
    return (home or config.home()) / "service.sqlite3"


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def _hash_secret(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None

    def to_dict(self) -> dict:
        return {"key_id": self.key_id, "name": self.name, "created_at": self.created_at,
                "revoked_at": self.revoked_at, "last_used_at": self.last_used_at,
                "active": self.revoked_at is None}


class ServiceRecords:
    """API keys and audit rows in one SQLite file, safe to share between threads."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else service_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ---------------------------------------------------------------- keys

    def create_key(self, name: str) -> tuple[ApiKey, str]:
        """Create a key named ``name``; return its record and the key itself, which is not stored."""
        name = (name or "").strip()
        if not _NAME_FORMAT.match(name):
            raise InvalidInputError(f"无效的密钥名称：{name!r}",
                                    hint="名称为 1 到 64 个字母、数字、汉字或 . _ @ -")
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        created_at = utc_now()
        with self._lock:
            if self._conn.execute("SELECT 1 FROM api_keys WHERE name = ? AND revoked_at IS NULL", (name,)).fetchone():
                raise InvalidInputError(f"已有名为 {name} 的有效密钥",
                                        hint=f"请换一个名称，或先运行 tianping keys revoke {name}")
            while True:
                key_id = secrets.token_hex(6)
                try:
                    self._conn.execute(
                        "INSERT INTO api_keys (key_id, name, salt, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                        (key_id, name, salt, _hash_secret(salt, secret), created_at),
                    )
                    break
                except sqlite3.IntegrityError:
                    # Another process created a key with this name meanwhile, or the random key id is taken.
                    if self._conn.execute("SELECT 1 FROM api_keys WHERE name = ? AND revoked_at IS NULL",
                                          (name,)).fetchone():
                        raise InvalidInputError(f"已有名为 {name} 的有效密钥",
                                                hint=f"请换一个名称，或先运行 tianping keys revoke {name}") from None
        return ApiKey(key_id, name, created_at, None, None), f"{KEY_PREFIX}{key_id}_{secret}"

    def list_keys(self) -> list[ApiKey]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key_id, name, created_at, revoked_at, last_used_at FROM api_keys ORDER BY created_at"
            ).fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke_key(self, name: str) -> ApiKey:
        """Revoke the active key named ``name``; requests with it get 401 from then on."""
        revoked_at = utc_now()
        with self._lock:
            row = self._conn.execute(
                "SELECT key_id, name, created_at, last_used_at FROM api_keys WHERE name = ? AND revoked_at IS NULL",
                (name,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"没有名为 {name!r} 的有效密钥", hint="用 tianping keys list 查看密钥名称")
            self._conn.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", (revoked_at, row[0]))
        return ApiKey(row[0], row[1], row[2], revoked_at, row[3])

    def verify_key(self, key: str) -> str | None:
        """Return the key id when ``key`` is a valid, unrevoked key, else None."""
        match = _KEY_FORMAT.match(key or "")
        if not match:
            return None
        key_id, secret = match.groups()
        with self._lock:
            row = self._conn.execute(
                "SELECT salt, secret_hash FROM api_keys WHERE key_id = ? AND revoked_at IS NULL", (key_id,)
            ).fetchone()
        if row is None:
            return None
        salt, expected = row
        if not hmac.compare_digest(_hash_secret(salt, secret), expected):
            return None
        return key_id

    def touch_key(self, key_id: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE api_keys SET last_used_at = ? WHERE key_id = ?", (utc_now(), key_id))

    # --------------------------------------------------------------- audit

    def record(self, *, request_id: str, key_id: str | None, method: str, endpoint: str, status: int,
               sources: list[str], latency_ms: float, time: str | None = None) -> None:
        """Append one audit row. Request texts are not stored, only the sources returned."""
        with self._lock:
            self._conn.execute(
                """INSERT INTO audit_log (time, request_id, key_id, method, endpoint, status, sources, latency_ms)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (time or utc_now(), request_id, key_id, method, endpoint, status,
                 json.dumps(sources, ensure_ascii=False), round(latency_ms, 3)),
            )

    def audit_rows(self, since: str | None = None) -> Iterator[dict]:
        """Yield audit rows in time order, from ``since`` (YYYY-MM-DD, UTC) on when given."""
        query = "SELECT time, request_id, key_id, method, endpoint, status, sources, latency_ms FROM audit_log"
        parameters: tuple = ()
        if since:
            query += " WHERE time >= ?"
            parameters = (since,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY id", parameters).fetchall()
        for time, request_id, key_id, method, endpoint, status, sources, latency_ms in rows:
            yield {"time": time, "request_id": request_id, "key_id": key_id, "method": method,
                   "endpoint": endpoint, "status": status, "sources": json.loads(sources),
                   "latency_ms": latency_ms}

    def prune_audit(self, retention_days: int, now: dt.datetime | None = None) -> int:
        """Delete audit rows older than ``retention_days``; return how many were deleted."""
        now = now or dt.datetime.now(dt.timezone.utc)
        cutoff = (now - dt.timedelta(days=retention_days)).isoformat(timespec="milliseconds")
        with self._lock:
            cursor = self._conn.execute("DELETE FROM audit_log WHERE time < ?", (cutoff,))
        return cursor.rowcount
