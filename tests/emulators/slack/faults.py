"""Web API faults a test can switch on: 429s, real rate limits, an outage.

Slack answers a rate-limited call with HTTP 429, a ``Retry-After`` header in
seconds and ``{"ok": false, "error": "ratelimited"}``; slack_sdk's
RateLimitErrorRetryHandler sleeps for exactly that header.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class Faults:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.down = False
        self._forced: dict[str, deque[int]] = {}
        self._per_minute: dict[str, int] = {}
        self._served: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429."""
        with self._lock:
            self._forced.setdefault(method, deque()).extend([retry_after] * times)

    def set_rate_limit(self, method: str, per_minute: int | None) -> None:
        """Allow ``per_minute`` calls in any sliding minute; None lifts the limit."""
        with self._lock:
            if per_minute is None:
                self._per_minute.pop(method, None)
            else:
                self._per_minute[method] = per_minute

    def retry_after(self, method: str) -> int | None:
        """Seconds to wait if this call is limited now, else None (and count it)."""
        with self._lock:
            forced = self._forced.get(method)
            if forced:
                return forced.popleft()
            limit = self._per_minute.get(method)
            now = self.clock()
            served = self._served.setdefault(method, deque())
            while served and served[0] <= now - WINDOW_SECONDS:
                served.popleft()
            if limit is not None and len(served) >= limit:
                return max(1, math.ceil(served[0] + WINDOW_SECONDS - now))
            served.append(now)
            return None
