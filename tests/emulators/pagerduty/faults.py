"""Planned faults, PagerDuty's throttle, and the request count.

PagerDuty allows about 120 events a minute per integration key, counted
over the 60 seconds before each request, and answers 429 beyond it. The
docs name no ``Retry-After`` header and no body for that 429, so the
emulator sends neither unless a planned fault asks for the header.

Planned faults are answered before the event is even read, as an overloaded
or unreachable service would; they are taken in the order they were planned.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
DEFAULT_EVENTS_PER_MINUTE = 120


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: answer normally once the stall is over
    retry_after: int | None = None
    stall_seconds: float = 0.0


class Faults:
    def __init__(self) -> None:
        self._planned: deque[Fault] = deque()
        self._requests = 0
        self._lock = threading.Lock()

    def plan(self, fault: Fault, times: int) -> None:
        with self._lock:
            self._planned.extend([fault] * times)

    def take(self) -> Fault | None:
        """Count one request and hand back the fault planned for it, if any."""
        with self._lock:
            self._requests += 1
            return self._planned.popleft() if self._planned else None

    def request_count(self) -> int:
        with self._lock:
            return self._requests

    def reset(self) -> None:
        with self._lock:
            self._planned.clear()
            self._requests = 0


class Throttle:
    """A sliding one-minute window of accepted requests per routing key."""

    def __init__(self, clock: Callable[[], float],
                 per_minute: int | None = DEFAULT_EVENTS_PER_MINUTE) -> None:
        self.clock = clock
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def set_limit(self, per_minute: int | None) -> None:
        with self._lock:
            self.per_minute = per_minute

    def admit(self, routing_key: str) -> bool:
        """True and counted if this key is under its limit now, else False."""
        with self._lock:
            now = self.clock()
            seen = self._seen.setdefault(routing_key, deque())
            while seen and seen[0] <= now - WINDOW_SECONDS:
                seen.popleft()
            if self.per_minute is not None and len(seen) >= self.per_minute:
                return False
            seen.append(now)
            return True
