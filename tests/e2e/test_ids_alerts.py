"""Suricata alerts open incidents, end to end: the real process follows an EVE log.

The lines are Suricata's own output (tests/fixtures/eve/README.md says where
each was recorded). Where a test needs alerts from *now*, it copies a
recorded line and changes only its timestamp.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.harness import WardenProcess, all_text, policy_text

RECORDED = Path(__file__).parents[1] / "fixtures" / "eve" / "suricata-recorded.json"


def recorded_lines() -> list[str]:
    return RECORDED.read_text().splitlines()


def recorded_alert(signature_id: int) -> dict:
    for line in recorded_lines():
        event = json.loads(line)
        if event.get("event_type") == "alert" and event["alert"]["signature_id"] == signature_id:
            return event
    raise AssertionError(f"no recorded alert {signature_id}")


def now_line(event: dict) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    return json.dumps({**event, "timestamp": stamp}) + "\n"


def append(path: Path, text: str) -> None:
    with open(path, "a") as log:
        log.write(text)


@pytest.fixture
def eve(workdir) -> Path:
    path = workdir / "eve.json"
    path.write_text("")
    return path


@pytest.fixture
def start(slack, workdir, eve, alice, sam):
    policy = policy_text("#security", "sam@example.com") + (
        f"incidents:\n  enabled: true\n  suricata:\n    eve_path: {eve}\n    min_severity: 2\n"
    )
    (workdir / "warden.yaml").write_text(policy)
    processes = []

    def start_process() -> WardenProcess:
        processes.append(WardenProcess(slack, workdir).start())
        return processes[-1]

    yield start_process
    for process in processes:
        if process.proc.poll() is None:
            process.stop()


def cards(slack, channel: str) -> list[dict]:
    return [m for m in slack.messages(channel) if "*Incident " in all_text(m)]


def wait_cards(slack, channel: str, count: int, timeout: float = 15) -> list[dict]:
    return slack.wait_for(lambda: len(cards(slack, channel)) == count and cards(slack, channel),
                          timeout=timeout, message=f"{count} incident card(s)")  # fmt: skip


def test_a_recorded_log_opens_one_incident_per_signature_and_hosts(
    start, slack, eve, security_channel
):
    append(eve, RECORDED.read_text() + "this line is not JSON\n")
    process = start()

    wait_cards(slack, security_channel, 4)
    # The five later curl alerts count on one incident; its card is posted
    # first and then updated in place with the count.
    slack.wait_for(
        lambda: any("curl" in all_text(card) and "*Alerts*\n5 " in all_text(card)
                    for card in cards(slack, security_channel)),
        timeout=10, message="the curl incident counting 5 alerts",
    )  # fmt: skip
    # severity 3 (package manager, invalid chunk) stays out at min_severity 2
    texts = [all_text(card) for card in wait_cards(slack, security_channel, 4)]
    assert sum("ET POLICY curl User-Agent Outbound" in text for text in texts) == 2
    assert any("GPL ATTACK_RESPONSE id check returned root" in text for text in texts)
    slack.wait_for(lambda: "ids.malformed_lines" in process.logs(), timeout=15,
                   message="malformed counted")


def test_a_burst_of_a_thousand_alerts_is_one_incident(start, slack, eve, security_channel):
    start()
    alert = recorded_alert(2024833)

    append(eve, "".join(now_line(alert) for _ in range(1000)))

    slack.wait_for(
        lambda: any("*Alerts*\n1000 " in all_text(card) for card in cards(slack, security_channel)),
        timeout=20, message="one card counting 1000 alerts",
    )  # fmt: skip
    assert len(cards(slack, security_channel)) == 1


def test_rotation_and_restart_lose_and_repeat_nothing(start, slack, eve, security_channel):
    process = start()
    append(eve, now_line(recorded_alert(2024833)))
    wait_cards(slack, security_channel, 1)

    # logrotate moves the file away; Suricata writes a last line to it, then
    # reopens the path on a HUP and writes to the new file.
    os.rename(eve, eve.with_name("eve.json.1"))
    append(eve.with_name("eve.json.1"), now_line(recorded_alert(2100498)))
    append(eve, now_line(recorded_alert(2013028)))
    shown = wait_cards(slack, security_channel, 3)

    process.stop()
    append(eve, now_line({**recorded_alert(2024833), "src_ip": "203.0.113.77"}))
    start()
    shown = wait_cards(slack, security_channel, 4)
    signatures = [all_text(card) for card in shown]
    assert sum("203.0.113.77" in text for text in signatures) == 1
    # Nothing was read twice: a repeat would have counted on its incident.
    slack.wait_for(lambda: "203.0.113.77" in str(cards(slack, security_channel)),
                   timeout=15, message="the card after the restart")  # fmt: skip
    assert all("*Alerts*\n1 " in all_text(card) for card in cards(slack, security_channel))
