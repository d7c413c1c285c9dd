"""The PagerDuty client against the PagerDuty emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from integrations.pagerduty import PagerDuty, PagerDutyError
from tests.emulators.pagerduty import ACKNOWLEDGED, RESOLVED, TRIGGERED, PagerDutyEmulator


@pytest.fixture
def emu() -> Iterator[PagerDutyEmulator]:
    with PagerDutyEmulator() as emulator:
        yield emulator


@pytest.fixture
def key(emu: PagerDutyEmulator) -> str:
    return emu.add_service("Security")


@pytest.fixture
def pagerduty(emu: PagerDutyEmulator, key: str) -> Iterator[PagerDuty]:
    client = PagerDuty(key, emu.events_url, timeout=2)
    yield client
    client.close()


def page(pagerduty: PagerDuty, dedup_key: str = "incident-7", **options) -> str:
    options.setdefault("severity", "critical")
    options.setdefault("source", "warden")
    return pagerduty.trigger(dedup_key, "Leaked AWS key in acme/api", **options)


def test_a_trigger_opens_an_alert_with_everything_sent(emu, key, pagerduty):
    """Summary, severity, source, details and links reach the alert; the key comes back."""
    link = {"href": "https://slack.example/archives/C1/p1", "text": "Incident card"}

    dedup_key = page(pagerduty, custom_details={"reporter": "dana"}, links=[link])

    assert dedup_key == "incident-7"
    alert = emu.alert(key, "incident-7")
    assert alert.status == TRIGGERED
    assert (alert.summary, alert.severity) == ("Leaked AWS key in acme/api", "critical")
    assert alert.payload["source"] == "warden"
    assert alert.payload["custom_details"] == {"reporter": "dana"}
    assert alert.events[0]["links"] == [link]
    assert alert.events[0]["client"] == "Warden"


def test_acknowledge_then_resolve(emu, key, pagerduty):
    """The incident's progress reaches PagerDuty through the same dedup_key."""
    page(pagerduty)

    pagerduty.acknowledge("incident-7")
    assert emu.alert(key, "incident-7").status == ACKNOWLEDGED

    pagerduty.resolve("incident-7")
    assert emu.alert(key, "incident-7").status == RESOLVED


def test_a_long_summary_is_cut_to_pagerdutys_limit_not_refused(emu, key, pagerduty):
    """PagerDuty refuses summaries over 1024 characters; the page still goes out."""
    pagerduty.trigger("incident-7", "x" * 5000, severity="error", source="warden")

    summary = emu.alert(key, "incident-7").summary
    assert len(summary) == 1024
    assert summary.endswith("…")


def test_an_unknown_severity_is_a_value_error_before_any_request(emu, pagerduty):
    """Severity is one of PagerDuty's four; nothing is sent otherwise."""
    with pytest.raises(ValueError, match="critical, error, warning, info"):
        page(pagerduty, severity="high")

    assert emu.request_count() == 0


def test_a_429_is_retried_after_the_wait_it_asks_for(emu, key, pagerduty):
    """Throttled once with Retry-After: 1; the event lands on the second attempt."""
    emu.fail_next(429, retry_after=1)
    started = time.monotonic()

    page(pagerduty)

    assert time.monotonic() - started >= 1.0
    assert emu.request_count() == 2
    assert len(emu.alerts(key)) == 1


def test_a_server_error_is_retried_with_backoff(emu, key, pagerduty):
    """A 500 without Retry-After is retried after a short backoff."""
    emu.fail_next(500)

    page(pagerduty)

    assert emu.request_count() == 2
    assert emu.alert(key, "incident-7").status == TRIGGERED


def test_a_timeout_is_retried_and_the_dedup_key_keeps_it_one_alert(emu, key):
    """The stalled trigger may land too; with the same key it joins the same alert."""
    emu.stall_next(1.0)
    pagerduty = PagerDuty(key, emu.events_url, timeout=0.2)

    page(pagerduty)

    assert emu.request_count() == 2
    assert len(emu.alerts(key)) == 1


def test_a_refused_event_is_raised_at_once_with_pagerdutys_reasons(emu):
    """A 400 is not retried; the error is one line naming PagerDuty's reason."""
    pagerduty = PagerDuty("0" * 32, emu.events_url)

    with pytest.raises(PagerDutyError) as refused:
        page(pagerduty)

    assert emu.request_count() == 1
    assert refused.value.status == 400
    assert refused.value.errors == ["Invalid routing key"]
    assert str(refused.value) == (
        "PagerDuty refused the event (400 Event object is invalid): Invalid routing key"
    )


def test_retries_run_out_into_one_clear_error(emu, pagerduty):
    """PagerDuty down for every attempt: a PagerDutyError saying so, the 503 as its status."""
    emu.fail_next(503, times=10, retry_after=0)

    with pytest.raises(PagerDutyError, match="503") as gave_up:
        pagerduty.resolve("incident-7")

    assert gave_up.value.status == 503
    assert emu.request_count() == 5
    assert "\n" not in str(gave_up.value)


def test_a_stop_cuts_a_long_wait_short(emu, key):
    """Stopping while PagerDuty asks for 30 s: one last try at once, then the error."""
    stop = threading.Event()
    pagerduty = PagerDuty(key, emu.events_url, stop=stop)
    emu.fail_next(429, times=2, retry_after=30)
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()

    with pytest.raises(PagerDutyError, match="429"):
        page(pagerduty)

    assert time.monotonic() - started < 5
    assert emu.request_count() == 2


def test_an_unreachable_pagerduty_is_a_pagerduty_error(emu, key):
    """Connection refused on the only attempt a stopping process makes."""
    stop = threading.Event()
    stop.set()
    emu.stop()
    pagerduty = PagerDuty(key, emu.events_url, stop=stop)

    with pytest.raises(PagerDutyError, match="could not reach PagerDuty to trigger"):
        page(pagerduty)


def test_the_routing_key_stays_out_of_repr(key, pagerduty):
    """The integration key is a secret; a logged client must not show it."""
    assert key not in repr(pagerduty)
