"""The findings workflow, shared by every scanner: tell owners, fix, snooze,
grant exceptions, remind inside working hours, escalate, thank.

State lives in the `findings` and `finding_exceptions` tables; every message
goes through a `Notifier` (built in `bot/`) into the outbox, in the same
transaction as the state change it reports. Who may press a button is
decided here: the finding's owner or an analyst, nobody else.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database

from scanners.drive_rules import SEVERITY_ORDER
from state import Store, audit, findings
from state.clock import from_iso, to_iso, utcnow
from workflows.people import People

log = logging.getLogger(__name__)

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ESCALATION_GRACE = timedelta(days=1)


class NotAllowed(Exception):
    """The person may not act on this finding; the message says who may."""


class FixFailed(Exception):
    """The outside system refused the fix; the finding is open as before."""


class Notifier(Protocol):
    def new_findings(
        self, db: Database, run_id: int, slack_user_id: str, items: list[dict]
    ) -> None: ...
    def unowned_findings(
        self, db: Database, run_id: int, owner: str, items: list[dict]
    ) -> None: ...
    def refresh_dm(self, db: Database, channel: str, ts: str) -> None: ...
    def reminder(self, db: Database, slack_user_id: str, finding: dict, number: int) -> None: ...
    def escalation(self, db: Database, finding: dict, owner_slack_id: str | None) -> None: ...
    def exception_requested(self, db: Database, finding: dict, request: dict) -> None: ...
    def exception_decided(self, db: Database, finding: dict, request: dict) -> None: ...


class Remediator(Protocol):
    def fix(self, finding: dict) -> str:
        """Apply the policy's remediation; return what was done, in words."""
        ...


@dataclass(frozen=True)
class ReminderPolicy:
    cadence: list[timedelta]
    escalate: bool
    start: object  # datetime.time
    end: object
    days: list[str]


