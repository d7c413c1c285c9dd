"""The incidents workflow in-process: dedup window, rotation, steps, tasks."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from state import Store
from state import incidents as rows
from workflows.ids import alert_from_eve, eve_time, plan
from workflows.incidents import (
    IncidentPolicy,
    IncidentsWorkflow,
    Invalid,
    NotAllowed,
    Report,
)

RECORDED = Path(__file__).parents[1] / "fixtures" / "eve" / "suricata-recorded.json"
ANALYSTS = ["USAM", "UTOM"]


class Recorder:
    """Notes what the workflow asked to tell; the Slack side is tested end to end."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return lambda db, *args: self.calls.append((name, *args))

    def named(self, name: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == name]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "w.db") as store:
        yield store


@pytest.fixture
def notes() -> Recorder:
    return Recorder()


@pytest.fixture
def incidents(store, notes) -> IncidentsWorkflow:
    rules = IncidentPolicy(
        kinds=["phishing email", "other"], dedup_window=timedelta(hours=1),
        min_suricata_severity=2, follow_up_cadence=[timedelta(days=1), timedelta(days=3)],
    )  # fmt: skip
    return IncidentsWorkflow(store, notes, rules, lambda: ANALYSTS)


def recorded_alerts():
    events = [json.loads(line) for line in RECORDED.read_text().splitlines()]
    return [alert for alert in map(alert_from_eve, events) if alert is not None]


def report(text: str = "a mail asked for my password", who: str = "UALICE") -> Report:
    return Report("phishing email", text, who, "command")


def test_recorded_alerts_parse_with_their_offsets():
    alerts = recorded_alerts()

    assert len(alerts) == 28
    assert {a.severity for a in alerts} == {1, 2, 3}
    assert eve_time("2018-07-05T15:07:20.910626-0400") == datetime(
        2018, 7, 5, 19, 7, 20, 910626, tzinfo=UTC)


def test_ingest_counts_repeats_inside_the_window_and_matches_the_dry_run(incidents, store):
    alerts = recorded_alerts()

    outcome = incidents.ingest(alerts)

    planned = plan(alerts, 2, timedelta(hours=1))
    assert len(outcome["opened"]) == len(planned) == 4
    counts = sorted(rows.get(store.db, i)["alert_count"] for i in outcome["opened"])
    assert counts == sorted(p.count for p in planned) == [1, 1, 1, 5]


def test_a_repeat_after_the_window_opens_a_new_incident(incidents):
    alert = next(a for a in recorded_alerts() if a.signature_id == 2024833)
    later = type(alert)(**{**alert.__dict__, "seen_at": alert.seen_at + timedelta(hours=2)})

    first, second = incidents.ingest([alert]), incidents.ingest([later])

    assert first["opened"] != second["opened"] and len(second["opened"]) == 1


def test_rotation_takes_turns_and_continues_after_a_restart(store, notes, incidents):
    first = incidents.report(report())
    second = incidents.report(report())
    rules = incidents._policy
    restarted = IncidentsWorkflow(store, notes, rules, lambda: ANALYSTS)
    third = restarted.report(report())

    assert [first["assignee"], second["assignee"], third["assignee"]] == ["USAM", "UTOM", "USAM"]


def test_reports_need_words_and_a_known_kind(incidents):
    with pytest.raises(Invalid, match="Say what happened"):
        incidents.report(report("   "))
    with pytest.raises(Invalid, match="choose one of: phishing email, other"):
        incidents.report(Report("ransom note", "help", "UALICE", "command"))


def test_only_analysts_act_and_a_resolved_incident_stays_resolved(incidents, notes):
    incident = incidents.report(report())

    with pytest.raises(NotAllowed):
        incidents.take(incident["id"], "UALICE")
    with pytest.raises(Invalid, match="not one of the security analysts"):
        incidents.reassign(incident["id"], "USAM", "UALICE")
    incidents.resolve(incident["id"], "USAM", "Blocked the sender", "true_positive")
    with pytest.raises(Invalid, match="already resolved"):
        incidents.take(incident["id"], "UTOM")
    assert len(notes.named("outcome")) == 1


