"""The incident's ticket (a GitHub issue) and its page (PagerDuty), kept in step
with the timeline.

Neither service has an idempotency key we can lean on for a new ticket, so
one lock serializes creating, commenting and closing: a double click opens
one issue and a sweep racing a click posts each step once. A page is
requested in the store before it is sent and marked paged after: a request
a crash left unsent is sent again by the sweep, which is safe because
PagerDuty folds a repeated trigger with the same dedup key into one alert.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Protocol

from state import Store
from state import incidents as rows
from state.clock import from_iso, to_iso, utcnow
from workflows.incidents import IncidentsWorkflow, Invalid

log = logging.getLogger(__name__)

PAGER_SEVERITY = {"low": "info", "medium": "warning", "high": "error", "critical": "critical"}
TICKET_CLOSE_REASON = {"true_positive": "completed", "false_positive": "not_planned",
                       "benign": "not_planned"}  # fmt: skip


class ActionFailed(Exception):
    """The outside system refused; the message says what it said."""


class Tickets(Protocol):
    def open_ticket(self, full_name: str, title: str, body: str, labels=()): ...
    def comment_on_ticket(self, full_name: str, number: int, body: str) -> int: ...
    def close_ticket(self, full_name: str, number: int, reason: str = "completed") -> None: ...


class Pager(Protocol):
    def trigger(self, dedup_key: str, summary: str, *, severity: str, source: str,
                custom_details: dict | None = None, links: list | None = None) -> str: ...
    def resolve(self, dedup_key: str) -> None: ...


def page_key(incident_id: int) -> str:
    return f"warden-incident-{incident_id}"


class TicketDesk:
    def __init__(self, store: Store, incidents: IncidentsWorkflow, tickets: Tickets | None,
                 repository: str | None, pager: Pager | None) -> None:  # fmt: skip
        self._store = store
        self._incidents = incidents
        self._tickets = tickets
        self._repository = repository
        self._pager = pager
        self._ticket_lock = threading.Lock()

    def create_ticket(self, incident_id: int, actor: str) -> dict:
        if self._tickets is None:
            raise Invalid("GitHub tickets are not set up here; see the README.")
        with self._ticket_lock:
            incident = rows.get(self._store.db, incident_id)
            if incident["ticket_number"]:
                raise Invalid(f"Incident {incident_id} already has ticket "
                              f"#{incident['ticket_number']}.")  # fmt: skip
            events = rows.events(self._store.db, incident_id)
            body = ticket_body(incident, rows.indicators(self._store.db, incident_id), events)
            try:
                ticket = self._tickets.open_ticket(
                    self._repository, f"Incident {incident_id}: {incident['title']}", body,
                    labels=["incident", incident["severity"]],
                )  # fmt: skip
            except Exception as error:
                raise ActionFailed(f"GitHub did not take the ticket: {error}") from error
            with self._store.transaction() as db:
                rows.update(db, incident_id, ticket_repo=self._repository,
                            ticket_number=ticket.number, ticket_url=ticket.url)  # fmt: skip
                incident = self._incidents.note_in(
                    db, incident_id, actor, "ticket_created",
                    f"<@{actor}> opened ticket <{ticket.url}|#{ticket.number}>.",
                    {"repository": self._repository, "number": ticket.number},
                )  # fmt: skip
                # The body told the timeline so far; the ticket needs no note of itself.
                for event in rows.events_without_ticket_comment(db, incident_id):
                    rows.set_ticket_comment(db, event["id"], 0)
                return incident

    def sync_ticket(self, incident_id: int) -> int:
        """Comment every step not yet in the ticket; close it once resolved."""
        if self._tickets is None:
            return 0
        with self._ticket_lock:
            incident = rows.get(self._store.db, incident_id)
            if not incident["ticket_number"]:
                return 0
            repo, number = incident["ticket_repo"], incident["ticket_number"]
            posted = 0
            for event in rows.events_without_ticket_comment(self._store.db, incident_id):
                comment_id = self._tickets.comment_on_ticket(repo, number, ticket_comment(event))
                with self._store.transaction() as db:
                    rows.set_ticket_comment(db, event["id"], comment_id)
                posted += 1
            if incident["status"] == "resolved" and not incident["ticket_closed_at"]:
                self._tickets.close_ticket(repo, number, TICKET_CLOSE_REASON[incident["category"]])
                with self._store.transaction() as db:
                    rows.update(db, incident_id, ticket_closed_at=to_iso(utcnow()))
            return posted

    def page(self, incident_id: int, actor: str) -> dict:
        if self._pager is None:
            raise Invalid("PagerDuty is not set up here; see the README.")
        with self._store.transaction() as db:
            incident = rows.get(db, incident_id)
            if incident["status"] == "resolved":
                raise Invalid(f"Incident {incident_id} is resolved; there is nobody to wake.")
            if incident["paged_at"] or incident["page_requested_at"]:
                raise Invalid(f"On-call was already paged for incident {incident_id}.")
            rows.update(db, incident_id, page_requested_at=to_iso(utcnow()))
        try:
            self._trigger(incident, actor)
        except Exception as error:
            with self._store.transaction() as db:
                rows.update(db, incident_id, page_requested_at=None)
            raise ActionFailed(f"PagerDuty did not take the page: {error}") from error
        with self._store.transaction() as db:
            rows.update(db, incident_id, paged_at=to_iso(utcnow()))
            return self._incidents.note_in(db, incident_id, actor, "paged",
                                           f"<@{actor}> paged on-call.",
                                           {"dedup_key": page_key(incident_id)})  # fmt: skip

    def _trigger(self, incident: dict, actor: str | None) -> None:
        self._pager.trigger(
            page_key(incident["id"]), f"Incident {incident['id']}: {incident['title']}",
            severity=PAGER_SEVERITY[incident["severity"]], source="warden",
            custom_details={"kind": incident["kind"], "paged_by": actor or "warden",
                            "description": incident["description"][:1000]},
            links=[{"href": incident["ticket_url"], "text": "Ticket"}]
            if incident["ticket_url"] else None,
        )  # fmt: skip

    def send_requested_pages(self, older_than: str) -> int:
        """Pages a stop cut off between their request and PagerDuty's answer."""
        if self._pager is None:
            return 0
        cut_off = self._store.db.execute(
            """SELECT id FROM incidents WHERE page_requested_at <= ? AND paged_at IS NULL
               AND status != 'resolved'""", [older_than]).fetchall()  # fmt: skip
        for (incident_id,) in cut_off:
            self._trigger(rows.get(self._store.db, incident_id), None)
            with self._store.transaction() as db:
                rows.update(db, incident_id, paged_at=to_iso(utcnow()))
                self._incidents.note_in(db, incident_id, None, "paged",
                                        "On-call was paged (the request was cut off by a "
                                        "restart and sent again).",
                                        {"dedup_key": page_key(incident_id)})  # fmt: skip
        return len(cut_off)

    def resolve_page(self, incident_id: int) -> bool:
        incident = rows.get(self._store.db, incident_id)
        if self._pager is None or not incident["paged_at"] or incident["page_resolved_at"]:
            return False
        if incident["status"] != "resolved":
            return False
        self._pager.resolve(page_key(incident_id))
        with self._store.transaction() as db:
            rows.update(db, incident_id, page_resolved_at=to_iso(utcnow()))
        return True

    def behind(self) -> list[int]:
        """Incidents whose ticket or page has not caught up with their timeline."""
        found = self._store.db.execute(
            """SELECT DISTINCT i.id FROM incidents i LEFT JOIN incident_events e
               ON e.incident_id = i.id AND e.ticket_comment_id IS NULL
               WHERE (i.ticket_number IS NOT NULL AND (e.id IS NOT NULL
                      OR (i.status = 'resolved' AND i.ticket_closed_at IS NULL)))
                  OR (i.status = 'resolved' AND i.paged_at IS NOT NULL
                      AND i.page_resolved_at IS NULL)"""
        ).fetchall()
        return sorted(row[0] for row in found)


