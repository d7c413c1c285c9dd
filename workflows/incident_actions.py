"""The card's one-click actions on outside systems: block an address at the
firewall, quarantine a Drive file and restore it; the ticket and the page go
through `workflows.incident_tickets.TicketDesk`.

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
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from state import Store
from state import incidents as rows
from state.clock import from_iso, to_iso, utcnow
from workflows.incident_tickets import ActionFailed, Pager, TicketDesk, Tickets
from workflows.incidents import IncidentsWorkflow, Invalid, NotAllowed, plain
from workflows.indicators import drive_files

log = logging.getLogger(__name__)

# A row left mid-call this long ago was cut off by a crash, not still running.
SETTLE_AFTER = timedelta(minutes=2)


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


class IncidentActions:
    def __init__(self, store: Store, incidents: IncidentsWorkflow, effects: Effects,
                 email_of=lambda slack_user_id: None) -> None:  # fmt: skip
        self._store = store
        self._incidents = incidents
        self._effects = effects
        self._email_of = email_of
        self.desk = TicketDesk(store, incidents, effects.tickets, effects.ticket_repository,
                               effects.pager)  # fmt: skip
        # One analyst's double click must not quarantine or block twice.
        self._effect_lock = threading.Lock()

    # -- Block IP --------------------------------------------------------------

    def block_ip(self, incident_id: int, actor: str, address: str) -> dict:
        blocklist = self._need(self._effects.blocklist, "IP blocking")
        self._require_analyst(actor)
        expiry = self._effects.block_expiry
        with self._store.transaction() as db:
            self._require_public_indicator(db, incident_id, address)
            live = rows.rows(db, "ip_blocks", "address = ? AND status IN ('blocking', "
                             "'blocked', 'lifting')", [address])  # fmt: skip
            if live and live[0]["status"] == "lifting":
                raise Invalid(f"The block on {address} is being lifted; try again in a minute.")
            if live:
                raise Invalid(f"{address} is already blocked (incident {live[0]['incident_id']}).")
            block_id = rows.insert(
                db, "ip_blocks", incident_id=incident_id, address=address, status="blocking",
                blocked_by=actor, expires_at=to_iso(utcnow() + expiry) if expiry else None,
            )  # fmt: skip
        try:
            added = blocklist.block(address)
        except Exception as error:
            self._failed("ip_blocks", block_id, "blocking", incident_id, actor, error,
                         f"Blocking {address} failed")  # fmt: skip
        until = f" until {utcnow() + expiry:%a %d %b}" if expiry else ""
        with self._store.transaction() as db:
            outcome = "added to the block list" if added else "was already in the block list"
            if not rows.move(db, "ip_blocks", block_id, "blocking", status="blocked",
                             blocked_at=to_iso(utcnow()), outcome=outcome):  # fmt: skip
                return rows.get(db, incident_id)  # the sweep settled it meanwhile
            return self._incidents.note_in(
                db, incident_id, actor, "ip_blocked",
                f"<@{actor}> blocked `{address}` at the firewall{until}.",
                {"address": address, "block": block_id},
            )  # fmt: skip

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
            if not rows.move(db, "ip_blocks", block["id"], "lifting", status="lifted",
                             lifted_at=to_iso(utcnow())):  # fmt: skip
                return  # another sweep lifted it first
            self._incidents.note_in(
                db, block["incident_id"], None, "ip_unblocked",
                f"The block on `{block['address']}` expired and was lifted.",
                {"address": block["address"], "block": block["id"]},
            )  # fmt: skip

    # -- Quarantine / Restore --------------------------------------------------

    def quarantine(self, incident_id: int, actor: str, file_id: str) -> dict:
        self._need(self._effects.drive, "Drive")
        self._require_analyst(actor)
        with self._effect_lock:
            incident = rows.get(self._store.db, incident_id)
            if file_id not in drive_files(incident, rows.indicators(self._store.db, incident_id)):
                raise Invalid("That file is not part of this incident.")
            if self._in_quarantine(file_id):
                raise Invalid("That file is already in quarantine.")
            drive, owner, name = self._owner_drive(incident, file_id)
            to_remove = [p for p in drive.permissions(file_id) if p.get("role") != "owner"]
            with self._store.transaction() as db:
                # What will be removed is written down before anything is removed,
                # so Restore can put back even a quarantine a crash cut short.
                quarantine_id = rows.insert(
                    db, "quarantines", incident_id=incident_id, file_id=file_id,
                    file_name=name, owner=owner, status="quarantining",
                    removed=[_restorable(p) for p in to_remove], quarantined_by=actor,
                )  # fmt: skip
        try:
            for permission in to_remove:
                _delete_if_there(drive, file_id, permission["id"])
        except Exception as error:
            self._failed("quarantines", quarantine_id, "quarantining", incident_id, actor, error,
                         "Quarantine failed part-way; Restore sharing puts back what was "
                         "removed", keep_status="quarantined")  # fmt: skip
        with self._store.transaction() as db:
            if not rows.move(db, "quarantines", quarantine_id, "quarantining",
                             status="quarantined",
                             outcome=f"removed {len(to_remove)} permission(s)"):  # fmt: skip
                return rows.get(db, incident_id)  # the sweep settled it meanwhile
            return self._incidents.note_in(
                db, incident_id, actor, "file_quarantined",
                f"<@{actor}> quarantined *{plain(name or file_id)}*: removed "
                f"{len(to_remove)} share(s); only its owner has access now.",
                {"file_id": file_id, "removed": len(to_remove)},
            )  # fmt: skip

    def restore(self, quarantine_id: int, actor: str) -> dict:
        self._need(self._effects.drive, "Drive")
        self._require_analyst(actor)
        with self._store.transaction() as db:
            found = rows.rows(db, "quarantines", "id = ?", [quarantine_id])
            if not found or found[0]["status"] != "quarantined":
                raise Invalid("That file is not in quarantine any more.")
            rows.move(db, "quarantines", quarantine_id, "quarantined", status="restoring")
        return self._put_back(found[0], actor)

    def _put_back(self, quarantine: dict, actor: str | None) -> dict:
        drive = self._effects.drive.drive(quarantine["owner"])
        file_id, incident_id = quarantine["file_id"], quarantine["incident_id"]
        try:
            present = {_identity(p) for p in drive.permissions(file_id)}
            for body in quarantine["removed"]:
                if _identity(body) not in present and not _expired(body):
                    drive.create_permission(file_id, body, notify=False)
        except Exception as error:
            self._failed("quarantines", quarantine["id"], "restoring", incident_id, actor,
                         error, "Restoring the sharing failed; try again",
                         keep_status="quarantined")  # fmt: skip
        with self._store.transaction() as db:
            if not rows.move(db, "quarantines", quarantine["id"], "restoring",
                             status="restored", restored_by=actor or "warden",
                             restored_at=to_iso(utcnow())):  # fmt: skip
                return rows.get(db, incident_id)  # finished by another pass meanwhile
            name = plain(quarantine["file_name"] or file_id)
            who = f"<@{actor}>" if actor else "Warden"
            return self._incidents.note_in(
                db, incident_id, actor, "file_restored",
                f"{who} restored the sharing of *{name}* ({len(quarantine['removed'])} share(s)).",
                {"file_id": file_id},
            )  # fmt: skip

    def _in_quarantine(self, file_id: str) -> bool:
        return bool(rows.rows(self._store.db, "quarantines",
                              "file_id = ? AND status IN ('quarantining', 'quarantined', "
                              "'restoring')", [file_id]))  # fmt: skip

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

    # -- tickets and pages -----------------------------------------------------

    def create_ticket(self, incident_id: int, actor: str) -> dict:
        self._require_analyst(actor)
        return self.desk.create_ticket(incident_id, actor)

    def page(self, incident_id: int, actor: str) -> dict:
        self._require_analyst(actor)
        return self.desk.page(incident_id, actor)

    # -- the sweep -------------------------------------------------------------

    def after_step(self, incident_id: int) -> None:
        """What follows any step: the ticket catches up, a resolved page is resolved."""
        for follow in (self.desk.sync_ticket, self.desk.resolve_page):
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
        if self._effects.drive is not None:
            self._settle_quarantines(now)
        try:
            self.desk.send_requested_pages(to_iso(now - SETTLE_AFTER))
        except Exception:
            log.exception("incident.page_settle_failed")
        for incident_id in self.desk.behind():
            self.after_step(incident_id)

    def _cut_off(self, table: str, statuses: tuple[str, ...], now: datetime) -> list[dict]:
        """Rows left mid-call long enough ago that no call is still running."""
        marks = ", ".join("?" for _ in statuses)
        return rows.rows(self._store.db, table,
                         f"status IN ({marks}) AND status_at <= ?",
                         [*statuses, to_iso(now - SETTLE_AFTER)])  # fmt: skip

    def _settle_blocks(self, now: datetime) -> None:
        for block in self._cut_off("ip_blocks", ("blocking", "lifting"), now):
            if block["status"] == "lifting":
                self._lift(block)
                continue
            try:
                self._effects.blocklist.block(block["address"])
            except Exception as error:
                log.warning("incident.settle_block_failed", extra={"block": block["id"]})
                with self._store.transaction() as db:
                    rows.move(db, "ip_blocks", block["id"], "blocking", status="failed",
                              outcome=str(error)[:500])  # fmt: skip
                continue
            with self._store.transaction() as db:
                if not rows.move(db, "ip_blocks", block["id"], "blocking", status="blocked",
                                 blocked_at=to_iso(utcnow()),
                                 outcome="settled after a restart"):  # fmt: skip
                    continue
                self._incidents.note_in(
                    db, block["incident_id"], None, "ip_blocked",
                    f"A block on `{block['address']}` cut off by a restart was finished.",
                    {"address": block["address"], "block": block["id"]},
                )  # fmt: skip

    def _settle_quarantines(self, now: datetime) -> None:
        """A quarantine cut off part-way is quarantined (Restore knows what was removed);
        a restore cut off part-way is finished."""
        for quarantine in self._cut_off("quarantines", ("quarantining", "restoring"), now):
            if quarantine["status"] == "restoring":
                try:
                    self._put_back(quarantine, None)
                except ActionFailed:
                    log.warning("incident.settle_restore_failed",
                                extra={"quarantine": quarantine["id"]})
                continue
            with self._store.transaction() as db:
                rows.move(db, "quarantines", quarantine["id"], "quarantining",
                          status="quarantined", outcome="cut off by a restart")  # fmt: skip

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

    def _failed(self, table: str, row_id: int, expected: str, incident_id: int,
                actor: str | None, error: Exception, what: str,
                keep_status: str = "failed") -> None:  # fmt: skip
        log.warning("incident.action_failed", extra={"table": table, "row": row_id},
                    exc_info=error)  # fmt: skip
        with self._store.transaction() as db:
            rows.move(db, table, row_id, expected, status=keep_status, outcome=str(error)[:500])
            self._incidents.note_in(db, incident_id, actor, "action_failed",
                                    f"{what}: {plain(str(error)[:300])}", {"table": table})
        raise ActionFailed(f"{what}: {error}") from error


def _restorable(permission: dict) -> dict:
    """What creates the permission again; a share that was due to expire keeps its
    expiry (one already past by the restore is dropped there)."""
    keys = ("type", "role", "emailAddress", "domain", "allowFileDiscovery", "expirationTime")
    return {key: permission[key] for key in keys if permission.get(key) is not None}


def _expired(permission: dict) -> bool:
    expires = permission.get("expirationTime")
    return bool(expires) and from_iso(expires.replace("Z", "+00:00")) <= utcnow()


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