def test_acknowledgement_is_kept_from_the_first_take(incidents, store):
    incident = incidents.report(report())
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5), tick=False):
        incidents.take(incident["id"], "USAM")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=50), tick=False):
        incidents.reassign(incident["id"], "USAM", "UTOM")

    stored = rows.get(store.db, incident["id"])
    opened, acked = (datetime.fromisoformat(stored[k]) for k in ("opened_at", "acknowledged_at"))
    assert timedelta(minutes=4) < acked - opened < timedelta(minutes=6)
    assert stored["assignee"] == "UTOM"


def test_tasks_are_reminded_on_the_cadence_then_escalated_once(incidents, notes):
    start = datetime.now(UTC)
    incident = incidents.report(report())
    task = incidents.tasks.add(incident["id"], "USAM", "rotate the key", "UALICE",
                              start + timedelta(days=2))

    for days in (0.5, 1.1, 1.2, 2.5, 3.1, 5.1):
        incidents.tasks.remind(start + timedelta(days=days))

    numbers = [call[3] for call in notes.named("task_reminder")]
    assert numbers == [1, 2, 3]  # at 1d, 3d, then every 2d past the cadence
    assert len(notes.named("task_overdue")) == 1
    incidents.tasks.finish(task["id"], "UALICE")
    incidents.tasks.remind(start + timedelta(days=9))
    assert len(notes.named("task_reminder")) == 3


def test_reporter_text_is_made_inert_in_the_timeline(incidents, store):
    incident = incidents.report(report())
    incidents.resolve(incident["id"], "USAM", "done <!channel> <https://a|b>", "benign")

    details = [event["detail"] for event in rows.events(store.db, incident["id"])]
    assert any("&lt;!channel&gt; &lt;https://a|b&gt;" in detail for detail in details)
    assert not any("<!channel>" in detail for detail in details)


def test_enrichment_cut_off_by_a_stop_is_caught_up(incidents, store):
    incident = incidents.report(report("odd login from 185.220.101.4"))

    def run_now(work, *args):
        work(*args)

    assert incidents.enrich_missed(run_now, older_than=timedelta(0)) == 1
    assert incidents.enrich_missed(run_now, older_than=timedelta(0)) == 0
    assert rows.get(store.db, incident["id"])["enriched_at"] is not None


def test_after_a_long_stop_a_task_gets_one_reminder_not_a_burst(incidents, notes):
    start = datetime.now(UTC)
    incident = incidents.report(report())
    incidents.tasks.add(incident["id"], "USAM", "rotate the key", "UALICE",
                       start + timedelta(days=60))

    for minutes in range(0, 60, 5):  # the 5-minute sweep, a month after the last reminder
        incidents.tasks.remind(start + timedelta(days=30, minutes=minutes))

    assert len(notes.named("task_reminder")) == 1


class DownProvider:
    """An enricher whose provider answers with hostile error text."""

    def online(self, indicator, fresh=False):
        return {}, ["EvilIntel: <!channel> <https://evil.example|see the docs>"]


def test_a_providers_error_text_is_inert_in_the_timeline(store, notes):
    rules = IncidentPolicy(["other"], timedelta(hours=1), 2, [timedelta(days=1)])
    incidents = IncidentsWorkflow(store, notes, rules, lambda: ANALYSTS, DownProvider())
    incident = incidents.report(Report("other", "scan from 185.220.101.4", "UALICE", "command"))

    incidents.enrich(incident["id"])

    detail = rows.events(store.db, incident["id"])[-1]["detail"]
    assert "&lt;!channel&gt; &lt;https://evil.example|see the docs&gt;" in detail
    assert "<!channel>" not in detail and "<https://" not in detail
    stored = rows.get(store.db, incident["id"])
    assert stored["intel_notes"] == ["EvilIntel: <!channel> <https://evil.example|see the docs>"]
