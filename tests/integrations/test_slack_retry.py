import threading

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from integrations.slack_retry import is_temporary, retry_after_seconds, slack_retrying


def _error(status: int, error: str = "x", headers: dict | None = None) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://slack.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", response)


def test_rate_limit_and_server_errors_are_temporary():
    """429 and 5xx are worth retrying; an ok:false answer is not."""
    assert is_temporary(_error(429, "ratelimited"))
    assert is_temporary(_error(503))
    assert not is_temporary(_error(200, "channel_not_found"))
    assert is_temporary(ConnectionResetError())


def test_transient_codes_in_an_ok_false_answer_are_temporary():
    """Slack's internal_error and friends come with HTTP 200 yet deserve a retry."""
    assert is_temporary(_error(200, "internal_error"))
    assert is_temporary(_error(200, "service_unavailable"))
    assert not is_temporary(_error(200, "invalid_blocks"))


def test_retry_after_header_is_read():
    """The wait comes from Slack's Retry-After header on a 429."""
    assert retry_after_seconds(_error(429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(_error(503, headers={"Retry-After": "7"})) is None


def test_retrying_waits_as_long_as_slack_asks():
    """Two 429s asking for 2 s and 3 s are waited out exactly, then the call succeeds."""
    waits: list[float] = []
    stop = threading.Event()
    stop.wait = lambda seconds: waits.append(seconds)  # record instead of sleeping
    failures = [
        _error(429, headers={"Retry-After": "2"}),
        _error(429, headers={"Retry-After": "3"}),
    ]

    for attempt in slack_retrying(stop):
        with attempt:
            if failures:
                raise failures.pop(0)

    assert waits == [2.0, 3.0]


def test_permanent_error_is_raised_at_once():
    """channel_not_found is not retried."""
    calls = 0

    with pytest.raises(SlackApiError):
        for attempt in slack_retrying():
            with attempt:
                calls += 1
                raise _error(200, "channel_not_found")

    assert calls == 1
