"""Numbered schema migrations, applied in order when a `Store` opens.

The schema history of Warden lives at the bottom of this module. Each
migration is a function registered with a number and a name::

    @migration(6, "grants")
    def _grants(db: Database) -> None:
        db.execute("CREATE TABLE grants (...)")

To add tables for a new workflow, append a migration with the next free
number; never edit one that has shipped, because databases that already
applied it will not run it again. That is also why the DDL lives here and
not beside the queries in `audit`, `outbox`, ...: a migration is frozen in
time, while the modules keep moving.

Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with
its row in ``_migrations`` (number, name, applied_at), so a failing one
rolls back alone and the ones before it stay applied. A number registered
twice fails at import.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from state.clock import to_iso, utcnow
from state.errors import MigrationError
from state.tx import immediate

MigrationFunction = Callable[[Database], None]

_MIGRATIONS_TABLE = "_migrations"


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    apply: MigrationFunction


class Registry:
    """An ordered set of migrations; `REGISTRY` holds Warden's."""

    def __init__(self) -> None:
        self._by_number: dict[int, Migration] = {}

    def register(self, number: int, name: str) -> Callable[[MigrationFunction], MigrationFunction]:
        """Decorator: register the function as migration `number`."""
        if number < 1:
            raise MigrationError(f"migration numbers start at 1, got {number} for {name!r}")
        taken = self._by_number.get(number)
        if taken is not None:
            raise MigrationError(
                f"migration {number} is registered twice ({taken.name!r} and {name!r});"
                f" give {name!r} the next free number, {max(self._by_number) + 1}"
            )

        def decorate(fn: MigrationFunction) -> MigrationFunction:
            self._by_number[number] = Migration(number, name, fn)
            return fn

        return decorate

    def ordered(self) -> list[Migration]:
        return [self._by_number[n] for n in sorted(self._by_number)]

    def apply(self, db: Database) -> list[int]:
        """Apply pending migrations in order; return the numbers applied."""
        if db.conn.in_transaction:
            raise MigrationError("migrations need their own transactions; commit first")
        _ensure_migrations_table(db)
        self._check_history(_applied(db))

        applied_now = []
        for migration in self.ordered():
            if _apply_one(db, migration):
                applied_now.append(migration.number)
        return applied_now

    def _check_history(self, applied: dict[int, str]) -> None:
        unknown = sorted(set(applied) - set(self._by_number))
        if unknown:
            raise MigrationError(
                f"the database has migrations {unknown} that this code does not know;"
                " it was opened by a newer Warden - upgrade instead of downgrading"
            )
        if not applied:
            return
        late = [n for n in self._by_number if n not in applied and n < max(applied)]
        if late:
            raise MigrationError(
                f"migrations {sorted(late)} are new but numbered below {max(applied)},"
                " which is already applied; renumber them after the highest one"
            )


def _ensure_migrations_table(db: Database) -> None:
    db.execute(
        f"""CREATE TABLE IF NOT EXISTS {_MIGRATIONS_TABLE} (
            number INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )"""
    )


def _applied(db: Database) -> dict[int, str]:
    rows = db.execute(f"SELECT number, name FROM {_MIGRATIONS_TABLE}").fetchall()
    return {number: name for number, name in rows}


def _apply_one(db: Database, migration: Migration) -> bool:
    try:
        with immediate(db):
            # Checked again under the write lock: another process may have
            # opened the same file and applied it a moment ago.
            if migration.number in _applied(db):
                return False
            migration.apply(db)
            db.table(_MIGRATIONS_TABLE).insert(
                {
                    "number": migration.number,
                    "name": migration.name,
                    "applied_at": to_iso(utcnow()),
                }
            )
    except Exception as error:
        raise MigrationError(
            f"migration {migration.number} ({migration.name}) failed and was rolled back: {error}"
        ) from error
    return True


REGISTRY = Registry()
migration = REGISTRY.register


def apply_migrations(db: Database, registry: Registry = REGISTRY) -> list[int]:
    """Apply Warden's pending migrations (or `registry`'s); return the numbers applied."""
    return registry.apply(db)


# ---------------------------------------------------------------------------
# Warden's schema history. Append below; never edit a shipped migration.
# ---------------------------------------------------------------------------


@migration(1, "audit log")
def _audit_log(db: Database) -> None:
    # Ids are assigned by `audit.record`, not by SQLite: the hash covers the
    # id, so it must be known before the insert. UNIQUE(prev_hash) makes a
    # fork impossible: two rows can never follow the same row.
    db.execute(
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}',
            prev_hash TEXT NOT NULL UNIQUE,
            hash TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX audit_log_at ON audit_log (at)")
    db.execute("CREATE INDEX audit_log_subject ON audit_log (subject)")
    for event in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER audit_log_no_{event.lower()}
            BEFORE {event} ON audit_log
            BEGIN
                SELECT RAISE(ABORT, 'audit_log is append-only');
            END"""
        )


@migration(2, "outbox")
def _outbox(db: Database) -> None:
    db.execute(
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            method TEXT NOT NULL,
            payload TEXT NOT NULL,
            dedup_key TEXT UNIQUE,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            sent_at TEXT,
            response TEXT
        )"""
    )
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_attempt_at)")


