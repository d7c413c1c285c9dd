"""Findings and the scan runs that produce them.

A scanner reports what it sees; `record_seen` turns that into new and
ongoing findings keyed by fingerprint. Absence resolves a finding only where
the run looked completely: `resolve_unseen_in_scopes` after a full scan (a
scope is one user's My Drive or one shared drive), `resolve_unseen_subjects`
after an incremental scan (only the files the changes feed named).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from state.clock import to_iso, utcnow


@dataclass(frozen=True)
class Seen:
    """One violation as a scanner saw it in this run."""

    fingerprint: str
    scanner: str
    rule: str
    severity: str
    scope: str
    subject_id: str
    subject_name: str
    owner: str
    details: dict[str, Any]


def start_run(db: Database, scanner: str, kind: str, now: datetime | None = None) -> int:
    cursor = db.execute(
        "INSERT INTO scan_runs (scanner, kind, started_at) VALUES (?, ?, ?)",
        [scanner, kind, to_iso(now or utcnow())],
    )
    return cursor.lastrowid


def finish_run(db: Database, run_id: int, status: str, **stats: Any) -> None:
    """Close a run with its figures: items_seen, requests, *_count, errors."""
    columns = {"status": status, "finished_at": to_iso(utcnow())}
    for key, value in stats.items():
        columns[key] = json.dumps(value) if isinstance(value, dict | list) else value
    assignments = ", ".join(f"{name} = ?" for name in columns)
    db.execute(f"UPDATE scan_runs SET {assignments} WHERE id = ?", [*columns.values(), run_id])


def get_run(db: Database, run_id: int) -> dict[str, Any]:
    row = db.execute("SELECT * FROM scan_runs WHERE id = ?", [run_id]).fetchone()
    names = [d[0] for d in db.execute("SELECT * FROM scan_runs LIMIT 0").description]
    run = dict(zip(names, row, strict=True))
    for key in ("requests", "errors"):
        run[key] = json.loads(run[key])
    return run


def record_scope(db: Database, run_id: int, scope: str, error: str | None = None) -> None:
    """Note that the run read `scope` to the end, or failed there with `error`."""
    db.execute(
        "INSERT OR REPLACE INTO scan_scopes (run_id, scope, status, error) VALUES (?, ?, ?, ?)",
        [run_id, scope, "failed" if error else "done", error],
    )


def record_seen(db: Database, run_id: int, seen: Iterable[Seen]) -> tuple[list[int], int]:
    """Insert new findings and refresh ongoing ones; return (new ids, ongoing count).

    A finding that was resolved or fixed and is seen again opens again, as new:
    its owner should hear about it again.
    """
    now = to_iso(utcnow())
    new_ids: list[int] = []
    ongoing = 0
    for item in seen:
        row = db.execute(
            "SELECT id, status FROM findings WHERE fingerprint = ?", [item.fingerprint]
        ).fetchone()
        if row is None:
            new_ids.append(_insert(db, run_id, item, now))
        elif row[1] in ("open", "fixing"):
            # A fix that died half-way leaves "fixing"; seen again, it is open.
            _refresh(db, row[0], run_id, item, now)
            ongoing += 1
        else:
            _reopen(db, row[0], run_id, item, now)
            new_ids.append(row[0])
    return new_ids, ongoing


def resolve_unseen_in_scopes(db: Database, run_id: int, scanner: str) -> list[int]:
    """Resolve open findings this run did not see, in scopes it read completely."""
    return _resolve(
        db,
        run_id,
        """scanner = ? AND status IN ('open', 'fixing') AND last_seen_run != ? AND scope IN (
               SELECT scope FROM scan_scopes WHERE run_id = ? AND status = 'done')""",
        [scanner, run_id, run_id],
    )


def resolve_unseen_subjects(
    db: Database, run_id: int, scanner: str, scope: str, subject_ids: Iterable[str]
) -> list[int]:
    """Resolve open findings of `scope` on these subjects (files) that this run did not see.

    Only the scope's own feed may resolve its findings: a file also appears in
    the feeds of people it is shared with, and their view proves nothing.
    """
    resolved: list[int] = []
    ids = list(subject_ids)
    for start in range(0, len(ids), 500):  # SQLite caps bound parameters
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        resolved += _resolve(
            db,
            run_id,
            f"""scanner = ? AND scope = ? AND status IN ('open', 'fixing')
                AND last_seen_run != ? AND subject_id IN ({marks})""",
            [scanner, scope, run_id, *chunk],
        )
    return resolved


def get_finding(db: Database, finding_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM findings WHERE id = ?", [finding_id]))
    if not rows:
        return None
    finding = rows[0]
    finding["details"] = json.loads(finding["details"])
    return finding


def open_findings(db: Database, scanner: str | None = None) -> list[dict[str, Any]]:
    where, params = "status = 'open'", []
    if scanner:
        where, params = where + " AND scanner = ?", [scanner]
    rows = list(db.query(f"SELECT * FROM findings WHERE {where} ORDER BY id", params))
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows


def _insert(db: Database, run_id: int, item: Seen, now: str) -> int:
    cursor = db.execute(
        """INSERT INTO findings (fingerprint, scanner, rule, severity, scope, subject_id,
               subject_name, owner, details, first_seen_at, last_seen_at, last_seen_run)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            item.fingerprint, item.scanner, item.rule, item.severity, item.scope,
            item.subject_id, item.subject_name, item.owner, json.dumps(item.details),
            now, now, run_id,
        ],
    )  # fmt: skip
    return cursor.lastrowid


def _refresh(db: Database, finding_id: int, run_id: int, item: Seen, now: str) -> None:
    db.execute(
        """UPDATE findings SET severity = ?, subject_name = ?, details = ?, owner = ?, scope = ?,
               status = 'open', last_seen_at = ?, last_seen_run = ? WHERE id = ?""",
        [
            item.severity, item.subject_name, json.dumps(item.details), item.owner, item.scope,
            now, run_id, finding_id,
        ],
    )


def _reopen(db: Database, finding_id: int, run_id: int, item: Seen, now: str) -> None:
    _refresh(db, finding_id, run_id, item, now)
    db.execute(
        """UPDATE findings SET status = 'open', resolved_at = NULL, resolved_run = NULL,
               notified_at = NULL, notified_run = NULL, next_reminder_at = NULL,
               reminders_sent = 0,
               escalated_at = NULL, dm_channel = NULL, dm_ts = NULL WHERE id = ?""",
        [finding_id],
    )


def _resolve(db: Database, run_id: int, where: str, params: list[Any]) -> list[int]:
    ids = [row[0] for row in db.execute(f"SELECT id FROM findings WHERE {where}", params)]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        db.execute(
            f"""UPDATE findings SET status = 'resolved', resolved_at = ?, resolved_run = ?
                WHERE id IN ({marks})""",
            [to_iso(utcnow()), run_id, *chunk],
        )
    return ids
