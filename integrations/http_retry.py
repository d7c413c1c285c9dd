"""One retry policy for the JSON-over-HTTP clients (the intel providers, PagerDuty).

Retried: 429 and 5xx (as `TemporaryAnswer`), timeouts and dropped connections.
The wait is what a `Retry-After` asks, else exponential backoff with jitter.
Each client says how long a `Retry-After` it will honour: past that it either
gives up at once (a daily quota will not reset within the call) or waits that
long at most (a bogus header must not park the caller for an hour). A set
`stop` cuts the current wait short and makes the next attempt the last.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

UNREACHABLE = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # the connection broke mid-answer
)


class TemporaryAnswer(Exception):
    """A 429 or 5xx: the same request may well be answered later."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.status = response.status_code
        self.retry_after = retry_after(response)


def is_temporary_status(status: int) -> bool:
    return status == 429 or status >= 500


def retry_after(response: requests.Response) -> float | None:
    """Seconds the server asked us to wait; None if it did not ask (or sent a date)."""
    try:
        return max(float(response.headers["Retry-After"]), 0.0)
    except (KeyError, ValueError):
        return None


def json_body(response: requests.Response) -> dict:
    """The answer's JSON object, or {} when there is none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    first_backoff: float
    max_backoff: float
    max_retry_after: float
    give_up_on_longer_wait: bool  # else wait `max_retry_after` at most

    def retrying(self, stop: threading.Event, log_event: str, **context: object) -> Retrying:
        backoff = wait_exponential_jitter(multiplier=self.first_backoff, max=self.max_backoff,
                                          jitter=self.first_backoff)  # fmt: skip

        def temporary(error: BaseException) -> bool:
            if isinstance(error, TemporaryAnswer):
                asked = error.retry_after
                return not (self.give_up_on_longer_wait and asked and asked > self.max_retry_after)
            return isinstance(error, UNREACHABLE)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, TemporaryAnswer) and error.retry_after is not None:
                return min(error.retry_after, self.max_retry_after)
            return backoff(state)

        def log_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(log_event, extra={
                **context, "attempt": state.attempt_number,
                "status": getattr(error, "status", None), "error": type(error).__name__,
                "wait_seconds": round(state.upcoming_sleep, 2),
            })  # fmt: skip

        return Retrying(
            retry=retry_if_exception(temporary), wait=wait,
            stop=stop_after_attempt(self.attempts) | (lambda state: stop.is_set()),
            sleep=stop.wait, before_sleep=log_retry, reraise=True,
        )  # fmt: skip
