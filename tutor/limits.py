"""Rate limits a shared deployment needs: a sliding window per key (learner, user name, address)."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    """At most `limit` events per `window_s` seconds per key."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, now: float | None = None) -> float:
        """Record an event for `key`; 0 when allowed, else the seconds to wait (the event is not recorded)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0] >= self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.1, self.window_s - (now - events[0]))
            events.append(now)
            if len(self._events) > 10_000:  # forget idle keys so made-up names cannot grow this forever
                for stale in [k for k, q in self._events.items() if not q or now - q[-1] >= self.window_s]:
                    del self._events[stale]
            return 0.0
