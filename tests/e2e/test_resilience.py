"""Slack misbehaves the ways it does in production; nobody notices."""

import sqlite3
import time

from tests.e2e.harness import all_text


def test_redelivered_event_has_one_effect(warden, alice, slack):
    """An event Slack redelivers (its ack got lost) is answered once."""
    slack.lose_acks(1)

    alice.says_to_warden("help")

    slack.wait_for(
        lambda: [c for c in slack.deliveries() if c.get("retry_attempt", 0) >= 1],
        timeout=10,
        message="the emulator did not redeliver the event",
    )
    alice.wait_for_dms(1)
    time.sleep(1.0)
    assert len(alice.dms()) == 1


def test_redelivered_home_event_publishes_once(warden, alice, slack):
    """With no other guard in the way, the event id alone keeps a redelivery from acting twice."""
    slack.lose_acks(1)

    alice.opens_home()

    slack.wait_for(
        lambda: [d for d in slack.deliveries() if d.get("retry_attempt", 0) >= 1],
        timeout=10,
        message="the emulator did not redeliver the event",
    )
    slack.wait_for(alice.home, message="App Home was not published")
    time.sleep(1.0)
    assert slack.call_count("views.publish") == 1
    assert '"event.duplicate_skipped"' in warden.logs()


def test_reconnects_after_disconnect(warden, alice, slack):
    """When Slack asks the app to reconnect, it opens a new socket and keeps working."""
    slack.disconnect(reason="refresh_requested")

    warden.wait_connected(2)

    assert "/securityalert" in all_text(alice.runs("/warden help").ack_payload)


def test_reconnects_after_a_dropped_socket(warden, alice, slack):
    """A socket that dies without a close frame is noticed and replaced."""
    slack.drop_socket()

    warden.wait_connected(2)

    assert "/securityalert" in all_text(alice.runs("/warden help").ack_payload)


def test_rate_limited_message_is_retried_and_arrives_once(warden, alice, slack):
    """A 429 on chat.postMessage is waited out as Retry-After asks; one message arrives."""
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)

    alice.says_to_warden("help")

    alice.wait_for_dms(1)
    time.sleep(0.5)
    assert len(alice.dms()) == 1
    assert slack.call_count("chat.postMessage") == 2


def _pending_outbox(workdir) -> int:
    with sqlite3.connect(workdir / "warden.db") as db:
        return db.execute("select count(*) from outbox where status = 'pending'").fetchone()[0]


def test_message_queued_while_slack_is_down_survives_a_restart(warden, alice, slack, workdir):
    """A reply queued during an outage is kept across a restart and sent when Slack is back."""
    slack.web_api_down(True)
    alice.says_to_warden("help")
    slack.wait_for(lambda: _pending_outbox(workdir) == 1, message="reply was not queued")

    assert warden.stop() == 0
    warden.start(wait=False)
    time.sleep(2)
    assert alice.dms() == []

    slack.web_api_down(False)

    replies = alice.wait_for_dms(1, timeout=60)
    assert "/securityalert" in all_text(replies[0])
    time.sleep(1)
    assert len(alice.dms()) == 1
    assert _pending_outbox(workdir) == 0
