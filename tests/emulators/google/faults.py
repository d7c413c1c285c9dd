"""Faults a test can ask for, and the per-method request counts.

``fail_next("drive.files.list", status=429)`` makes the next call of that
method fail the way Google fails it (429 and 403 rate limits carry reason
``rateLimitExceeded`` in the ``usageLimits`` domain; 429 adds ``Retry-After``).
``deny_user`` makes every Drive call of one user answer 403, as Drive does for
a user whose Drive the admin turned off. Method names are discovery ids
(``drive.files.list``, ``directory.users.list``) plus ``oauth.token``.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass

from . import discovery
from .errors import GoogleApiError, injected

TOKEN_METHOD = "oauth.token"
DEFAULT_REASONS = {
    403: "rateLimitExceeded", 429: "rateLimitExceeded", 401: "authError",
    404: "notFound", 500: "backendError", 503: "backendError",
}


@dataclass(frozen=True)
class Fault:
    status: int
    reason: str
    message: str | None
    retry_after: int | None


class Faults:
    def __init__(self) -> None:
        self._planned: dict[str, deque[Fault]] = {}
        self._denied: dict[str, str] = {}
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def fail_next(self, method: str, status: int = 403, reason: str | None = None,
                  times: int = 1, retry_after: int | None = None,
                  message: str | None = None) -> None:
        """Plan ``times`` failures; the reason defaults to Google's usual one for ``status``."""
        reason = reason or DEFAULT_REASONS.get(status, "backendError" if status >= 500
                                               else "badRequest")
        if method != TOKEN_METHOD and method not in discovery.methods():
            raise ValueError(
                f"unknown method {method!r}; use a discovery id such as 'drive.files.list'"
            )
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(status, reason, message, retry_after)
        with self._lock:
            self._planned.setdefault(method, deque()).extend([fault] * times)

    def take(self, method: str) -> Fault | None:
        with self._lock:
            planned = self._planned.get(method)
            return planned.popleft() if planned else None

    def planned_error(self, method: str) -> GoogleApiError | None:
        fault = self.take(method)
        if fault is None:
            return None
        return injected(fault.status, fault.reason, fault.message, fault.retry_after)

    def deny_user(self, email: str, denied: bool = True,
                  reason: str = "domainPolicy") -> None:
        with self._lock:
            if denied:
                self._denied[email.lower()] = reason
            else:
                self._denied.pop(email.lower(), None)

    def denial(self, email: str) -> GoogleApiError | None:
        with self._lock:
            reason = self._denied.get(email.lower())
        return GoogleApiError(403, reason) if reason else None

    def count(self, method: str) -> None:
        with self._lock:
            self._counts[method] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