@migration(3, "people")
def _people(db: Database) -> None:
    # NOCASE folds ASCII only, which covers the addresses Slack and Google
    # hand out; the index serves case-insensitive lookups by email.
    db.execute(
        """CREATE TABLE people (
            slack_user_id TEXT PRIMARY KEY,
            email TEXT COLLATE NOCASE,
            display_name TEXT,
            real_name TEXT,
            tz TEXT,
            tz_offset INTEGER,
            github_login TEXT,
            is_analyst INTEGER NOT NULL DEFAULT 0 CHECK (is_analyst IN (0, 1)),
            refreshed_at TEXT
        )"""
    )
    db.execute("CREATE INDEX people_email ON people (email)")


@migration(4, "job schedule")
def _job_schedule(db: Database) -> None:
    db.execute(
        """CREATE TABLE job_schedule (
            name TEXT PRIMARY KEY,
            next_run_at TEXT,
            interval_seconds INTEGER CHECK (interval_seconds > 0),
            last_run_at TEXT,
            last_status TEXT
        )"""
    )


@migration(5, "seen deliveries")
def _seen_deliveries(db: Database) -> None:
    db.execute(
        """CREATE TABLE seen_deliveries (
            key TEXT PRIMARY KEY,
            seen_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX seen_deliveries_seen_at ON seen_deliveries (seen_at)")


@migration(6, "findings and scan runs")
def _findings(db: Database) -> None:
    # A scan run is a row from the moment it starts, so an interrupted scan
    # leaves a trace (and a checkpoint to resume from) instead of nothing.
    db.execute(
        """CREATE TABLE scan_runs (
            id INTEGER PRIMARY KEY,
            scanner TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('full', 'incremental')),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'partial', 'failed')),
            items_seen INTEGER NOT NULL DEFAULT 0,
            requests TEXT NOT NULL DEFAULT '{}',
            new_count INTEGER NOT NULL DEFAULT 0,
            ongoing_count INTEGER NOT NULL DEFAULT 0,
            resolved_count INTEGER NOT NULL DEFAULT 0,
            errors TEXT NOT NULL DEFAULT '[]',
            checkpoint TEXT
        )"""
    )
    # What a run read completely. Only findings in a scope read to the end
    # may be resolved by their absence: a Drive that failed half-way proves
    # nothing about the files it did not list.
    db.execute(
        """CREATE TABLE scan_scopes (
            run_id INTEGER NOT NULL REFERENCES scan_runs (id),
            scope TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
            error TEXT,
            PRIMARY KEY (run_id, scope)
        )"""
    )
    db.execute(
        """CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL UNIQUE,
            scanner TEXT NOT NULL,
            rule TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
            scope TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            subject_name TEXT NOT NULL,
            owner TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'fixing', 'resolved', 'fixed')),
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            last_seen_run INTEGER NOT NULL,
            resolved_at TEXT,
            resolved_run INTEGER,
            silenced_until TEXT,
            silenced_reason TEXT,
            notified_at TEXT,
            notified_run INTEGER,
            next_reminder_at TEXT,
            reminders_sent INTEGER NOT NULL DEFAULT 0,
            escalated_at TEXT,
            dm_channel TEXT,
            dm_ts TEXT
        )"""
    )
    db.execute("CREATE INDEX findings_scope ON findings (scanner, status, scope)")
    db.execute("CREATE INDEX findings_subject ON findings (scanner, subject_id)")
    db.execute("CREATE INDEX findings_owner ON findings (owner COLLATE NOCASE, status)")
    db.execute("CREATE INDEX findings_reminder ON findings (status, next_reminder_at)")
    db.execute(
        """CREATE TABLE finding_exceptions (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER NOT NULL REFERENCES findings (id),
            requester TEXT NOT NULL,
            reason TEXT NOT NULL,
            duration_seconds INTEGER NOT NULL CHECK (duration_seconds > 0),
            status TEXT NOT NULL DEFAULT 'requested'
                CHECK (status IN ('requested', 'approved', 'denied', 'expired')),
            created_at TEXT NOT NULL,
            decided_by TEXT,
            decided_at TEXT,
            expires_at TEXT,
            message_channel TEXT,
            message_ts TEXT
        )"""
    )
    # Resumable positions of outside feeds: Drive change tokens per user and
    # per shared drive, and a full scan's checkpoint.
    db.execute(
        """CREATE TABLE cursors (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )


