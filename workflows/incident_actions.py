"""The card's one-click actions on outside systems: block an address at the
firewall, quarantine a Drive file and restore it, open a ticket and keep it
current, page on-call.

Each effect is recorded before the call (`blocking`, `quarantining`, …) and
after it, like grants: a crash in between leaves a row that `settle` finishes
on the next sweep, and the call itself is idempotent (an address already in
the set, a permission already gone). Every step is a timeline event through
`IncidentsWorkflow.note`, so it reaches the thread, the ticket and the audit
log like any other. Analysts only; the targets (an address, a file) must be
among the incident's own indicators, whatever a tampered click says.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from state import Store
from state import incidents as rows
from state.clock import from_iso, to_iso, utcnow
from workflows.incidents import IncidentsWorkflow, Invalid, NotAllowed
from workflows.indicators import drive_files

log = logging.getLogger(__name__)

# A row left mid-call this long ago was cut off by a crash, not still running.
SETTLE_AFTER = timedelta(minutes=2)


class ActionFailed(Exception):
    """The outside system refused; the message says what it said."""


class Blocklist(Protocol):
    def block(self, address: str) -> bool: ...
    def unblock(self, address: str) -> bool: ...


class Drive(Protocol):
    def file(self, file_id: str) -> dict: ...
    def permissions(self, file_id: str) -> list[dict]: ...
    def delete_permission(self, file_id: str, permission_id: str) -> None: ...
    def create_permission(self, file_id: str, body: dict, notify: bool = False) -> dict: ...


class DriveAccess(Protocol):
    def drive(self, user_email: str) -> Drive: ...


class Tickets(Protocol):
    def open_ticket(self, full_name: str, title: str, body: str, labels=()): ...
    def comment_on_ticket(self, full_name: str, number: int, body: str) -> int: ...
    def close_ticket(self, full_name: str, number: int, reason: str = "completed") -> None: ...


class Pager(Protocol):
    def trigger(self, dedup_key: str, summary: str, *, severity: str, source: str,
                custom_details: dict | None = None, links: list | None = None) -> str: ...
    def resolve(self, dedup_key: str) -> None: ...


@dataclass
class Effects:
    """The outside systems configured here; None means the button is not offered."""

    blocklist: Blocklist | None = None
    block_expiry: timedelta | None = None
    drive: DriveAccess | None = None
    admin_email: str | None = None
    tickets: Tickets | None = None
    ticket_repository: str | None = None
    pager: Pager | None = None


PAGER_SEVERITY = {"low": "info", "medium": "warning", "high": "error", "critical": "critical"}
TICKET_CLOSE_REASON = {"true_positive": "completed", "false_positive": "not_planned",
                       "benign": "not_planned"}  # fmt: skip


class IncidentActions:
    def __init__(self, store: Store, incidents: IncidentsWorkflow, effects: Effects,
                 email_of=lambda slack_user_id: None) -> None:  # fmt: skip
        self._store = store
        self._incidents = incidents
        self._effects = effects
        self._email_of = email_of

    # -- Block IP --------------------------------------------------------------

    def block_ip(self, incident_id: int, actor: str, address: str) -> dict:
        blocklist = self._need(self._effects.blocklist, "IP blocking")
        self._require_analyst(actor)
        with self._store.transaction() as db:
            self._require_public_indicator(db, incident_id, address)
            live = rows.rows(db, "ip_blocks", "address = ? AND status IN ('blocking', 'blocked')",
                             [address])  # fmt: skip
            if live:
                raise Invalid(f"{address} is already blocked (incident {live[0]['incident_id']}).")
            expiry = self._effects.block_expiry
            block_id = rows.insert(
                db, "ip_blocks", incident_id=incident_id, address=address, status="blocking",
                blocked_by=actor, expires_at=to_iso(utcnow() + expiry) if expiry else None,
            )  # fmt: skip
        try:
            added = blocklist.block(address)
        except Exception as error:
            self._failed("ip_blocks", block_id, "blocking", incident_id, actor, error,
                         f"Blocking {address} failed")  # fmt: skip
        with self._store.transaction() as db:
            outcome = "added to the block list" if added else "was already in the block list"
            rows.move(db, "ip_blocks", block_id, "blocking", status="blocked",
                      blocked_at=to_iso(utcnow()), outcome=outcome)  # fmt: skip
        until = f" until {utcnow() + expiry:%a %d %b}" if expiry else ""
        return self._incidents.note(incident_id, actor, "ip_blocked",
                                    f"<@{actor}> blocked `{address}` at the firewall{until}.",
                                    {"address": address, "block": block_id})  # fmt: skip

    def lift_expired_blocks(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        with self._store.transaction() as db:
            due = rows.rows(db, "ip_blocks", "status = 'blocked' AND expires_at <= ?",
                            [to_iso(now)])  # fmt: skip
            for block in due:
                rows.move(db, "ip_blocks", block["id"], "blocked", status="lifting")
        for block in due:
            self._lift(block)
        return len(due)

    def _lift(self, block: dict) -> None:
        try:
            self._effects.blocklist.unblock(block["address"])
        except Exception:
            log.exception("incident.unblock_failed", extra={"block": block["id"]})
            return  # still `lifting`: the next sweep tries again
        with self._store.transaction() as db:
            rows.move(db, "ip_blocks", block["id"], "lifting", status="lifted",
                      lifted_at=to_iso(utcnow()))  # fmt: skip
        self._incidents.note(block["incident_id"], None, "ip_unblocked",
                             f"The block on `{block['address']}` expired and was lifted.",
                             {"address": block["address"], "block": block["id"]})  # fmt: skip

    # -- Quarantine / Restore --------------------------------------------------

    def quarantine(self, incident_id: int, actor: str, file_id: str) -> dict:
        self._need(self._effects.drive, "Drive")
        self._require_analyst(actor)
        with self._store.transaction() as db:
            incident = rows.get(db, incident_id)
            if file_id not in drive_files(incident, rows.indicators(db, incident_id)):
                raise Invalid("That file is not part of this incident.")
            if rows.rows(db, "quarantines", "file_id = ? AND status IN ('quarantining', "
                         "'quarantined')", [file_id]):  # fmt: skip
                raise Invalid("That file is already in quarantine.")
        drive, owner, name = self._owner_drive(incident, file_id)
        keep = [p for p in drive.permissions(file_id) if p.get("role") != "owner"]
        with self._store.transaction() as db:
            # What will be removed is written down before anything is removed,
            # so Restore can put back even a quarantine a crash cut short.
            quarantine_id = rows.insert(
                db, "quarantines", incident_id=incident_id, file_id=file_id, file_name=name,
                owner=owner, status="quarantining", removed=[_restorable(p) for p in keep],
                quarantined_by=actor,
            )  # fmt: skip
        try:
            for permission in keep:
                _delete_if_there(drive, file_id, permission["id"])
        except Exception as error:
            self._failed("quarantines", quarantine_id, "quarantining", incident_id, actor, error,
                         "Quarantine failed part-way; Restore sharing puts back what was "
                         "removed", keep_status="quarantined")  # fmt: skip
        with self._store.transaction() as db:
            rows.move(db, "quarantines", quarantine_id, "quarantining", status="quarantined",
                      outcome=f"removed {len(keep)} permission(s)")  # fmt: skip
        return self._incidents.note(
            incident_id, actor, "file_quarantined",
            f"<@{actor}> quarantined *{_plain(name)}*: removed {len(keep)} share(s); "
            f"only its owner has access now.", {"file_id": file_id, "removed": len(keep)},
        )  # fmt: skip

    def restore(self, quarantine_id: int, actor: str) -> dict:
        self._need(self._effects.drive, "Drive")
        self._require_analyst(actor)
        with self._store.transaction() as db:
            found = rows.rows(db, "quarantines", "id = ?", [quarantine_id])
            if not found or found[0]["status"] != "quarantined":
                raise Invalid("That file is not in quarantine any more.")
            rows.move(db, "quarantines", quarantine_id, "quarantined", status="restoring")
        quarantine = found[0]
        drive = self._effects.drive.drive(quarantine["owner"])
        try:
            present = {_identity(p) for p in drive.permissions(quarantine["file_id"])}
            for body in quarantine["removed"]:
                if _identity(body) not in present:
                    drive.create_permission(quarantine["file_id"], body, notify=False)
        except Exception as error:
            self._failed("quarantines", quarantine_id, "restoring", quarantine["incident_id"],
                         actor, error, "Restoring the sharing failed; try again",
                         keep_status="quarantined")  # fmt: skip
        with self._store.transaction() as db:
            rows.move(db, "quarantines", quarantine_id, "restoring", status="restored",
                      restored_by=actor, restored_at=to_iso(utcnow()))  # fmt: skip
        count = len(quarantine["removed"])
        return self._incidents.note(
            quarantine["incident_id"], actor, "file_restored",
            f"<@{actor}> restored the sharing of *{_plain(quarantine['file_name'] or '')}* "
            f"({count} share(s)).", {"file_id": quarantine["file_id"]},
        )  # fmt: skip

    def _owner_drive(self, incident: dict, file_id: str):
        """Read the file as its reporter (who has its link) or the admin, act as its owner."""
        readers = [self._email_of(incident["reporter"]) if incident["reporter"] else None,
                   self._effects.admin_email]  # fmt: skip
        for reader in filter(None, readers):
            try:
                found = self._effects.drive.drive(reader).file(file_id)
            except Exception:
                continue
            owners = [o["emailAddress"] for o in found.get("owners") or []]
            if owners:
                return self._effects.drive.drive(owners[0]), owners[0], found.get("name")
        raise Invalid("I cannot see that file as its reporter or the admin; is the link right?")

    # -- Ticket ----------------------------------------------------------------

    def create_ticket(self, incident_id: int, actor: str) -> dict:
        tickets = self._need(self._effects.tickets, "GitHub tickets")
        self._require_analyst(actor)
        with self._store.transaction() as db:
            incident = rows.get(db, incident_id)
            if incident["ticket_number"]:
                raise Invalid(f"Incident {incident_id} already has ticket "
                              f"#{incident['ticket_number']}.")  # fmt: skip
            last_event = rows.events(db, incident_id)[-1]["id"]
            body = _ticket_body(incident, rows.indicators(db, incident_id))
        repo = self._effects.ticket_repository
        try:
            ticket = tickets.open_ticket(repo, f"Incident {incident_id}: {incident['title']}",
                                         body, labels=["incident", incident["severity"]])
        except Exception as error:
            raise ActionFailed(f"GitHub did not take the ticket: {error}") from error
        with self._store.transaction() as db:
            rows.update(db, incident_id, ticket_repo=repo, ticket_number=ticket.number,
                        ticket_url=ticket.url)  # fmt: skip
            for event in rows.events_without_ticket_comment(db, incident_id, 0):
                if event["id"] <= last_event:  # already in the ticket's body
                    rows.set_ticket_comment(db, event["id"], 0)
        return self._incidents.note(incident_id, actor, "ticket_created",
                                    f"<@{actor}> opened ticket <{ticket.url}|#{ticket.number}>.",
                                    {"repository": repo, "number": ticket.number})

    def sync_ticket(self, incident_id: int) -> int:
        """Comment every step not yet in the ticket; close it once resolved."""
        tickets = self._effects.tickets
        incident = rows.get(self._store.db, incident_id)
        if tickets is None or not incident["ticket_number"]:
            return 0
        repo, number = incident["ticket_repo"], incident["ticket_number"]
        posted = 0
        for event in rows.events_without_ticket_comment(self._store.db, incident_id, 0):
            comment_id = tickets.comment_on_ticket(repo, number, _ticket_comment(event))
            with self._store.transaction() as db:
                rows.set_ticket_comment(db, event["id"], comment_id)
            posted += 1
        if incident["status"] == "resolved" and not incident["ticket_closed_at"]:
            tickets.close_ticket(repo, number, TICKET_CLOSE_REASON[incident["category"]])
            with self._store.transaction() as db:
                rows.update(db, incident_id, ticket_closed_at=to_iso(utcnow()))
        return posted

    # -- Page ------------------------------------------------------------------

    def page(self, incident_id: int, actor: str) -> dict:
        pager = self._need(self._effects.pager, "PagerDuty")
        self._require_analyst(actor)
        incident = rows.get(self._store.db, incident_id)
        if incident["status"] == "resolved":
            raise Invalid(f"Incident {incident_id} is resolved; there is nobody to wake.")
        try:
            pager.trigger(
                page_key(incident_id), f"Incident {incident_id}: {incident['title']}",
                severity=PAGER_SEVERITY[incident["severity"]], source="warden",
                custom_details={"kind": incident["kind"], "paged_by": actor,
                                "description": incident["description"][:1000]},
                links=[{"href": incident["ticket_url"], "text": "Ticket"}]
                if incident["ticket_url"] else None,
            )  # fmt: skip
        except Exception as error:
            raise ActionFailed(f"PagerDuty did not take the page: {error}") from error
        with self._store.transaction() as db:
            rows.update(db, incident_id, paged_at=to_iso(utcnow()))
        return self._incidents.note(incident_id, actor, "paged", f"<@{actor}> paged on-call.",
                                    {"dedup_key": page_key(incident_id)})

    def resolve_page(self, incident_id: int) -> bool:
        incident = rows.get(self._store.db, incident_id)
        pager = self._effects.pager
        if pager is None or not incident["paged_at"] or incident["page_resolved_at"]:
            return False
        if incident["status"] != "resolved":
            return False
        pager.resolve(page_key(incident_id))
        with self._store.transaction() as db:
            rows.update(db, incident_id, page_resolved_at=to_iso(utcnow()))
        return True

    # -- the sweep -------------------------------------------------------------

    def after_step(self, incident_id: int) -> None:
        """What follows any step: the ticket catches up, a resolved page is resolved."""
        for follow in (self.sync_ticket, self.resolve_page):
            try:
                follow(incident_id)
            except Exception:
                log.exception("incident.follow_up_failed",
                              extra={"incident": incident_id, "step": follow.__name__})

    def sweep(self, now: datetime | None = None) -> None:
        """Every minute: lift expired blocks, finish cut-off calls, catch tickets up."""
        now = now or utcnow()
        if self._effects.blocklist is not None:
            self.lift_expired_blocks(now)
            self._settle_blocks(now)
        with self._store.transaction() as db:
            pending = [row[0] for row in db.execute(
                """SELECT DISTINCT i.id FROM incidents i JOIN incident_events e
                   ON e.incident_id = i.id WHERE i.ticket_number IS NOT NULL
                   AND (e.ticket_comment_id IS NULL OR (i.status = 'resolved'
                   AND i.ticket_closed_at IS NULL))""").fetchall()]  # fmt: skip
            paged = [row[0] for row in db.execute(
                """SELECT id FROM incidents WHERE status = 'resolved'
                   AND paged_at IS NOT NULL AND page_resolved_at IS NULL""").fetchall()]
        for incident_id in sorted(set(pending) | set(paged)):
            self.after_step(incident_id)

    def _settle_blocks(self, now: datetime) -> None:
        stale = to_iso(now - SETTLE_AFTER)
        with self._store.transaction() as db:
            cut_off = rows.rows(db, "ip_blocks", "status IN ('blocking', 'lifting') "
                                "AND created_at <= ?", [stale])  # fmt: skip
        for block in cut_off:
            if block["status"] == "lifting":
                self._lift(block)
                continue
            self._effects.blocklist.block(block["address"])
            with self._store.transaction() as db:
                rows.move(db, "ip_blocks", block["id"], "blocking", status="blocked",
                          blocked_at=to_iso(utcnow()), outcome="settled after a restart")

    # -- helpers ---------------------------------------------------------------

    def _require_analyst(self, actor: str) -> None:
        if not self._incidents.is_analyst(actor):
            raise NotAllowed("Only the security analysts can act on incidents.")

    def _require_public_indicator(self, db, incident_id: int, address: str) -> None:
        public = [item["value"] for item in rows.indicators(db, incident_id)
                  if item["kind"] in ("ipv4", "ipv6")
                  and item["enrichment"].get("scope") == "public"]  # fmt: skip
        if address not in public:
            raise Invalid(f"{address} is not a public address of this incident; "
                          "only those can be blocked.")  # fmt: skip

    def _need(self, effect, what: str):
        if effect is None:
            raise Invalid(f"{what} is not set up here; see the README.")
        return effect

    def _failed(self, table: str, row_id: int, expected: str, incident_id: int, actor: str,
                error: Exception, what: str, keep_status: str = "failed") -> None:  # fmt: skip
        with self._store.transaction() as db:
            rows.move(db, table, row_id, expected, status=keep_status, outcome=str(error)[:500])
        self._incidents.note(incident_id, actor, "action_failed",
                             f"{what}: {_plain(str(error)[:300])}", {"table": table})
        raise ActionFailed(f"{what}: {error}") from error


def page_key(incident_id: int) -> str:
    return f"warden-incident-{incident_id}"


def _restorable(permission: dict) -> dict:
    keys = ("type", "role", "emailAddress", "domain", "allowFileDiscovery")
    return {key: permission[key] for key in keys if permission.get(key) is not None}


def _identity(permission: dict) -> tuple:
    return (permission.get("type"), permission.get("role"),
            (permission.get("emailAddress") or "").lower(), permission.get("domain"))


def _delete_if_there(drive: Drive, file_id: str, permission_id: str) -> None:
    from googleapiclient.errors import HttpError

    try:
        drive.delete_permission(file_id, permission_id)
    except HttpError as error:
        if error.resp.status != 404:  # already gone is what we wanted
            raise


def _plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ticket_body(incident: dict, indicators: list[dict]) -> str:
    lines = [
        f"**Kind:** {incident['kind']} · **Severity:** {incident['severity']} · "
        f"**Source:** {incident['source']} · **Opened:** {incident['opened_at']}",
        "", "```", incident["description"][:5000], "```", "",
    ]  # fmt: skip
    if indicators:
        lines.append("**Indicators**")
        lines += [f"- {item['kind']} `{item['value']}`" for item in indicators]
    lines.append("\nEvery later step is added here as a comment by Warden.")
    return "\n".join(lines)


def _ticket_comment(event: dict) -> str:
    # Slack's mrkdwn (<@U…>, &lt;) reads oddly on GitHub: show mentions as ids.
    text = event["detail"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return f"`{from_iso(event['at']):%Y-%m-%d %H:%M} UTC` {event['action']}: {text}"
