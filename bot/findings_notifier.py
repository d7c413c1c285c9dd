"""Findings messages into the outbox: the Slack side of `workflows.findings`.

Each method is called inside the workflow's transaction and only enqueues.
Where a message must be updated later (the owner's DM, an exception card),
an on-sent hook records the channel and ts Slack gave it.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bot import views_findings as views
from bot.policy import Policy
from bot.text import escape
from state import findings, outbox
from state.clock import from_iso, utcnow
from workflows.findings import most_severe_first

DM_HOOK, EXCEPTION_HOOK = "finding-dm", "exception-card"


class SlackFindingsNotifier:
    def __init__(self, policy: Policy) -> None:
        self._channel = policy.security_channel

    def hooks(self) -> dict:
        return {DM_HOOK: _remember_dm, EXCEPTION_HOOK: _remember_card}

    def new_findings(self, db: Database, run_id: int, slack_user_id: str, items: list[dict]):
        payload = {outbox.DM_USER: slack_user_id, **views.owner_dm(items)}
        outbox.enqueue(db, "chat.postMessage", payload, _message_key(run_id, items))

    def unowned_findings(self, db: Database, run_id: int, owner: str, items: list[dict]):
        """Findings nobody in Slack owns (a shared drive, a departed user): the analysts'
        channel gets the same buttons, which only analysts may press."""
        payload = {"channel": self._channel, **views.unowned(len(items), owner, items)}
        outbox.enqueue(db, "chat.postMessage", payload, _message_key(run_id, items))

    def refresh_dm(self, db: Database, channel: str, ts: str) -> None:
        """Re-render an owner's DM from the current state of every finding in it."""
        items = _findings_in(db, channel, ts)
        states = {f["id"]: state_line(db, f) for f in items}
        payload = {"channel": channel, "ts": ts, **views.owner_dm(items, states)}
        outbox.enqueue(db, "chat.update", payload)

    def reminder(self, db: Database, slack_user_id: str, finding: dict, number: int) -> None:
        payload = {outbox.DM_USER: slack_user_id, **views.reminder_dm(finding, number)}
        # Keyed by the due time too: after an exception the cadence starts over
        # and reminder 1 must not be mistaken for the first cycle's.
        key = f"reminder:{finding['id']}:{number}:{finding['next_reminder_at']}"
        outbox.enqueue(db, "chat.postMessage", payload, key)

    def escalation(self, db: Database, finding: dict, owner_slack_id: str | None) -> None:
        who = f"<@{owner_slack_id}>" if owner_slack_id else escape(finding["owner"])
        payload = {"channel": self._channel, **views.escalation(finding, who)}
        key = f"escalation:{finding['id']}:{finding['next_reminder_at']}"
        outbox.enqueue(db, "chat.postMessage", payload, key)

    def exception_requested(self, db: Database, finding: dict, request: dict) -> None:
        card = views.exception_request(finding, request, f"<@{request['requester']}>")
        payload = {"channel": self._channel, **card}
        outbox.enqueue(db, "chat.postMessage", payload, f"{EXCEPTION_HOOK}:{request['id']}")

    def exception_decided(self, db: Database, finding: dict, request: dict) -> None:
        decided = views.exception_decided(
            finding, request, request["status"], f"<@{request['decided_by']}>"
        )
        if request["message_ts"]:
            card = {"channel": request["message_channel"], "ts": request["message_ts"]}
            outbox.enqueue(db, "chat.update", {**card, **decided})
        dm = {outbox.DM_USER: request["requester"], **decided}
        outbox.enqueue(db, "chat.postMessage", dm, f"exception-decided:{request['id']}")


def state_line(db: Database, finding: dict) -> str | None:
    """How a finding ended or waits, for its line in the owner's DM; None while open."""
    if finding["status"] == "fixed":
        return ":white_check_mark: Fixed. Thank you!"
    if finding["status"] == "resolved":
        return ":white_check_mark: Resolved, thank you! It is no longer overshared."
    pending = db.execute(
        "SELECT 1 FROM finding_exceptions WHERE finding_id = ? AND status = 'requested'",
        [finding["id"]],
    ).fetchone()
    if pending:
        return ":hourglass_flowing_sand: Exception requested; security will answer here soon."
    until = finding.get("silenced_until")
    if until and from_iso(until) > utcnow():
        reason = finding.get("silenced_reason") or ""
        kind = "Exception granted" if reason.startswith("exception") else "Snoozed"
        return f":zzz: {kind} until {_day(from_iso(until))}."
    return None


def _day(moment: datetime) -> str:
    return moment.strftime("%a %d %b %Y")


def _findings_in(db: Database, channel: str, ts: str) -> list[dict]:
    rows = list(
        db.query("SELECT id FROM findings WHERE dm_channel = ? AND dm_ts = ?", [channel, ts])
    )
    return most_severe_first([findings.get_finding(db, row["id"]) for row in rows])


def _message_key(run_id: int, items: list[dict]) -> str:
    # The ids make the key unique per message and tell the hook which
    # findings the message lists (`refresh_dm` re-renders exactly those).
    ids = ",".join(str(f["id"]) for f in items)
    return f"{DM_HOOK}:{run_id}:{ids}"


def _remember_dm(db: Database, dedup_key: str, sent: dict) -> None:
    ids = [int(i) for i in dedup_key.split(":")[2].split(",")]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        db.execute(
            f"UPDATE findings SET dm_channel = ?, dm_ts = ? WHERE id IN ({marks})",
            [sent.get("channel"), sent.get("ts"), *chunk],
        )


def _remember_card(db: Database, dedup_key: str, sent: dict) -> None:
    request_id = int(dedup_key.split(":")[1])
    db.execute(
        "UPDATE finding_exceptions SET message_channel = ?, message_ts = ? WHERE id = ?",
        [sent.get("channel"), sent.get("ts"), request_id],
    )
