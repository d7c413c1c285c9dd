"""PagerDuty's Events API v2: trigger, acknowledge and resolve an alert by its dedup_key.

Retried, as PagerDuty's docs ask: 429, 5xx, timeouts and dropped
connections. The Events API documents no ``Retry-After``, so the wait is an
exponential backoff with jitter, unless a ``Retry-After`` does come. A 400
means the event itself is wrong (an unknown routing key, a missing field) and
sending it again cannot help, so it is raised at once, with PagerDuty's
reasons.

The dedup_key makes a repeat harmless: a trigger that PagerDuty received but
whose answer was lost lands on the same open alert when it is sent again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests

from integrations.http_retry import RetryPolicy, TemporaryAnswer, is_temporary_status, json_body

log = logging.getLogger(__name__)

Json = dict[str, Any]

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = ("critical", "error", "warning", "info")
MAX_SUMMARY_CHARS = 1024
MAX_DEDUP_KEY_CHARS = 255
ATTEMPTS = 5
# One ceiling keeps a bogus header from parking the caller for an hour.
MAX_RETRY_AFTER_SECONDS = 120.0
# Shown on the alert as the monitoring tool that sent it.
CLIENT_NAME = "Warden"


class PagerDutyError(Exception):
    """PagerDuty refused the event, or could not be reached on any attempt."""

    def __init__(self, message: str, *, status: int | None = None,
                 errors: list[str] | None = None) -> None:
        super().__init__(" ".join(message.split()))  # always one line
        self.status = status
        self.errors = errors or []


RETRY = RetryPolicy(attempts=ATTEMPTS, first_backoff=0.5, max_backoff=30.0,
                    max_retry_after=MAX_RETRY_AFTER_SECONDS, give_up_on_longer_wait=False)


class PagerDuty:
    """One Events API v2 integration, named by its routing (integration) key."""

    def __init__(self, routing_key: str, events_url: str = EVENTS_URL,
                 *, stop: threading.Event | None = None, timeout: float = 10.0) -> None:
        self._routing_key = routing_key
        self._events_url = events_url
        self._stop = stop or threading.Event()
        self._timeout = timeout
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"PagerDuty({self._events_url!r})"  # the routing key is a secret

    def trigger(self, dedup_key: str, summary: str, *, severity: str, source: str,
                custom_details: dict | None = None, links: list[dict] | None = None) -> str:
        """Open an alert, or add to the open one with this dedup_key; returns the key."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        payload: Json = {"summary": _fit(summary), "source": source, "severity": severity}
        if custom_details:
            payload["custom_details"] = custom_details
        event: Json = {"payload": payload, "client": CLIENT_NAME}
        if links:
            event["links"] = links
        answer = self._send("trigger", dedup_key, event)
        if not isinstance(answer.get("dedup_key"), str):
            raise PagerDutyError("PagerDuty accepted the trigger but sent back no dedup_key")
        return answer["dedup_key"]

    def acknowledge(self, dedup_key: str) -> None:
        """Someone is on it: PagerDuty stops notifying for the open alert."""
        self._send("acknowledge", dedup_key, {})

    def resolve(self, dedup_key: str) -> None:
        """The problem is fixed; a later trigger with this key opens a new alert."""
        self._send("resolve", dedup_key, {})

    def close(self) -> None:
        self._session.close()

    def _send(self, action: str, dedup_key: str, fields: Json) -> Json:
        _check_dedup_key(dedup_key)
        event = {"routing_key": self._routing_key, "event_action": action,
                 "dedup_key": dedup_key, **fields}
        try:
            for attempt in RETRY.retrying(self._stop, "pagerduty.retry"):
                with attempt:
                    answer = self._post(event)
        except TemporaryAnswer as error:
            raise PagerDutyError(f"PagerDuty kept answering {error} to {action}; "
                                 "gave up retrying", status=error.status) from error
        except requests.RequestException as error:
            raise PagerDutyError(f"could not reach PagerDuty to {action}: "
                                 f"{type(error).__name__}") from error
        log.info("pagerduty.sent", extra={"action": action, "dedup_key": dedup_key})
        return answer

    def _post(self, event: Json) -> Json:
        response = self._session.post(self._events_url, json=event, timeout=self._timeout)
        status = response.status_code
        if is_temporary_status(status):
            raise TemporaryAnswer(response)
        if not 200 <= status < 300:
            raise _refusal(response)
        return json_body(response)


def _fit(summary: str) -> str:
    """PagerDuty refuses a longer summary; a cut one still pages someone."""
    if len(summary) <= MAX_SUMMARY_CHARS:
        return summary
    return summary[: MAX_SUMMARY_CHARS - 1] + "…"


def _check_dedup_key(dedup_key: str) -> None:
    if not dedup_key:
        raise ValueError("dedup_key is required: it names the alert to update later")
    if len(dedup_key) > MAX_DEDUP_KEY_CHARS:
        raise ValueError(f"dedup_key is at most {MAX_DEDUP_KEY_CHARS} characters")


def _refusal(response: requests.Response) -> PagerDutyError:
    body = json_body(response)
    message = body.get("message") or response.reason or "refused"
    listed = body.get("errors")
    errors = [str(error) for error in listed] if isinstance(listed, list) else []
    reasons = f": {'; '.join(errors)}" if errors else ""
    return PagerDutyError(
        f"PagerDuty refused the event ({response.status_code} {message}){reasons}",
        status=response.status_code, errors=errors,
    )