def ticket_body(incident: dict, indicators: list[dict], events: list[dict]) -> str:
    lines = [
        f"**Kind:** {incident['kind']} · **Severity:** {incident['severity']} · "
        f"**Source:** {incident['source']} · **Opened:** {incident['opened_at']}",
        "", fenced(incident["description"][:5000]), "",
    ]  # fmt: skip
    if indicators:
        lines.append("**Indicators**")
        lines += [f"- {item['kind']} `{item['value']}`" for item in indicators]
    lines += ["", "**Timeline so far**", fenced("\n".join(map(_event_line, events)))]
    lines.append("\nEvery later step is added here as a comment by Warden.")
    return "\n".join(lines)


def _event_line(event: dict) -> str:
    return f"{from_iso(event['at']):%Y-%m-%d %H:%M} UTC {event['action']}: {_unescaped(event)}"


def _unescaped(event: dict) -> str:
    """Details are Slack mrkdwn, escaped for Slack; GitHub gets the text itself."""
    return event["detail"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def fenced(text: str) -> str:
    """Reporter text as a code block it cannot close: the fence outruns its backticks,
    so none of it is rendered as Markdown or pings anyone on GitHub."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def ticket_comment(event: dict) -> str:
    # Details may quote people: fenced, nothing in them renders or pings on GitHub.
    return f"{from_iso(event['at']):%Y-%m-%d %H:%M} UTC, {event['action']}:\n" + fenced(
        _unescaped(event))
