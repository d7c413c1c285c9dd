"""Temporary access: ask, approve, apply, and take exactly that back at expiry.

A grant is `approved` in the store before the outside call and `active` with
what the call created after it; revoking is `revoking` before and `revoked`
after. `settle_interrupted` runs on start and finishes whatever a crash cut
in half, so there is never an orphaned permission nor a duplicate one. Who
may approve comes from the policy: the resource's owner (a Drive file's
owner, a repository admin) or any analyst, never the requester.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlite_utils import Database

from state import Store, audit
from state.clock import from_iso, to_iso, utcnow

log = logging.getLogger(__name__)

EXAMPLES = {
    "drive": "/access https://docs.google.com/document/d/FILE_ID to auditor@partner.com "
    "as reader for 3d because SOC 2 evidence",
    "github": "/access acme/payments to octocat as pull for 1d because pairing on the fix",
}


class Refused(Exception):
    """The request breaks the policy; the message says what and shows a valid example."""


class NotAllowed(Exception):
    """This person may not decide or change this grant."""


@dataclass(frozen=True)
class Request:
    kind: str
    resource: str
    grantee: str
    role: str
    duration: timedelta
    reason: str
    requester: str  # Slack user id
    requester_email: str = ""  # to read a Drive file as someone who has its link


@dataclass(frozen=True)
class Ownership:
    """Who owns a resource, for approval: emails (Drive) or GitHub logins."""

    name: str
    owners: list[str]


class Applier(Protocol):
    def ownership(self, resource: str, as_user: str) -> Ownership: ...

    def apply(self, grant: dict, notify: bool) -> str:
        """Create the access; return a reference to exactly what was created."""
        ...

    def find(self, grant: dict) -> str | None:
        """What an interrupted apply may have created already, or None."""
        ...

    def revoke(self, grant: dict) -> bool:
        """Remove exactly what `created_ref` names; False if it was already gone."""
        ...


class GrantNotifier(Protocol):
    def requested(self, db: Database, grant: dict, approvers: list[str]) -> None: ...
    def decided(self, db: Database, grant: dict) -> None: ...
    def active(self, db: Database, grant: dict) -> None: ...
    def ended(self, db: Database, grant: dict) -> None: ...
    def expiring(self, db: Database, grant: dict) -> None: ...


class Approvers(Protocol):
    def slack_ids_for(self, kind: str, owners: list[str]) -> list[str]: ...
    def analysts(self) -> list[str]: ...


class GrantsWorkflow:
    def __init__(self, store: Store, policy, company_domains: list[str], appliers: dict,
                 notifier: GrantNotifier, approvers: Approvers) -> None:  # fmt: skip
        self._store = store
        # Set by the process: wakes the revoke at the exact expiry (the sweep
        # every minute is the safety net, and the store the truth).
        self.arm_expiry: Callable[[int, datetime], None] | None = None
        self._policy = policy  # the policy's `grants` section
        self._company = [d.lower() for d in company_domains]
        self._appliers = appliers
        self._notifier = notifier
        self._approvers = approvers

    # -- asking ---------------------------------------------------------------

    def problems(self, request: Request) -> list[str]:
        """Everything wrong with the request under the policy, in plain words."""
        if request.kind not in self._appliers:
            return [f"{request.kind} access is not set up here (ask the security team)"]
        rules = getattr(self._policy, request.kind)
        found = []
        if request.role not in rules.roles:
            found.append(f"the role must be one of {', '.join(rules.roles)}")
        if request.duration > rules.max_duration:
            found.append(f"{request.kind} access lasts at most {_days(rules.max_duration)}")
        if request.duration <= timedelta(0):
            found.append("the duration must be positive")
        found += self._grantee_problems(request)
        if len(request.reason.strip()) < 5:
            found.append("give a reason security can read later")
        return found

    def submit(self, request: Request) -> dict:
        problems = self.problems(request)
        if problems:
            raise Refused("; ".join(problems) + f". For example: {EXAMPLES[request.kind]}")
        ownership = self._appliers[request.kind].ownership(
            request.resource, request.requester_email
        )
        approvers = self._who_approves(request, ownership)
        with self._store.transaction() as db:
            grant = self._insert(db, request, ownership)
            audit.record(db, request.requester, "grant.requested", f"grant:{grant['id']}",
                         _describe(grant))  # fmt: skip
            if not self._auto_approved(request):
                self._notifier.requested(db, grant, approvers)
        if self._auto_approved(request):
            return self._approve_and_apply(grant["id"], "warden", "auto-approved by policy")
        return grant

    def extend(self, grant_id: int, actor: str, duration: timedelta, reason: str) -> dict:
        """Ask for more time on a live grant: a new request, approved by the same rules."""
        grant = self.get(grant_id)
        if actor != grant["requester"]:
            raise NotAllowed("Only the person who asked for this access can extend it.")
        if grant["status"] != "active":
            raise Refused(f"access {grant_id} is {grant['status']}; ask again with /access")
        request = _request_of(grant)
        asked = Request(request.kind, request.resource, request.grantee, request.role,
                        duration, reason, actor)  # fmt: skip
        problems = self.problems(asked)
        if problems:
            raise Refused("; ".join(problems))
        ownership = Ownership(grant["resource_name"], json.loads(grant["owner"]))
        with self._store.transaction() as db:
            extension = self._insert(db, asked, ownership, extends=grant_id)
            details = {"extension": extension["id"], "seconds": extension["duration_seconds"]}
            audit.record(db, actor, "grant.extension_requested", f"grant:{grant_id}", details)
            approvers = self._who_approves(asked, ownership)
            self._notifier.requested(db, extension, approvers)
        return extension

    def _merge_extension(self, extension: dict, actor: str) -> dict:
        """An approved extension adds its time to the live grant; nothing new is created."""
        target = self.get(extension["extends_grant"])
        start = max(from_iso(target["expires_at"]), utcnow())
        until = start + timedelta(seconds=extension["duration_seconds"])
        with self._store.transaction() as db:
            db.execute(
                """UPDATE grants SET expires_at = ?, reminded_at = NULL
                   WHERE id = ? AND status = 'active'""",
                [to_iso(until), target["id"]],
            )
            self._move(db, extension["id"], "approved", "extended", expires_at=to_iso(until))
            audit.record(db, actor, "grant.extended", f"grant:{target['id']}",
                         {"until": to_iso(until), "extension": extension["id"]})  # fmt: skip
            self._notifier.active(db, self.get(target["id"], db))
        if self.arm_expiry:
            self.arm_expiry(target["id"], until)
        return self.get(extension["id"])

    # -- deciding ---------------------------------------------------------------

    def decide(self, grant_id: int, actor: str, approve: bool, note: str = "") -> dict:
        grant = self.get(grant_id)
        if grant["status"] != "requested":
            return grant  # decided already (a double click) or expired: no second effect
        if actor == grant["requester"]:
            raise NotAllowed("Nobody approves their own request; it waits for another approver.")
        name = grant["resource_name"] or grant["resource"]
        ownership = Ownership(name, json.loads(grant["owner"]))
        if actor not in self._who_approves(_request_of(grant), ownership):
            raise NotAllowed("Only the resource's owner or a security analyst can decide this.")
        if approve:
            return self._approve_and_apply(grant_id, actor, note)
        with self._store.transaction() as db:
            changed = self._move(db, grant_id, "requested", "denied", approver=actor,
                                 decided_at=to_iso(utcnow()), decision_note=note)  # fmt: skip
            if changed:
                audit.record(db, actor, "grant.denied", f"grant:{grant_id}", {"note": note})
                self._notifier.decided(db, self.get(grant_id, db))
        return self.get(grant_id)

    def _approve_and_apply(self, grant_id: int, actor: str, note: str) -> dict:
        with self._store.transaction() as db:
            if not self._move(db, grant_id, "requested", "approved", approver=actor,
                              decided_at=to_iso(utcnow()), decision_note=note):  # fmt: skip
                return self.get(grant_id, db)  # another approver won the race
            audit.record(db, actor, "grant.approved", f"grant:{grant_id}", {"note": note})
            self._notifier.decided(db, self.get(grant_id, db))
        grant = self.get(grant_id)
        if grant["extends_grant"]:
            return self._merge_extension(grant, actor)
        return self._apply(grant_id)

    def _apply(self, grant_id: int) -> dict:
        grant = self.get(grant_id)
        applier = self._appliers[grant["kind"]]
        notify = bool(getattr(getattr(self._policy, grant["kind"]), "notify_grantee", False))
        try:
            ref = applier.apply(grant, notify)
        except Exception as error:
            with self._store.transaction() as db:
                self._move(db, grant_id, "approved", "failed", decision_note=type(error).__name__)
                audit.record(db, "warden", "grant.failed", f"grant:{grant_id}",
                             {"error": type(error).__name__})  # fmt: skip
                self._notifier.decided(db, self.get(grant_id, db))
            raise
        return self._activated(grant_id, ref)

    def _activated(self, grant_id: int, ref: str) -> dict:
        now = utcnow()
        with self._store.transaction() as db:
            grant = self.get(grant_id, db)
            expires = now + timedelta(seconds=grant["duration_seconds"])
            self._move(db, grant_id, "approved", "active", created_ref=ref,
                       applied_at=to_iso(now), expires_at=to_iso(expires))  # fmt: skip
            audit.record(db, "warden", "grant.applied", f"grant:{grant_id}", {"created": ref})
            self._notifier.active(db, self.get(grant_id, db))
        if self.arm_expiry:
            self.arm_expiry(grant_id, expires)
        return self.get(grant_id)

    def active_expiries(self) -> list[tuple[int, datetime]]:
        rows = self._store.db.execute(
            "SELECT id, expires_at FROM grants WHERE status = 'active'"
        ).fetchall()
        return [(grant_id, from_iso(expires)) for grant_id, expires in rows]

    # -- taking back ----------------------------------------------------------

    def revoke_due(self, now: datetime | None = None) -> int:
        """Revoke every active grant whose time is up; returns how many."""
        now = now or utcnow()
        rows = self._store.db.execute(
            "SELECT id FROM grants WHERE status = 'active' AND expires_at <= ? ORDER BY expires_at",
            [to_iso(now)],
        ).fetchall()
        for (grant_id,) in rows:
            self.revoke(grant_id, "warden", "expired")
        return len(rows)

    def revoke(self, grant_id: int, actor: str, why: str) -> dict:
        with self._store.transaction() as db:
            if not self._move(db, grant_id, "active", "revoking"):
                return self.get(grant_id, db)  # not active: revoked already, or never applied
        return self._finish_revoke(grant_id, actor, why)

    def revoke_now(self, grant_id: int, actor: str) -> dict:
        grant = self.get(grant_id)
        if actor != grant["requester"] and actor not in self._approvers.analysts():
            raise NotAllowed("Only the requester or a security analyst can end this access.")
        return self.revoke(grant_id, actor, "revoked early")

    def _finish_revoke(self, grant_id: int, actor: str, why: str) -> dict:
        grant = self.get(grant_id)
        removed = self._appliers[grant["kind"]].revoke(grant)
        outcome = "removed" if removed else "already gone"
        with self._store.transaction() as db:
            self._move(db, grant_id, "revoking", "revoked", revoked_at=to_iso(utcnow()),
                       revoke_outcome=f"{why}; {outcome}")  # fmt: skip
            details = {"why": why, "outcome": outcome, "created": grant["created_ref"]}
            audit.record(db, actor, "grant.revoked", f"grant:{grant_id}", details)
            self._notifier.ended(db, self.get(grant_id, db))
        return self.get(grant_id)

    def expire_requests(self, now: datetime | None = None) -> int:
        """Requests nobody decided in time expire; the requester is told."""
        now = to_iso(now or utcnow())
        rows = self._store.db.execute(
            "SELECT id FROM grants WHERE status = 'requested' AND request_expires_at <= ?", [now]
        ).fetchall()
        for (grant_id,) in rows:
            with self._store.transaction() as db:
                if self._move(db, grant_id, "requested", "expired", decided_at=now):
                    audit.record(db, "warden", "grant.request_expired", f"grant:{grant_id}", {})
                    self._notifier.decided(db, self.get(grant_id, db))
        return len(rows)

    def remind_expiring(self, now: datetime | None = None) -> int:
        """A day (policy) before expiry the requester may extend or revoke."""
        now = now or utcnow()
        soon = to_iso(now + self._policy.remind_before_expiry)
        rows = self._store.db.execute(
            """SELECT id FROM grants WHERE status = 'active' AND reminded_at IS NULL
               AND expires_at <= ?""",
            [soon],
        ).fetchall()
        for (grant_id,) in rows:
            with self._store.transaction() as db:
                db.execute(
                    "UPDATE grants SET reminded_at = ? WHERE id = ?", [to_iso(now), grant_id]
                )
                self._notifier.expiring(db, self.get(grant_id, db))
        return len(rows)

    def settle_interrupted(self) -> int:
        """On start: finish applies and revokes that a crash cut in half."""
        rows = self._store.db.execute(
            "SELECT id, status FROM grants WHERE status IN ('approved', 'revoking')"
        ).fetchall()
        for grant_id, status in rows:
            if status == "revoking":
                self._finish_revoke(grant_id, "warden", "finishing an interrupted revoke")
                continue
            existing = self._appliers[self.get(grant_id)["kind"]].find(self.get(grant_id))
            if existing:
                self._activated(grant_id, existing)  # it was created: adopt it, no duplicate
            else:
                self._apply(grant_id)
        return len(rows)

    # -- helpers -------------------------------------------------------------------

    def get(self, grant_id: int, db: Database | None = None) -> dict:
        rows = list((db or self._store.db).query("SELECT * FROM grants WHERE id = ?", [grant_id]))
        if not rows:
            raise LookupError(f"grant {grant_id} does not exist")
        return rows[0]

    def _grantee_problems(self, request: Request) -> list[str]:
        if request.kind == "github":
            if "@" in request.grantee:
                return ["a GitHub grantee is a login, not an email"]
            return []
        if "@" not in request.grantee:
            return ["a Drive grantee is an email address"]
        domain = request.grantee.rpartition("@")[2].lower()
        if domain in self._policy.denied_domains:
            return [f"access never goes to {domain}"]
        allowed = self._policy.allowed_domains
        if allowed and domain not in allowed and domain not in self._company:
            return [f"access goes only to {', '.join(allowed)}"]
        return []

    def _who_approves(self, request: Request, ownership: Ownership) -> list[str]:
        rule = getattr(self._policy, request.kind).approver
        if rule == "owner":
            people = self._approvers.slack_ids_for(request.kind, ownership.owners)
        else:
            people = self._approvers.analysts()
        return [p for p in people if p != request.requester] or self._approvers.analysts()

    def _auto_approved(self, request: Request) -> bool:
        auto = getattr(self._policy, request.kind).auto_approve
        in_allowed_domain = request.kind == "github" or (
            request.grantee.rpartition("@")[2].lower() in self._policy.allowed_domains
        )
        return request.role in auto.roles and request.duration <= auto.max_duration and (
            in_allowed_domain
        )

    def _insert(
        self, db: Database, request: Request, ownership: Ownership, extends: int | None = None
    ) -> dict:
        now = utcnow()
        cursor = db.execute(
            """INSERT INTO grants (kind, resource, resource_name, owner, grantee, role,
                   duration_seconds, reason, requester, created_at, request_expires_at,
                   extends_grant)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [request.kind, request.resource, ownership.name, json.dumps(ownership.owners),
             request.grantee, request.role, int(request.duration.total_seconds()),
             request.reason, request.requester, to_iso(now),
             to_iso(now + self._policy.request_timeout), extends],
        )  # fmt: skip
        return self.get(cursor.lastrowid, db)

    def _move(self, db: Database, grant_id: int, frm: str, to: str, **columns) -> bool:
        """Change status only from `frm`: the store decides races, not the callers."""
        sets = ", ".join(["status = ?"] + [f"{k} = ?" for k in columns])
        cursor = db.execute(
            f"UPDATE grants SET {sets} WHERE id = ? AND status = ?",
            [to, *columns.values(), grant_id, frm],
        )
        return cursor.rowcount == 1


def _request_of(grant: dict) -> Request:
    return Request(grant["kind"], grant["resource"], grant["grantee"], grant["role"],
                   timedelta(seconds=grant["duration_seconds"]), grant["reason"],
                   grant["requester"])  # fmt: skip


def _describe(grant: dict) -> dict:
    keys = ("kind", "resource", "grantee", "role", "duration_seconds", "reason")
    return {key: grant[key] for key in keys}


def _days(duration: timedelta) -> str:
    days = duration.total_seconds() / 86400
    return f"{days:g} day{'s' if days != 1 else ''}"
