"""The one retry policy for calls to Slack's Web API.

Only what is temporary is retried: HTTP 429 (waiting as long as Slack's
`Retry-After` header asks), 5xx, timeouts, dropped connections, and the few
`ok: false` codes Slack documents as transient. Any other `ok: false` answer,
such as `channel_not_found`, is permanent and is raised at once.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import urllib.error

from slack_sdk.errors import SlackApiError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (
    ConnectionError,
    TimeoutError,
    socket.timeout,
    urllib.error.URLError,
    http.client.HTTPException,
)

# Error codes that Slack answers with HTTP 200 but that mean "try again".
TRANSIENT_ERROR_CODES = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

# Slack asks for seconds; one sane ceiling keeps a bogus header from
# parking a worker for an hour.
MAX_RETRY_AFTER_SECONDS = 120.0


def status_of(error: BaseException) -> int | None:
    if isinstance(error, SlackApiError) and error.response is not None:
        return error.response.status_code
    return None


def is_temporary(error: BaseException) -> bool:
    """True for failures that may well succeed if the same call is made later."""
    status = status_of(error)
    if status is not None:
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        return status == 429 or status >= 500 or code in TRANSIENT_ERROR_CODES
    return isinstance(error, _CONNECTION_ERRORS)


def retry_after_seconds(error: BaseException) -> float | None:
    """The wait Slack asked for with a 429, if it asked."""
    if status_of(error) != 429:
        return None
    headers = error.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    except (TypeError, ValueError):
        return None


class wait_retry_after:
    """A tenacity wait that honours Retry-After and backs off exponentially otherwise."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self._fallback = wait_exponential_jitter(multiplier=initial, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(error) if error else None
        return asked if asked is not None else self._fallback(state)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "slack.retry",
        extra={
            "attempt": state.attempt_number,
            "status": status_of(error) if error else None,
            "error": type(error).__name__,
            "wait_seconds": round(state.upcoming_sleep, 2),
        },
    )


def slack_retrying(stop: threading.Event | None = None, attempts: int = 5) -> Retrying:
    """A Retrying for one Slack call; a set `stop` event cuts the waiting short."""
    stop = stop or threading.Event()

    def stopped(state: RetryCallState) -> bool:
        return stop.is_set()

    return Retrying(
        retry=retry_if_exception(is_temporary),
        wait=wait_retry_after(),
        stop=stop_after_attempt(attempts) | stopped,
        sleep=stop.wait,
        before_sleep=_log_retry,
        reraise=True,
    )
