"""Per-key token buckets, kept in the memory of one process."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """One token bucket per key: ``per_minute`` tokens at most, refilled at ``per_minute`` a minute.

    NOTE: each uvicorn worker process keeps its own buckets, so with N workers
    a key can make up to N times the limit.
    """

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> int:
        """Take one token for ``key``; return 0, or the whole seconds to wait when the bucket is empty."""
        now = self._clock()
        with self._lock:
            tokens, updated = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - updated) * self.refill_per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.refill_per_second))
