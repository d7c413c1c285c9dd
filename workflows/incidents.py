"""Incidents: open from a report or an IDS alert, assign, act, follow up, resolve.

An incident is written with its indicators, its first timeline event, its
assignee and its Slack card in one transaction, so a restart never finds
half of one. Online enrichment runs after that, outside the transaction:
a provider that is slow or down delays a note on the card, never the
incident. Every step is a timeline event: it reaches the card's thread
through the `Notifier`, the ticket through `TicketSync` and the audit log
here. Card buttons are for analysts only, checked here on every call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlite_utils import Database

from state import Store, audit, cursors
from state import incidents as rows
from state.clock import from_iso, to_iso, utcnow
from workflows.enrichment import Stopped
from workflows.incident_model import (
    Alert,
    Enricher,
    IncidentPolicy,
    Invalid,
    NotAllowed,
    Notifier,
    Report,
    plain,
)
from workflows.incident_tasks import FollowUps
from workflows.indicators import Indicator, extract, offline_facts

log = logging.getLogger(__name__)

SEVERITIES = ["low", "medium", "high", "critical"]
# Suricata's 1 is its most severe; it has no "critical" of its own.
SURICATA_SEVERITY = {1: "high", 2: "medium", 3: "low"}
CATEGORIES = {
    "true_positive": "true positive",
    "false_positive": "false positive",
    "benign": "benign",
}
ROTATION_CURSOR = "incidents.rotation"
ENRICH_RETRY = timedelta(minutes=30)
TITLE_LENGTH = 150


class IncidentsWorkflow:
    def __init__(
        self, store: Store, notifier: Notifier, policy: IncidentPolicy,
        analysts: Callable[[], list[str]], enricher: Enricher | None = None,
    ) -> None:  # fmt: skip
        self._store = store
        self._notifier = notifier
        self._policy = policy
        self._analysts = analysts
        self._enricher = enricher
        self._queued: set[int] = set()
        self._queued_lock = threading.Lock()
        self.tasks = FollowUps(store, self, notifier, policy.follow_up_cadence)

    # -- opening -------------------------------------------------------------

    def report(self, report: Report) -> dict:
        """Open an incident from a person's report; returns it as stored."""
        kind = self._known_kind(report.kind)
        description = report.description.strip()
        if not description:
            raise Invalid("Say what happened, e.g. `/securityalert a mail asking for my password`.")
        title = _title(description)
        found = extract(" ".join(filter(None, [description, report.link])))
        with self._store.transaction() as db:
            incident_id = rows.create(
                db, kind=kind, severity="medium", source=report.source, title=title,
                description=description, link=report.link, reporter=report.reporter,
                quoted_author=report.quoted_author, quoted_permalink=report.quoted_permalink,
            )  # fmt: skip
            incident = self._open(db, incident_id, found, report.reporter, "reported",
                                  f"Reported by <@{report.reporter}>.")  # fmt: skip
        return incident

    def ingest(self, alerts: list[Alert], after: Callable[[Database], None] | None = None) -> dict:
        """Open or update incidents for a batch of alerts, in one transaction with `after`
        (the log position), so a restart neither skips nor repeats an alert."""
        opened, updated = [], set()
        with self._store.transaction() as db:
            for alert in alerts:
                if alert.severity > self._policy.min_suricata_severity:
                    continue
                incident_id, new = self._ingest_one(db, alert)
                (opened.append if new else updated.add)(incident_id)
            for incident_id in updated - set(opened):
                self._notifier.changed(db, rows.get(db, incident_id))
            if after is not None:
                after(db)
        return {"opened": opened, "updated": sorted(updated - set(opened))}

    def _ingest_one(self, db: Database, alert: Alert) -> tuple[int, bool]:
        window_start = alert.seen_at - self._policy.dedup_window
        existing = rows.open_by_dedup_key(db, alert.dedup_key, window_start)
        if existing is not None:
            last_seen = max(from_iso(existing["last_seen_at"]), alert.seen_at)
            rows.update(db, existing["id"], alert_count=existing["alert_count"] + 1,
                        last_seen_at=to_iso(last_seen))  # fmt: skip
            return existing["id"], False
        incident_id = rows.create(
            db, kind="ids alert", severity=SURICATA_SEVERITY.get(alert.severity, "low"),
            source="suricata", title=_title(alert.signature), description=alert.describe(),
            dedup_key=alert.dedup_key, first_seen_at=to_iso(alert.seen_at),
            last_seen_at=to_iso(alert.seen_at),
        )  # fmt: skip
        found = [Indicator(_ip_kind(ip), ip) for ip in (alert.src_ip, alert.dest_ip) if ip]
        self._open(db, incident_id, found, None, "alerted", plain(alert.describe()))
        return incident_id, True

    def _open(self, db: Database, incident_id: int, found: list[Indicator],
              actor: str | None, action: str, detail: str) -> dict:  # fmt: skip
        for indicator in found:
            rows.add_indicator(db, incident_id, indicator.kind, indicator.value,
                               offline_facts(indicator))  # fmt: skip
        assignee = self._next_in_rotation(db)
        rows.update(db, incident_id, assignee=assignee)
        incident = rows.get(db, incident_id)
        audit.record(db, actor or "suricata", "incident.opened", _subject(incident_id),
                     {"kind": incident["kind"], "source": incident["source"],
                      "assignee": assignee, "indicators": len(found)})  # fmt: skip
        self._notifier.opened(db, incident)
        self._event(db, incident, actor, action, detail)
        if assignee:
            self._event(db, incident, None, "assigned", f"Assigned to <@{assignee}> by rotation.")
            self._notifier.assigned(db, incident)
        return incident

    def _next_in_rotation(self, db: Database) -> str | None:
        """Analysts take turns; the turn is stored, so a restart continues it."""
        analysts = self._analysts()
        if not analysts:
            return None
        last = cursors.get(db, ROTATION_CURSOR)
        index = (analysts.index(last) + 1) % len(analysts) if last in analysts else 0
        cursors.put(db, ROTATION_CURSOR, analysts[index])
        return analysts[index]

    def _known_kind(self, kind: str | None) -> str:
        """The kind asked for; a report without one (a bare `/securityalert`) is
        "other", or the policy's last kind when it has no "other"."""
        kinds = self._policy.kinds
        if not kind:
            return "other" if "other" in kinds else kinds[-1]
        wanted = kind.strip().lower()
        if wanted not in kinds:
            raise Invalid(f"Unknown kind {kind!r}; choose one of: {', '.join(kinds)}.")
        return wanted

    # -- enrichment ------------------------------------------------------------

    def enrich(self, incident_id: int, actor: str | None = None) -> dict:
        """Ask the online providers about every indicator; notes say which failed."""
        if actor is not None:
            self.require_analyst(actor)
        found = rows.indicators(self._store.db, incident_id)  # a read: no write lock
        notes: list[str] = []
        results = []
        for item in found:
            indicator = Indicator(item["kind"], item["value"])
            fresh = actor is not None  # an analyst asking again wants today's answer
            online, failed = (self._enricher.online(indicator, fresh) if self._enricher
                              else ({}, []))  # fmt: skip
            notes.extend(failed)
            results.append((item, online, {**offline_facts(indicator), **online}))
        with self._store.transaction() as db:
            for item, _online, enrichment in results:
                rows.set_enrichment(db, incident_id, item["kind"], item["value"], enrichment)
            rows.update(db, incident_id, intel_notes=sorted(set(notes)),
                        enriched_at=to_iso(utcnow()))
            incident = rows.get(db, incident_id)
            detail = _enrichment_summary(results, notes)
            if actor is not None or notes or any(online for _, online, _ in results):
                self._event(db, incident, actor, "enriched", detail)
            audit.record(db, actor or "warden", "incident.enriched", _subject(incident_id),
                         {"indicators": len(results), "failed": sorted(set(notes))})  # fmt: skip
            self._notifier.changed(db, incident)
        return incident

    def enrich_soon(self, incident_id: int, submit: Callable, then: Callable = lambda: None,
                    ) -> None:  # fmt: skip
        """Queue the online enrichment (`submit` is an executor's); once per incident."""
        with self._queued_lock:
            if incident_id in self._queued:
                return
            self._queued.add(incident_id)
        try:
            submit(self._enrich_queued, incident_id, then)
        except RuntimeError:  # the pool is shut: stopping; the next start catches up
            with self._queued_lock:
                self._queued.discard(incident_id)
            log.info("incident.enrich_deferred", extra={"incident": incident_id})

    def _enrich_queued(self, incident_id: int, then: Callable) -> None:
        try:
            self.enrich(incident_id)
            then()
        except Stopped:
            log.info("incident.enrich_deferred", extra={"incident": incident_id})
        except Exception:  # the card says what is missing; the next sweep tries again
            log.exception("incident.enrich_failed", extra={"incident": incident_id})
        finally:
            with self._queued_lock:
                self._queued.discard(incident_id)

    def enrich_missed(self, submit: Callable, then: Callable = lambda: None,
                      older_than: timedelta = timedelta(minutes=1)) -> int:  # fmt: skip
        """Queue enrichment for incidents a stop cut off before it ran, and again (every
        half hour, for a day) for those a provider failed."""
        now = utcnow()
        since = now - timedelta(days=1)  # older ones are past helping
        missed = rows.needing_enrichment(self._store.db, since, now - older_than,
                                         now - ENRICH_RETRY)  # fmt: skip
        for incident_id in missed:
            self.enrich_soon(incident_id, submit, then)
        return len(missed)

    # -- analysts' steps -------------------------------------------------------

    def take(self, incident_id: int, actor: str) -> dict:
        return self._assign(incident_id, actor, actor, "took")

    def reassign(self, incident_id: int, actor: str, to: str) -> dict:
        self.require_analyst(actor)
        if to not in self._analysts():
            raise Invalid(f"<@{to}> is not one of the security analysts; choose an analyst.")
        return self._assign(incident_id, actor, to, "reassigned")

    def _assign(self, incident_id: int, actor: str, to: str, action: str) -> dict:
        self.require_analyst(actor)
        with self._store.transaction() as db:
            incident = self.unresolved(db, incident_id)
            now = to_iso(utcnow())
            acknowledged = incident["acknowledged_at"] or now
            rows.update(db, incident_id, assignee=to, status="acknowledged",
                        acknowledged_at=acknowledged)  # fmt: skip
            incident = rows.get(db, incident_id)
            text = f"<@{actor}> took the incident." if action == "took" else (
                f"<@{actor}> reassigned the incident to <@{to}>.")
            self._event(db, incident, actor, action, text)
            audit.record(db, actor, f"incident.{action}", _subject(incident_id), {"assignee": to})
            self._notifier.changed(db, incident)
            if to != actor:
                self._notifier.assigned(db, incident)
        return incident

    def resolve(self, incident_id: int, actor: str, resolution: str, category: str) -> dict:
        self.require_analyst(actor)
        resolution = resolution.strip()
        if category not in CATEGORIES:
            raise Invalid(f"Choose a category: {', '.join(CATEGORIES.values())}.")
        if not resolution:
            raise Invalid("Say how it was resolved; the reporter and the ticket will see it.")
        with self._store.transaction() as db:
            incident = self.unresolved(db, incident_id)
            now = to_iso(utcnow())
            rows.update(db, incident_id, status="resolved", resolved_at=now, resolved_by=actor,
                        resolution=resolution, category=category,
                        acknowledged_at=incident["acknowledged_at"] or now)  # fmt: skip
            incident = rows.get(db, incident_id)
            self._event(db, incident, actor, "resolved",
                        f"<@{actor}> resolved it as *{CATEGORIES[category]}*: {plain(resolution)}")
            audit.record(db, actor, "incident.resolved", _subject(incident_id),
                         {"category": category})  # fmt: skip
            self._notifier.changed(db, incident)
            if incident["reporter"]:
                self._notifier.outcome(db, incident)
        return incident

    def thank(self, incident_id: int, actor: str) -> dict:
        self.require_analyst(actor)
        with self._store.transaction() as db:
            incident = rows.get(db, incident_id)
            if not incident["reporter"]:
                raise Invalid("Nobody reported this one: it came from the IDS.")
            if incident["thanked_at"]:
                raise Invalid(f"<@{incident['reporter']}> was already thanked.")
            rows.update(db, incident_id, thanked_at=to_iso(utcnow()))
            incident = rows.get(db, incident_id)
            self._notifier.thanked(db, incident, self._policy.tips.get(incident["kind"], []))
            self._event(db, incident, actor, "thanked", f"<@{actor}> thanked the reporter.")
            audit.record(db, actor, "incident.thanked", _subject(incident_id))
        return incident

    def note(self, incident_id: int, actor: str | None, action: str, detail: str,
             audit_details: dict | None = None) -> dict:  # fmt: skip
        """A step taken elsewhere (a block, a page): timeline, audit, card."""
        with self._store.transaction() as db:
            return self.note_in(db, incident_id, actor, action, detail, audit_details)

    def note_in(self, db: Database, incident_id: int, actor: str | None, action: str,
                detail: str, audit_details: dict | None = None) -> dict:  # fmt: skip
        """`note` inside the caller's transaction, with the state change it reports."""
        incident = rows.get(db, incident_id)
        self._event(db, incident, actor, action, detail)
        audit.record(db, actor or "warden", f"incident.{action}", _subject(incident_id),
                     audit_details)
        self._notifier.changed(db, incident)
        return incident

    # -- helpers ---------------------------------------------------------------

    def is_analyst(self, person: str) -> bool:
        return person in self._analysts()

    def require_analyst(self, actor: str) -> None:
        if actor not in self._analysts():
            raise NotAllowed("Only the security analysts can act on incidents.")

    def unresolved(self, db: Database, incident_id: int) -> dict:
        incident = rows.get(db, incident_id)
        if incident["status"] == "resolved":
            raise Invalid(f"Incident {incident_id} is already resolved.")
        return incident

    def _event(self, db: Database, incident: dict, actor: str | None, action: str,
               detail: str) -> None:  # fmt: skip
        event_id = rows.add_event(db, incident["id"], actor, action, detail)
        event = {"id": event_id, "actor": actor, "action": action, "detail": detail}
        self._notifier.event(db, incident, event)


def _title(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else "Report"
    return first_line if len(first_line) <= TITLE_LENGTH else first_line[: TITLE_LENGTH - 1] + "…"


def _ip_kind(address: str) -> str:
    return "ipv6" if ":" in address else "ipv4"


def _subject(incident_id: int) -> str:
    return f"incident:{incident_id}"


def _enrichment_summary(results: list[tuple[dict, dict, dict]], notes: list[str]) -> str:
    flagged = [plain(item["value"]) for item, online, _ in results if online.get("malicious")]
    parts = [f"Enriched {len(results)} indicator(s)"]
    if flagged:
        parts.append(f"flagged as malicious: {', '.join(flagged)}")
    if notes:  # a provider's own error text: quoted, never trusted
        parts.append(f"unavailable: {plain('; '.join(sorted(set(notes))))}")
    return "; ".join(parts) + "."
