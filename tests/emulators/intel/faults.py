"""Planned failures and request counts, per provider.

A test plans what a client cannot predict: the next N answers of a
provider fail with a status (a 429 with or without ``Retry-After``, a 503),
or the provider is down and answers 503 to everything until it is back.
Every request is counted by endpoint, faults included, so a test can see
whether a lookup reached the provider at all.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass

PROVIDERS = ("abuseipdb", "virustotal")


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: int | None = None


class Faults:
    def __init__(self) -> None:
        self._planned: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._down: set[str] = set()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def fail_next(self, provider: str, status: int, times: int, retry_after: int | None) -> None:
        _check(provider)
        with self._lock:
            self._planned[provider].extend([Fault(status, retry_after)] * times)

    def set_down(self, provider: str, down: bool) -> None:
        _check(provider)
        with self._lock:
            if down:
                self._down.add(provider)
            else:
                self._down.discard(provider)

    def take(self, provider: str) -> Fault | None:
        """The failure this request gets, if one is planned."""
        with self._lock:
            if provider in self._down:
                return Fault(503)
            planned = self._planned[provider]
            return planned.popleft() if planned else None

    def count(self, endpoint: str) -> None:
        with self._lock:
            self._counts[endpoint] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()


def _check(provider: str) -> None:
    if provider not in PROVIDERS:
        raise ValueError(f"provider is one of {', '.join(PROVIDERS)}; not {provider!r}")
