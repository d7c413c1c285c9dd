"""The incident card's messages in the outbox: one pending card update at a time."""

import json
from datetime import timedelta
from pathlib import Path

from bot.incident_card import Capabilities
from bot.incidents_notifier import SlackIncidentNotifier
from state import Store
from workflows.ids import alert_from_eve
from workflows.incidents import IncidentPolicy, IncidentsWorkflow

RECORDED = Path(__file__).parents[1] / "fixtures" / "eve" / "suricata-recorded.json"


def recorded_alert(signature_id: int):
    for line in RECORDED.read_text().splitlines():
        alert = alert_from_eve(json.loads(line))
        if alert is not None and alert.signature_id == signature_id:
            return alert
    raise AssertionError(signature_id)


def pending(store: Store, method: str) -> list[dict]:
    rows = store.db.execute(
        "SELECT payload FROM outbox WHERE status = 'pending' AND method = ?", [method])
    return [json.loads(row[0]) for row in rows]


def test_a_noisy_signature_keeps_one_pending_card_update_with_the_latest_count(tmp_path):
    with Store(tmp_path / "w.db") as store:
        notifier = SlackIncidentNotifier("#security", Capabilities())
        rules = IncidentPolicy(["other"], timedelta(hours=1), 2, [timedelta(days=1)])
        incidents = IncidentsWorkflow(store, notifier, rules, lambda: ["USAM"])
        alert = recorded_alert(2024833)
        [incident_id] = incidents.ingest([alert])["opened"]
        with store.transaction() as db:  # the card was posted
            notifier.card_posted(db, f"incident-card:{incident_id}", {"channel": "C1", "ts": "1.1"})
            db.execute("UPDATE outbox SET status = 'sent'")

        for _poll in range(20):  # twenty polls, each bringing repeats
            incidents.ingest([alert] * 5)

        updates = pending(store, "chat.update")
        assert len(updates) == 1
        assert "*Alerts*\n101 " in json.dumps(updates[0]["blocks"]).replace("\\n", "\n")


def test_a_card_whose_hook_failed_is_repaired_from_the_kept_answer(tmp_path):
    with Store(tmp_path / "w.db") as store:
        notifier = SlackIncidentNotifier("#security", Capabilities())
        rules = IncidentPolicy(["other"], timedelta(hours=1), 2, [timedelta(days=1)])
        incidents = IncidentsWorkflow(store, notifier, rules, lambda: ["USAM"])
        [incident_id] = incidents.ingest([recorded_alert(2024833)])["opened"]
        with store.transaction() as db:  # sent, but the hook never recorded where
            db.execute("""UPDATE outbox SET status = 'sent', response = ?
                          WHERE dedup_key = ?""",
                       [json.dumps({"channel": "C1", "ts": "1.1"}),
                        f"incident-card:{incident_id}"])  # fmt: skip

        with store.transaction() as db:
            assert notifier.repair_cards(db) == 1
            assert notifier.repair_cards(db) == 0

        threaded = [p for p in pending(store, "chat.postMessage") if p.get("thread_ts") == "1.1"]
        assert threaded, "the timeline so far goes to the card's thread"
