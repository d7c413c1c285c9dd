"""Incident messages into the outbox: the Slack side of `workflows.incidents`.

The card is posted once; where it landed (channel, ts) comes back through the
outbox's on-sent hook, which then threads every timeline event recorded so
far and refreshes the card. Steps after that go straight to the thread. The
hook runs in the sender's transaction and each step in the workflow's; both
hold the store's write lock, so an event is threaded exactly once whichever
comes first.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlite_utils import Database

from bot import incident_card as card
from bot.text import escape, truncate
from bot.views import section, target_button
from state import incidents as rows
from state import outbox
from state.clock import utcnow

CARD_HOOK = "incident-card"
UPDATE_SPACING = timedelta(seconds=1)

TIPS_BY_KIND = {
    "phishing email": [
        "Hover over a link before you click: the address it shows is where it goes.",
        "A message that rushes you (your account closes today!) is a reason to slow down.",
        "When in doubt, reach the sender another way than the one the message offers.",
    ],
    "suspicious file": [
        "Open unexpected attachments only after checking with the sender.",
        "Office files that ask you to enable macros almost never need them.",
    ],
    "suspicious access": [
        "Turn on two-step verification everywhere it is offered.",
        "A sign-in alert you did not cause is always worth reporting, like you did.",
    ],
    "lost device": [
        "Screen lock with a short timeout keeps a lost laptop a lost laptop.",
        "Report a loss at once: we can sign the device out before anyone uses it.",
    ],
}
GENERAL_TIPS = ["Reporting early is the single most useful thing anyone can do. Keep it up!"]


class SlackIncidentNotifier:
    def __init__(self, channel: str, capabilities: card.Capabilities) -> None:
        self._channel = channel
        self._capabilities = capabilities

    # -- the card and its thread -------------------------------------------------

    def opened(self, db: Database, incident: dict) -> None:
        payload = {"channel": self._channel, "text": card.card_text(incident),
                   "blocks": self._blocks(db, incident), "unfurl_links": False}  # fmt: skip
        outbox.enqueue(db, "chat.postMessage", payload, f"{CARD_HOOK}:{incident['id']}")
        if incident["reporter"] and incident["source"] != "command":
            self._dm(db, incident["reporter"], self._received_text(incident),
                     f"incident-received:{incident['id']}")  # fmt: skip

    def changed(self, db: Database, incident: dict) -> None:
        incident = rows.get(db, incident["id"])  # the caller's copy may predate its own update
        if not incident["card_ts"]:
            return  # the hook renders the card afresh once it is posted
        payload = {"channel": incident["card_channel"], "ts": incident["card_ts"],
                   "text": card.card_text(incident), "blocks": self._blocks(db, incident)}
        prefix = f"incident-update:{incident['id']}:"
        if not outbox.refresh_pending(db, prefix, payload):
            # Held back a moment, so a burst of alerts folds into this one update.
            outbox.enqueue(db, "chat.update", payload, prefix + secrets.token_hex(6),
                           not_before=utcnow() + UPDATE_SPACING)

    def event(self, db: Database, incident: dict, event: dict) -> None:
        incident = rows.get(db, incident["id"])
        if incident["card_ts"]:
            self._thread(db, incident, event)

    def card_posted(self, db: Database, dedup_key: str, sent: dict) -> None:
        """On-sent hook: remember the card's place, then catch its thread up."""
        incident_id = int(dedup_key.split(":")[1])
        rows.update(db, incident_id, card_channel=sent["channel"], card_ts=sent["ts"])
        incident = rows.get(db, incident_id)
        for event in rows.events(db, incident_id):
            self._thread(db, incident, event)
        self.changed(db, incident)

    def repair_cards(self, db: Database) -> int:
        """Cards Slack took whose hook failed (their place unknown): run it again from
        the answer the outbox kept, or the incident would never get its thread."""
        orphans = db.execute(
            """SELECT o.dedup_key, o.response FROM outbox o JOIN incidents i
               ON o.dedup_key = 'incident-card:' || i.id
               WHERE o.status = 'sent' AND i.card_ts IS NULL"""
        ).fetchall()
        for dedup_key, response in orphans:
            self.card_posted(db, dedup_key, json.loads(response))
        return len(orphans)

    def _thread(self, db: Database, incident: dict, event: dict) -> None:
        payload = {"channel": incident["card_channel"], "thread_ts": incident["card_ts"],
                   "text": truncate(event["detail"], 3000), "unfurl_links": False}
        outbox.enqueue(db, "chat.postMessage", payload, f"incident-event:{event['id']}")

    def _blocks(self, db: Database, incident: dict) -> list[dict]:
        extras = {
            "blocked": [row["address"] for row in rows.rows(
                db, "ip_blocks", "incident_id = ? AND status IN ('blocking', 'blocked')",
                [incident["id"]])],
            "quarantined": {row["file_id"]: row["id"] for row in rows.rows(
                db, "quarantines", "incident_id = ? AND status = 'quarantined'",
                [incident["id"]])},
        }  # fmt: skip
        return card.card_blocks(incident, rows.indicators(db, incident["id"]),
                                rows.tasks(db, incident["id"]), extras, self._capabilities)

    # -- people ----------------------------------------------------------------

    def assigned(self, db: Database, incident: dict) -> None:
        text = (f":rotating_light: You're on incident {incident['id']} "
                f"({incident['kind']}, {incident['severity']}): {escape(incident['title'])}. "
                f"The card is in <#{self._channel}>.")  # fmt: skip
        self._dm(db, incident["assignee"], text,
                 f"incident-assigned:{incident['id']}:{secrets.token_hex(6)}")  # fmt: skip

    def thanked(self, db: Database, incident: dict, tips: list[str]) -> None:
        tips = tips or TIPS_BY_KIND.get(incident["kind"], []) + GENERAL_TIPS
        lines = "\n".join(f"• {escape(tip)}" for tip in tips)
        text = (f":raised_hands: Thank you for reporting incident {incident['id']} "
                f"({escape(incident['title'])}). A few tips for next time:\n{lines}")
        self._dm(db, incident["reporter"], text, f"incident-thanks:{incident['id']}")

    def outcome(self, db: Database, incident: dict) -> None:
        category = card.CATEGORY_NAMES.get(incident["category"] or "", "resolved").lower()
        text = (f":white_check_mark: Your report, incident {incident['id']} "
                f"({escape(incident['title'])}), is resolved as *{category}*:\n"
                f">{escape(truncate(incident['resolution'] or '', 1000))}\nThanks for speaking up.")
        self._dm(db, incident["reporter"], text, f"incident-outcome:{incident['id']}")

    def task_added(self, db: Database, incident: dict, task: dict) -> None:
        self._task_dm(db, incident, task, "You have a follow-up task",
                      f"task-added:{task['id']}")  # fmt: skip

    def task_reminder(self, db: Database, incident: dict, task: dict, number: int) -> None:
        self._task_dm(db, incident, task, f"Reminder {number}: a follow-up task is open",
                      f"task-reminder:{task['id']}:{task['next_reminder_at']}")  # fmt: skip

    def task_overdue(self, db: Database, incident: dict, task: dict) -> None:
        text = (f":alarm_clock: Task {task['id']} on incident {incident['id']} is overdue: "
                f"<@{task['owner']}>, due {task['due_at'][:10]}: {escape(task['text'])}")
        outbox.enqueue(db, "chat.postMessage", {"channel": self._channel, "text": text},
                       f"task-overdue:{task['id']}")  # fmt: skip
        self._task_dm(db, incident, task, "This follow-up task is overdue",
                      f"task-overdue-dm:{task['id']}")  # fmt: skip

    def _task_dm(self, db: Database, incident: dict, task: dict, heading: str,
                 dedup_key: str) -> None:  # fmt: skip
        text = (f":memo: {heading} on incident {incident['id']} "
                f"({escape(incident['title'])}), due {task['due_at'][:10]}:\n"
                f">{escape(task['text'])}")
        blocks = [section(text), {"type": "actions", "block_id": f"task_{task['id']}",
                                  "elements": [target_button(card.TASK_DONE, task["id"],
                                                             "Done", "primary")]}]  # fmt: skip
        payload = {outbox.DM_USER: task["owner"], "text": heading, "blocks": blocks}
        outbox.enqueue(db, "chat.postMessage", payload, dedup_key)

    def _received_text(self, incident: dict) -> str:
        return (f":shield: Thanks! Your report is incident {incident['id']} "
                f"({escape(incident['title'])}). The security team has it and I'll tell you "
                f"how it ends.")  # fmt: skip

    def _dm(self, db: Database, user: str, text: str, dedup_key: str) -> None:
        payload = {outbox.DM_USER: user, "text": text, "blocks": [section(text)]}
        outbox.enqueue(db, "chat.postMessage", payload, dedup_key)
