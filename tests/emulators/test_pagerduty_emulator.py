"""The PagerDuty emulator, driven with raw HTTP as PagerDuty's docs describe the Events API v2."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.emulators.pagerduty import ACKNOWLEDGED, RESOLVED, TRIGGERED, PagerDutyEmulator


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[PagerDutyEmulator]:
    with PagerDutyEmulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def key(emu: PagerDutyEmulator) -> str:
    return emu.add_service("Security")


def trigger(key: str, dedup_key: str | None = "incident-7", **payload: object) -> dict:
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": "Leaked AWS key", "source": "warden", "severity": "critical",
                    **payload},
    }
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


def follow_up(key: str, action: str, dedup_key: str = "incident-7") -> dict:
    return {"routing_key": key, "event_action": action, "dedup_key": dedup_key}


def send(emu: PagerDutyEmulator, event: object, timeout: float = 5) -> requests.Response:
    return requests.post(emu.events_url, json=event, timeout=timeout)


def test_a_trigger_opens_an_alert_and_is_answered_202(emu, key):
    """202 with status, message and the dedup_key; the alert holds the payload."""
    answer = send(emu, trigger(key, custom_details={"repo": "acme/api"}))

    assert answer.status_code == 202
    assert answer.json() == {
        "status": "success", "message": "Event processed", "dedup_key": "incident-7",
    }
    alert = emu.alert(key, "incident-7")
    assert alert.status == TRIGGERED
    assert alert.summary == "Leaked AWS key"
    assert alert.severity == "critical"
    assert alert.payload["custom_details"] == {"repo": "acme/api"}


def test_a_trigger_without_dedup_key_gets_a_new_one_every_time(emu, key):
    """PagerDuty generates a unique key, so each such trigger is a new alert."""
    first = send(emu, trigger(key, dedup_key=None)).json()["dedup_key"]
    second = send(emu, trigger(key, dedup_key=None)).json()["dedup_key"]

    assert first != second
    assert [alert.dedup_key for alert in emu.alerts(key)] == [first, second]


def test_acknowledge_then_resolve_moves_the_alert(emu, key):
    """The same dedup_key acknowledges, then resolves, the open alert."""
    send(emu, trigger(key))

    assert send(emu, follow_up(key, "acknowledge")).status_code == 202
    assert emu.alert(key, "incident-7").status == ACKNOWLEDGED

    assert send(emu, follow_up(key, "resolve")).status_code == 202
    alert = emu.alert(key, "incident-7")
    assert alert.status == RESOLVED
    assert [event["event_action"] for event in alert.events] == [
        "trigger", "acknowledge", "resolve",
    ]


def test_a_repeated_trigger_joins_the_open_alert_and_keeps_it_acknowledged(emu, key):
    """A trigger for an acknowledged alert is added to it; no new alert opens."""
    send(emu, trigger(key))
    send(emu, follow_up(key, "acknowledge"))

    send(emu, trigger(key))

    assert len(emu.alerts(key)) == 1
    alert = emu.alert(key, "incident-7")
    assert alert.status == ACKNOWLEDGED
    assert len(alert.events) == 3


def test_a_trigger_after_resolve_opens_a_new_alert(emu, key):
    """Resolved alerts stay resolved; the same key starts a fresh one."""
    send(emu, trigger(key))
    send(emu, follow_up(key, "resolve"))

    send(emu, trigger(key))

    assert [alert.status for alert in emu.alerts(key)] == [RESOLVED, TRIGGERED]


def test_follow_ups_without_an_open_alert_are_accepted_and_dropped(emu, key):
    """The API is asynchronous: 202, but nothing changes."""
    answer = send(emu, follow_up(key, "resolve", "never-triggered"))

    assert answer.status_code == 202
    assert answer.json()["dedup_key"] == "never-triggered"
    assert emu.alerts(key) == []
    assert [event["dedup_key"] for event in emu.dropped_events(key)] == ["never-triggered"]


def test_a_follow_up_through_another_routing_key_does_not_touch_the_alert(emu, key):
    """Alerts belong to the routing key that triggered them."""
    other = emu.add_service("Platform")
    send(emu, trigger(key))

    send(emu, follow_up(other, "resolve"))

    assert emu.alert(key, "incident-7").status == TRIGGERED
    assert len(emu.dropped_events(other)) == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda e, k: e.pop("routing_key"), "'routing_key' is missing or blank"),
        (lambda e, k: e.update(routing_key="short"),
         "Length of 'routing_key' is incorrect (should be 32 characters)"),
        (lambda e, k: e.update(routing_key="-" * 32),
         "'routing_key' cannot contain non-alphanumeric characters."),
        (lambda e, k: e.update(routing_key="a" * 32), "Invalid routing key"),
        (lambda e, k: e.update(event_action="escalate"), "'event_action' must be one of"),
        (lambda e, k: e.pop("payload"), "'payload' is required for trigger events"),
        (lambda e, k: e["payload"].pop("source"), "'source' is missing or blank"),
        (lambda e, k: e["payload"].update(severity="high"), "'severity' must be one of"),
        (lambda e, k: e["payload"].update(summary="x" * 1025), "'summary' is too long"),
        (lambda e, k: e.update(dedup_key="k" * 256), "'dedup_key' is too long"),
        (lambda e, k: e.update(links=[{"text": "no href"}]), "'links' must be a list"),
        (lambda e, k: e.update(images=[{"alt": "no src"}]), "'images' must be a list"),
        (lambda e, k: e.update(event_action="acknowledge", dedup_key=""),
         "'dedup_key' is required for acknowledge and resolve"),
    ],
)
def test_invalid_events_are_refused_with_400_and_the_reason(emu, key, change, error):
    """PagerDuty's error body: status, message and a list of errors."""
    event = trigger(key)
    change(event, key)

    answer = send(emu, event)

    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert any(reason.startswith(error) for reason in body["errors"]), body["errors"]
    assert emu.alerts(key) == []