@migration(7, "grants")
def _grants(db: Database) -> None:
    # A grant's life: requested -> approved -> active -> revoked, or denied /
    # expired (nobody decided) / failed (the outside system refused). A request
    # to extend a grant ends `extended`, its time added to that grant. It is
    # `approved` before the API call and `active` with what was created after
    # it, so a crash in between is found and settled on start.
    db.execute(
        """CREATE TABLE grants (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('drive', 'github')),
            resource TEXT NOT NULL,
            resource_name TEXT,
            owner TEXT,
            grantee TEXT NOT NULL,
            role TEXT NOT NULL,
            duration_seconds INTEGER NOT NULL CHECK (duration_seconds > 0),
            reason TEXT NOT NULL,
            requester TEXT NOT NULL,
            approver TEXT,
            status TEXT NOT NULL DEFAULT 'requested' CHECK (status IN (
                'requested', 'approved', 'active', 'revoking', 'revoked',
                'denied', 'expired', 'failed', 'extended')),
            created_at TEXT NOT NULL,
            request_expires_at TEXT NOT NULL,
            decided_at TEXT,
            decision_note TEXT,
            applied_at TEXT,
            created_ref TEXT,
            expires_at TEXT,
            reminded_at TEXT,
            revoked_at TEXT,
            revoke_outcome TEXT,
            extends_grant INTEGER REFERENCES grants (id)
        )"""
    )
    db.execute("CREATE INDEX grants_status_expiry ON grants (status, expires_at)")
    db.execute("CREATE INDEX grants_requester ON grants (requester, status)")


@migration(8, "incidents")
def _incidents(db: Database) -> None:
    # An incident is `open` when reported, `acknowledged` once an analyst takes
    # it (MTTD ends there) and `resolved` with a resolution and a category
    # (MTTR ends there). IDS alerts carry a `dedup_key` (signature and hosts):
    # a repeat inside the policy's window bumps `alert_count` on the open
    # incident instead of opening another. The card's place in Slack
    # (channel, ts) is filled in once the outbox has posted it.
    db.execute(
        """CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'acknowledged', 'resolved')),
            source TEXT NOT NULL CHECK (source IN ('command', 'modal', 'shortcut', 'suricata')),
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            link TEXT,
            reporter TEXT,
            quoted_author TEXT,
            quoted_permalink TEXT,
            assignee TEXT,
            dedup_key TEXT,
            alert_count INTEGER NOT NULL DEFAULT 1,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            acknowledged_at TEXT,
            resolved_at TEXT,
            resolved_by TEXT,
            resolution TEXT,
            category TEXT CHECK (category IN ('true_positive', 'false_positive', 'benign')),
            card_channel TEXT,
            card_ts TEXT,
            ticket_repo TEXT,
            ticket_number INTEGER,
            ticket_url TEXT,
            ticket_closed_at TEXT,
            page_requested_at TEXT,
            paged_at TEXT,
            page_resolved_at TEXT,
            thanked_at TEXT,
            enriched_at TEXT,
            intel_notes TEXT NOT NULL DEFAULT '[]'
        )"""
    )
    db.execute("CREATE INDEX incidents_status ON incidents (status, opened_at)")
    db.execute("CREATE INDEX incidents_dedup ON incidents (dedup_key, last_seen_at)")
    db.execute("CREATE INDEX incidents_reporter ON incidents (reporter, opened_at)")
    db.execute(
        """CREATE TABLE incident_indicators (
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            enrichment TEXT NOT NULL DEFAULT '{}',
            enriched_at TEXT,
            PRIMARY KEY (incident_id, kind, value)
        )"""
    )
    # The timeline: every step, in order. Each is posted to the card's thread
    # (and the ticket, when there is one) through the outbox.
    db.execute(
        """CREATE TABLE incident_events (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            at TEXT NOT NULL,
            actor TEXT,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            ticket_comment_id INTEGER
        )"""
    )
    db.execute("CREATE INDEX incident_events_incident ON incident_events (incident_id, id)")
    db.execute(
        """CREATE TABLE incident_tasks (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            text TEXT NOT NULL,
            owner TEXT NOT NULL,
            due_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            done_at TEXT,
            next_reminder_at TEXT,
            escalated_at TEXT
        )"""
    )
    db.execute("CREATE INDEX incident_tasks_due ON incident_tasks (status, next_reminder_at)")
    # Outside effects recorded before (`*ing`) and after the call, like grants.
    db.execute(
        """CREATE TABLE ip_blocks (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            address TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN (
                'blocking', 'blocked', 'lifting', 'lifted', 'failed')),
            blocked_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            status_at TEXT NOT NULL,
            blocked_at TEXT,
            expires_at TEXT,
            lifted_at TEXT,
            outcome TEXT
        )"""
    )
    db.execute("CREATE INDEX ip_blocks_status ON ip_blocks (status, expires_at)")
    db.execute(
        """CREATE TABLE quarantines (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            file_id TEXT NOT NULL,
            file_name TEXT,
            owner TEXT,
            status TEXT NOT NULL CHECK (status IN (
                'quarantining', 'quarantined', 'restoring', 'restored', 'failed')),
            removed TEXT NOT NULL DEFAULT '[]',
            quarantined_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            status_at TEXT NOT NULL,
            restored_by TEXT,
            restored_at TEXT,
            outcome TEXT
        )"""
    )
    db.execute("CREATE INDEX quarantines_file ON quarantines (file_id, status)")
    # Answers from online intel providers, kept until `expires_at`.
    db.execute(
        """CREATE TABLE intel_cache (
            provider TEXT NOT NULL,
            indicator TEXT NOT NULL,
            answer TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            PRIMARY KEY (provider, indicator)
        )"""
    )
