"""Rate limits, planned faults and request counts.

Primary limit: each user has ``limit`` requests per hour in the ``core``
resource, counted from their first request; every answer carries the
``X-RateLimit-*`` headers, and once the budget is spent GitHub answers 403
"API rate limit exceeded for user ID N." with ``X-RateLimit-Remaining: 0``.
Requests without a token share the unauthenticated budget (60 an hour).

Secondary limits cannot be predicted by a client, so tests plan them with
``fail_next``: a 429 (or 403) with ``Retry-After`` and GitHub's message. A
fault planned ``after_effect`` lets the request take effect and loses its
answer, as when a proxy gives up after GitHub acted.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import DOCS, RATE_LIMIT_DOCS, GitHubError

WINDOW_SECONDS = 3600
ANONYMOUS_LIMIT = 60
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes "
    "before you try again. If you reach out to GitHub Support for help, "
    "please include the request ID {request_id}."
)
PRIMARY_MESSAGE = (
    "API rate limit exceeded for user ID {user_id}. If you reach out to GitHub "
    "Support for help, please include the request ID {request_id}."
)
ANONYMOUS_MESSAGE = (
    "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
    "Authenticated requests get a higher rate limit. Check out the "
    "documentation for more details.)"
)


@dataclass
class Budget:
    limit: int
    used: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - self.used, 0)),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Used": str(self.used),
            "X-RateLimit-Resource": "core",
        }


class RateLimits:
    def __init__(self, clock: Callable[[], float], limit: int = 5000) -> None:
        self.clock = clock
        self.limit = limit
        self._used: dict[int | None, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def set_limit(self, limit_per_hour: int) -> None:
        with self._lock:
            self.limit = limit_per_hour

    def reset(self) -> None:
        with self._lock:
            self._used.clear()

    def spend(self, user_id: int | None, request_id: str) -> Budget:
        """Count one request; raises GitHub's 403 once the hour's budget is spent."""
        with self._lock:
            now = int(self.clock())
            limit = self.limit if user_id is not None else ANONYMOUS_LIMIT
            used, reset = self._used.get(user_id, (0, now + WINDOW_SECONDS))
            if now >= reset:
                used, reset = 0, now + WINDOW_SECONDS
            if used >= limit:
                budget = Budget(limit, used, reset)
                message = (PRIMARY_MESSAGE.format(user_id=user_id, request_id=request_id)
                           if user_id is not None else ANONYMOUS_MESSAGE)
                raise RateLimited(message, budget)
            self._used[user_id] = (used + 1, reset)
            return Budget(limit, used + 1, reset)

    def peek(self, user_id: int | None) -> Budget:
        """The budget without spending (GET /rate_limit is free)."""
        with self._lock:
            now = int(self.clock())
            limit = self.limit if user_id is not None else ANONYMOUS_LIMIT
            used, reset = self._used.get(user_id, (0, now + WINDOW_SECONDS))
            if now >= reset:
                used, reset = 0, now + WINDOW_SECONDS
            return Budget(limit, used, reset)


class RateLimited(GitHubError):
    def __init__(self, message: str, budget: Budget) -> None:
        super().__init__(403, message, RATE_LIMIT_DOCS)
        self.budget = budget


@dataclass(frozen=True)
class Fault:
    method: str
    path_pattern: str
    status: int
    retry_after: int | None
    message: str | None
    after_effect: bool = False

    def matches(self, method: str, route: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        return self.path_pattern == route or fnmatch.fnmatchcase(path, self.path_pattern)

    def error(self, request_id: str) -> GitHubError:
        message = self.message
        if message is None and self.status in (403, 429):
            message = SECONDARY_MESSAGE.format(request_id=request_id)
        elif message is None:
            message = "Server Error" if self.status >= 500 else "Injected failure"
        docs = RATE_LIMIT_DOCS if self.status in (403, 429) else DOCS
        return GitHubError(self.status, message, docs, retry_after=self.retry_after)


class Faults:
    """Planned failures, matched by method and route template or path glob."""

    def __init__(self) -> None:
        self._planned: deque[Fault] = deque()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def fail_next(self, method: str, path_pattern: str, status: int, times: int,
                  retry_after: int | None, message: str | None,
                  after_effect: bool = False) -> None:
        if not path_pattern.startswith("/"):
            raise ValueError("path_pattern starts with '/', without the /api/v3 prefix")
        if status == 429 and retry_after is None:
            retry_after = 60
        fault = Fault(method.upper(), path_pattern, status, retry_after, message, after_effect)
        with self._lock:
            self._planned.extend([fault] * times)

    def take(self, method: str, route: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._planned:
                if fault.matches(method, route, path):
                    self._planned.remove(fault)
                    return fault
            return None

    def count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