def test_a_summary_of_exactly_1024_characters_is_accepted(emu, key):
    """The limit is inclusive."""
    assert send(emu, trigger(key, summary="x" * 1024)).status_code == 202


def test_every_problem_is_listed_at_once(emu, key):
    """A payload missing three fields gets three reasons."""
    answer = send(emu, {"routing_key": key, "event_action": "trigger", "payload": {}})

    assert len(answer.json()["errors"]) == 3


def test_a_body_that_is_not_a_json_object_is_unrecognized(emu, key):
    """Not JSON at all, or JSON but not an object: PagerDuty's 'Unrecognized object'."""
    for body in (b"not json", b"[1, 2]"):
        answer = requests.post(emu.events_url, data=body, timeout=5,
                               headers={"Content-Type": "application/json"})

        assert answer.status_code == 400
        assert answer.json()["status"] == "Unrecognized object"


def test_an_event_over_512_kb_is_refused(emu, key):
    """The documented size limit covers the whole event, custom details included."""
    event = trigger(key, custom_details={"log": "x" * 600_000})

    answer = send(emu, event)

    assert answer.status_code == 400
    assert answer.json()["errors"] == ["Event is too large (maximum is 512 KB)"]


def test_a_removed_integration_key_is_refused(emu, key):
    """Deleting the integration makes its key unknown."""
    emu.remove_service(key)

    assert send(emu, trigger(key)).json()["errors"] == ["Invalid routing key"]


def test_too_many_events_a_minute_are_throttled_per_key(emu, key, clock):
    """Over the limit in a sliding minute: 429 and nothing applied; other keys unaffected."""
    emu.set_rate_limit(2)
    other = emu.add_service("Platform")
    send(emu, trigger(key, "a"))
    send(emu, trigger(key, "b"))

    throttled = send(emu, trigger(key, "c"))

    assert throttled.status_code == 429
    assert emu.alert(key, "c") is None
    assert send(emu, trigger(other, "c")).status_code == 202

    clock.now += 60
    assert send(emu, trigger(key, "c")).status_code == 202


def test_planned_failures_come_first_then_the_service_answers(emu, key):
    """fail_next answers without applying the event, with Retry-After when asked."""
    emu.fail_next(429, retry_after=3)
    emu.fail_next(503)

    first, second, third = (send(emu, trigger(key)) for _ in range(3))

    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert second.status_code == 503
    assert "Retry-After" not in second.headers
    assert third.status_code == 202
    assert len(emu.alert(key, "incident-7").events) == 1
    assert emu.request_count() == 3


def test_a_stalled_request_times_the_client_out_but_still_lands(emu, key):
    """Like the real service, a request the client gave up on may still be applied."""
    emu.stall_next(0.5)

    with pytest.raises(requests.Timeout):
        send(emu, trigger(key), timeout=0.1)

    deadline = time.monotonic() + 5
    while emu.alert(key, "incident-7") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emu.alert(key, "incident-7").status == TRIGGERED


def test_only_post_is_served(emu, key):
    """GET on the endpoint is not an event."""
    assert requests.get(emu.events_url, timeout=5).status_code == 405


def test_routing_keys_look_like_pagerdutys(emu):
    """32 lower-case hex characters, different every time."""
    first, second = emu.add_service("A"), emu.add_service("B")

    assert len(first) == 32 and first.isalnum() and first == first.lower()
    assert first != second