class FindingsWorkflow:
    def __init__(
        self,
        store: Store,
        people: People,
        notifier: Notifier,
        remediators: dict[str, Remediator],
        reminders: ReminderPolicy,
        max_exception: timedelta,
    ) -> None:
        self._store = store
        self._people = people
        self._notifier = notifier
        self._remediators = remediators
        self._reminders = reminders
        self._max_exception = max_exception

    # -- after a scan -------------------------------------------------------

    def after_scan(self, run_id: int, new_ids: list[int], resolved_ids: list[int]) -> None:
        self.notify_new(run_id, new_ids)
        self.thank_resolved(resolved_ids)

    def notify_new(self, run_id: int, new_ids: list[int]) -> None:
        """One message per owner: a DM, or the security channel for owners outside Slack."""
        by_owner: dict[str, list[dict]] = defaultdict(list)
        for finding_id in new_ids:
            finding = findings.get_finding(self._store.db, finding_id)
            if finding and _needs_telling(finding):
                by_owner[finding["owner"]].append(finding)
        for owner, items in by_owner.items():
            self._notify_owner(run_id, owner, most_severe_first(items))

    def notify_pending(self) -> int:
        """Tell owners about open findings nobody told them of yet.

        Normally `after_scan` does it; this catches findings recorded by a scan
        that stopped (or a CLI scan without Slack) before its DMs were queued.
        """
        rows = list(
            self._store.db.query(
                # Findings of a scan still running are told when it ends.
                """SELECT id, last_seen_run FROM findings
                   WHERE status = 'open' AND notified_at IS NULL AND last_seen_run NOT IN (
                       SELECT id FROM scan_runs WHERE status = 'running')"""
            )
        )
        by_run: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            by_run[row["last_seen_run"]].append(row["id"])
        for run_id, ids in sorted(by_run.items()):
            self.notify_new(run_id, ids)
        return len(rows)

    def _notify_owner(self, run_id: int, owner: str, items: list[dict]) -> None:
        person = self._people.by_email(owner) if "@" in owner else None
        first_reminder = utcnow() + self._reminders.cadence[0]
        with self._store.transaction() as db:
            for finding in items:
                db.execute(
                    """UPDATE findings SET notified_at = ?, notified_run = ?,
                           next_reminder_at = ? WHERE id = ?""",
                    [to_iso(utcnow()), run_id, to_iso(first_reminder), finding["id"]],
                )
            if person:
                self._notifier.new_findings(db, run_id, person["slack_user_id"], items)
            else:
                self._notifier.unowned_findings(db, run_id, owner, items)
        log.info("findings.notified", extra={"run_id": run_id, "count": len(items)})

    def thank_resolved(self, resolved_ids: list[int]) -> None:
        """Resolved findings that were in a DM: re-render it, once, with the thanks."""
        messages = set()
        for finding_id in resolved_ids:
            finding = findings.get_finding(self._store.db, finding_id)
            if finding and finding["dm_ts"]:
                messages.add((finding["dm_channel"], finding["dm_ts"]))
        with self._store.transaction() as db:
            for channel, ts in sorted(messages):
                self._notifier.refresh_dm(db, channel, ts)

    # -- buttons --------------------------------------------------------------

    def fix(self, finding_id: int, actor: str) -> dict:
        """Apply the remediation once, recording the claim before Drive and the result after."""
        self._authorized(finding_id, actor)
        with self._store.transaction() as db:
            claimed = db.execute(
                "UPDATE findings SET status = 'fixing' WHERE id = ? AND status = 'open'",
                [finding_id],
            ).rowcount
        finding = findings.get_finding(self._store.db, finding_id)
        if not claimed:
            return finding  # a second click, or fixed meanwhile: nothing to do twice
        try:
            done = self._remediators[finding["scanner"]].fix(finding)
        except Exception as error:
            self._fix_failed(finding_id, actor, error)
            raise FixFailed(
                "The fix did not go through, so nothing changed. Try again, or fix the "
                "sharing in Drive yourself."
            ) from error
        with self._store.transaction() as db:
            db.execute(
                """UPDATE findings SET status = 'fixed', resolved_at = ?, next_reminder_at = NULL
                   WHERE id = ? AND status IN ('fixing', 'open')""",
                [to_iso(utcnow()), finding_id],
            )
            audit.record(db, actor, "finding.fixed", f"finding:{finding_id}", {"done": done})
            self._refresh(db, finding)
        return findings.get_finding(self._store.db, finding_id)

    def _fix_failed(self, finding_id: int, actor: str, error: Exception) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE findings SET status = 'open' WHERE id = ? AND status = 'fixing'",
                [finding_id],
            )
            details = {"error": type(error).__name__}
            audit.record(db, actor, "finding.fix_failed", f"finding:{finding_id}", details)
        log.warning("finding.fix_failed", extra={"finding_id": finding_id})

    def snooze(self, finding_id: int, actor: str, days: int) -> dict:
        finding = self._authorized(finding_id, actor)
        until = utcnow() + timedelta(days=days)
        with self._store.transaction() as db:
            self._silence(db, finding_id, until, f"snoozed by {actor}")
            audit.record(db, actor, "finding.snoozed", f"finding:{finding_id}", {"days": days})
            self._refresh(db, finding)
        return findings.get_finding(self._store.db, finding_id)

    def request_exception(self, finding_id: int, actor: str, reason: str, days: int) -> dict:
        finding = self._authorized(finding_id, actor)
        if not 1 <= days <= self._max_exception.days:
            raise ValueError(f"an exception lasts 1 to {self._max_exception.days} days")
        with self._store.transaction() as db:
            cursor = db.execute(
                """INSERT INTO finding_exceptions
                       (finding_id, requester, reason, duration_seconds, created_at)
                   VALUES (?, ?, ?, ?, ?)""",
                [finding_id, actor, reason, days * 86400, to_iso(utcnow())],
            )
            request = self._exception(db, cursor.lastrowid)
            details = {"exception_id": request["id"], "days": days, "reason": reason}
            audit.record(db, actor, "exception.requested", f"finding:{finding_id}", details)
            self._notifier.exception_requested(db, finding, request)
        return request

    def decide_exception(self, request_id: int, analyst: str, approve: bool) -> dict:
        if not self._people.is_analyst(analyst):
            raise NotAllowed("Only the security analysts can approve or deny exceptions.")
        with self._store.transaction() as db:
            request = self._exception(db, request_id)
            if request["status"] != "requested":
                return request  # decided already: a double click changes nothing
            if request["requester"] == analyst:
                raise NotAllowed("Nobody approves their own exception; ask another analyst.")
            status = "approved" if approve else "denied"
            expires = utcnow() + timedelta(seconds=request["duration_seconds"]) if approve else None
            db.execute(
                """UPDATE finding_exceptions SET status = ?, decided_by = ?, decided_at = ?,
                       expires_at = ? WHERE id = ?""",
                [status, analyst, to_iso(utcnow()), expires and to_iso(expires), request_id],
            )
            finding = findings.get_finding(db, request["finding_id"])
            if approve:
                self._silence(db, finding["id"], expires, f"exception {request_id}")
            audit.record(db, analyst, f"exception.{status}", f"finding:{finding['id']}",
                         {"exception_id": request_id})  # fmt: skip
            request = self._exception(db, request_id)
            self._notifier.exception_decided(db, finding, request)
            self._refresh(db, finding)
        return request

    # -- reminders --------------------------------------------------------------

    def send_due_reminders(self, now: datetime | None = None) -> int:
        """Remind owners of due findings inside their working hours; escalate after the last."""
        now = now or utcnow()
        sent = 0
        for finding in self._due(now):
            person = self._people.by_email(finding["owner"]) if "@" in finding["owner"] else None
            if person and not self.in_working_hours(person.get("tz"), now):
                continue
            with self._store.transaction() as db:
                self._remind_or_escalate(db, finding, person, now)
            sent += 1
        return sent

    def in_working_hours(self, tz_name: str | None, now: datetime) -> bool:
        try:
            local = now.astimezone(ZoneInfo(tz_name or "UTC"))
        except ZoneInfoNotFoundError:
            local = now
        rules = self._reminders
        return WEEKDAYS[local.weekday()] in rules.days and rules.start <= local.time() < rules.end

    def _remind_or_escalate(self, db, finding: dict, person: dict | None, now: datetime) -> None:
        number = finding["reminders_sent"] + 1
        cadence = self._reminders.cadence
        if number <= len(cadence) and person:
            self._notifier.reminder(db, person["slack_user_id"], finding, number)
            # After the last reminder the owner gets one more day before escalation.
            following = cadence[number] - cadence[number - 1] if number < len(cadence) else None
            next_at = to_iso(now + (following or ESCALATION_GRACE))
            db.execute(
                "UPDATE findings SET reminders_sent = ?, next_reminder_at = ? WHERE id = ?",
                [number, next_at, finding["id"]],
            )
            return
        if self._reminders.escalate and not finding["escalated_at"]:
            self._notifier.escalation(db, finding, person and person["slack_user_id"])
            audit.record(db, "warden", "finding.escalated", f"finding:{finding['id']}", {})
        db.execute(
            "UPDATE findings SET escalated_at = ?, next_reminder_at = NULL WHERE id = ?",
            [to_iso(now), finding["id"]],
        )

    def _due(self, now: datetime) -> list[dict]:
        self._lift_expired_silences(now)
        rows = self._store.db.query(
            """SELECT id FROM findings WHERE status = 'open' AND next_reminder_at <= ?
               AND (silenced_until IS NULL OR silenced_until <= ?) ORDER BY id""",
            [to_iso(now), to_iso(now)],
        )
        return [findings.get_finding(self._store.db, row["id"]) for row in list(rows)]

    def _lift_expired_silences(self, now: datetime) -> None:
        """A snooze or exception that ran out makes the finding remindable again."""
        with self._store.transaction() as db:
            db.execute(
                """UPDATE finding_exceptions SET status = 'expired'
                   WHERE status = 'approved' AND expires_at <= ?""",
                [to_iso(now)],
            )
            db.execute(
                # The cadence starts again: the owner is reminded, not escalated at once.
            """UPDATE findings SET silenced_until = NULL, silenced_reason = NULL,
                       next_reminder_at = ?, reminders_sent = 0, escalated_at = NULL
                   WHERE status = 'open' AND silenced_until <= ?""",
                [to_iso(now), to_iso(now)],
            )

    # -- helpers ------------------------------------------------------------------

    def may_act(self, finding: dict, actor: str) -> bool:
        person = self._people.get(actor)
        email = (person or {}).get("email") or ""
        return email.lower() == finding["owner"].lower() or self._people.is_analyst(actor)

    @property
    def max_exception_days(self) -> int:
        return self._max_exception.days

    def authorized(self, finding_id: int, actor: str) -> dict:
        """The finding, if `actor` may act on it; NotAllowed (and audited) if not."""
        return self._authorized(finding_id, actor)

    def _authorized(self, finding_id: int, actor: str) -> dict:
        finding = findings.get_finding(self._store.db, finding_id)
        if finding is None:
            raise LookupError(f"finding {finding_id} does not exist")
        if not self.may_act(finding, actor):
            with self._store.transaction() as db:
                audit.record(db, actor, "finding.refused", f"finding:{finding_id}", {})
            raise NotAllowed("Only the file's owner or a security analyst can do that.")
        return finding

    def _silence(self, db, finding_id: int, until: datetime, reason: str) -> None:
        db.execute(
            """UPDATE findings SET silenced_until = ?, silenced_reason = ?, next_reminder_at = ?
               WHERE id = ?""",
            [to_iso(until), reason, to_iso(until), finding_id],
        )

    def _refresh(self, db, finding: dict) -> None:
        if finding["dm_channel"] and finding["dm_ts"]:
            self._notifier.refresh_dm(db, finding["dm_channel"], finding["dm_ts"])

    def _exception(self, db, request_id: int) -> dict:
        rows = list(db.query("SELECT * FROM finding_exceptions WHERE id = ?", [request_id]))
        if not rows:
            raise LookupError(f"exception request {request_id} does not exist")
        request = rows[0]
        request["days"] = request["duration_seconds"] // 86400
        return request


def _needs_telling(finding: dict) -> bool:
    return finding["status"] == "open" and not finding["notified_at"] and not _silenced(finding)


def _silenced(finding: dict) -> bool:
    until = finding.get("silenced_until")
    return bool(until) and from_iso(until) > utcnow()


def most_severe_first(items: list[dict]) -> list[dict]:
    """Stored findings, most severe first, then by name."""
    return sorted(items, key=lambda f: (SEVERITY_ORDER[f["severity"]], f["subject_name"].lower()))
