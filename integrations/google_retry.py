"""The one retry policy for Google's APIs (Drive, Admin Directory, OAuth).

Google signals "slow down" three ways: HTTP 429, HTTP 403 with the reason
`rateLimitExceeded` or `userRateLimitExceeded`, and 5xx (`backendError`).
Those are retried with exponential backoff (honouring Retry-After when
present); every other error (403 forbidden, 404 notFound, 400 invalid) is
raised at once. googleapiclient's own `num_retries` is not used: its waits
cannot be interrupted by a stop and are not logged.
"""

from __future__ import annotations

import json
import logging
import socket
import threading

from googleapiclient.errors import HttpError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from integrations.slack_retry import MAX_RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


def reason_of(error: HttpError) -> str | None:
    """The first `errors[].reason` of a Google error body, e.g. `rateLimitExceeded`."""
    try:
        body = json.loads(error.content)
        return body["error"]["errors"][0]["reason"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def is_temporary(error: BaseException) -> bool:
    if isinstance(error, HttpError):
        status = error.resp.status
        return status == 429 or status >= 500 or (
            status == 403 and reason_of(error) in RATE_LIMIT_REASONS
        )
    return isinstance(error, ConnectionError | TimeoutError | socket.timeout)


def retry_after_seconds(error: BaseException) -> float | None:
    if not isinstance(error, HttpError):
        return None
    try:
        return min(float(error.resp.get("retry-after")), MAX_RETRY_AFTER_SECONDS)
    except (TypeError, ValueError):
        return None


class _wait_google:
    def __init__(self) -> None:
        self._fallback = wait_exponential_jitter(multiplier=1, max=32)

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(error) if error else None
        return asked if asked is not None else self._fallback(state)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    status = error.resp.status if isinstance(error, HttpError) else None
    reason = reason_of(error) if isinstance(error, HttpError) else type(error).__name__
    log.warning(
        "google.retry",
        extra={
            "attempt": state.attempt_number,
            "status": status,
            "reason": reason,
            "wait_seconds": round(state.upcoming_sleep, 2),
        },
    )


def google_retrying(stop: threading.Event | None = None, attempts: int = 6) -> Retrying:
    """A Retrying for one Google call; a set `stop` cuts the waiting short."""
    stop = stop or threading.Event()
    return Retrying(
        retry=retry_if_exception(is_temporary),
        wait=_wait_google(),
        stop=stop_after_attempt(attempts) | (lambda state: stop.is_set()),
        sleep=stop.wait,
        before_sleep=_log_retry,
        reraise=True,
    )
