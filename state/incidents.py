"""Incidents, their indicators, timeline and follow-up tasks (migration 8).

Plain queries: who may change what, and when, is `workflows.incidents`'s
business. Rows come back as dicts; JSON columns are decoded.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from state.clock import to_iso, utcnow
from state.errors import NotFound

_JSON_COLUMNS = {"intel_notes", "enrichment", "removed"}


def _rows(cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        for key in _JSON_COLUMNS & row.keys():
            row[key] = json.loads(row[key])
        rows.append(row)
    return rows


def _one(db: Database, sql: str, params: list, what: str) -> dict[str, Any]:
    rows = _rows(db.execute(sql, params))
    if not rows:
        raise NotFound(what)
    return rows[0]


def create(db: Database, **columns: Any) -> int:
    now = to_iso(columns.pop("now", None) or utcnow())
    columns.setdefault("first_seen_at", now)
    columns.setdefault("last_seen_at", now)
    columns.setdefault("opened_at", now)
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    cursor = db.execute(f"INSERT INTO incidents ({names}) VALUES ({marks})", list(columns.values()))
    return cursor.lastrowid


def get(db: Database, incident_id: int) -> dict[str, Any]:
    return _one(db, "SELECT * FROM incidents WHERE id = ?", [incident_id],
                f"incident {incident_id}")  # fmt: skip


def update(db: Database, incident_id: int, **columns: Any) -> None:
    for key in _JSON_COLUMNS & columns.keys():
        columns[key] = json.dumps(columns[key])
    assignments = ", ".join(f"{name} = ?" for name in columns)
    db.execute(f"UPDATE incidents SET {assignments} WHERE id = ?",
               [*columns.values(), incident_id])  # fmt: skip


def open_by_dedup_key(db: Database, dedup_key: str, seen_since: datetime) -> dict | None:
    """The unresolved incident for these alerts, if one was seen since `seen_since`."""
    rows = _rows(db.execute(
        """SELECT * FROM incidents WHERE dedup_key = ? AND status != 'resolved'
           AND last_seen_at >= ? ORDER BY id DESC LIMIT 1""",
        [dedup_key, to_iso(seen_since)],
    ))  # fmt: skip
    return rows[0] if rows else None


def unresolved(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    return _rows(db.execute(
        "SELECT * FROM incidents WHERE status != 'resolved' ORDER BY opened_at LIMIT ?", [limit]
    ))  # fmt: skip


def needing_enrichment(db: Database, since: datetime, before: datetime,
                       retry_before: datetime) -> list[int]:  # fmt: skip
    """Unresolved incidents opened since `since` never enriched (opened before `before`),
    or whose last try had a provider fail (before `retry_before`)."""
    rows = db.execute(
        """SELECT id FROM incidents WHERE status != 'resolved' AND opened_at >= ?
           AND ((enriched_at IS NULL AND opened_at <= ?)
                OR (intel_notes != '[]' AND enriched_at <= ?)) ORDER BY id""",
        [to_iso(since), to_iso(before), to_iso(retry_before)],
    )
    return [row[0] for row in rows]


def reported_by(db: Database, reporter: str, limit: int = 10) -> list[dict[str, Any]]:
    return _rows(db.execute(
        "SELECT * FROM incidents WHERE reporter = ? ORDER BY id DESC LIMIT ?", [reporter, limit]
    ))  # fmt: skip


# -- indicators ----------------------------------------------------------------


def add_indicator(db: Database, incident_id: int, kind: str, value: str,
                  enrichment: dict | None = None) -> None:  # fmt: skip
    db.execute(
        """INSERT INTO incident_indicators (incident_id, kind, value, enrichment, enriched_at)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
        [incident_id, kind, value, json.dumps(enrichment or {}),
         to_iso(utcnow()) if enrichment else None],
    )  # fmt: skip


def set_enrichment(db: Database, incident_id: int, kind: str, value: str,
                   enrichment: dict) -> None:  # fmt: skip
    db.execute(
        """UPDATE incident_indicators SET enrichment = ?, enriched_at = ?
           WHERE incident_id = ? AND kind = ? AND value = ?""",
        [json.dumps(enrichment), to_iso(utcnow()), incident_id, kind, value],
    )


def indicators(db: Database, incident_id: int) -> list[dict[str, Any]]:
    return _rows(db.execute(
        "SELECT * FROM incident_indicators WHERE incident_id = ? ORDER BY rowid", [incident_id]
    ))  # fmt: skip


# -- timeline ------------------------------------------------------------------


def add_event(db: Database, incident_id: int, actor: str | None, action: str,
              detail: str = "", at: datetime | None = None) -> int:  # fmt: skip
    cursor = db.execute(
        """INSERT INTO incident_events (incident_id, at, actor, action, detail)
           VALUES (?, ?, ?, ?, ?)""",
        [incident_id, to_iso(at or utcnow()), actor, action, detail],
    )
    return cursor.lastrowid


def events(db: Database, incident_id: int) -> list[dict[str, Any]]:
    return _rows(db.execute(
        "SELECT * FROM incident_events WHERE incident_id = ? ORDER BY id", [incident_id]
    ))  # fmt: skip


def events_without_ticket_comment(db: Database, incident_id: int) -> list[dict]:
    return _rows(db.execute(
        """SELECT * FROM incident_events WHERE incident_id = ?
           AND ticket_comment_id IS NULL ORDER BY id""",
        [incident_id],
    ))  # fmt: skip


def set_ticket_comment(db: Database, event_id: int, comment_id: int) -> None:
    db.execute("UPDATE incident_events SET ticket_comment_id = ? WHERE id = ?",
               [comment_id, event_id])  # fmt: skip


# -- tasks ---------------------------------------------------------------------


def add_task(db: Database, **columns: Any) -> int:
    columns.setdefault("created_at", to_iso(utcnow()))
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    return db.execute(f"INSERT INTO incident_tasks ({names}) VALUES ({marks})",
                      list(columns.values())).lastrowid  # fmt: skip


def get_task(db: Database, task_id: int) -> dict[str, Any]:
    return _one(db, "SELECT * FROM incident_tasks WHERE id = ?", [task_id], f"task {task_id}")


def update_task(db: Database, task_id: int, **columns: Any) -> None:
    assignments = ", ".join(f"{name} = ?" for name in columns)
    db.execute(f"UPDATE incident_tasks SET {assignments} WHERE id = ?",
               [*columns.values(), task_id])  # fmt: skip


def tasks(db: Database, incident_id: int) -> list[dict[str, Any]]:
    return _rows(db.execute(
        "SELECT * FROM incident_tasks WHERE incident_id = ? ORDER BY id", [incident_id]
    ))  # fmt: skip


def tasks_due_for_reminder(db: Database, now: datetime) -> list[dict[str, Any]]:
    return _rows(db.execute(
        """SELECT * FROM incident_tasks WHERE status = 'open'
           AND next_reminder_at IS NOT NULL AND next_reminder_at <= ? ORDER BY id""",
        [to_iso(now)],
    ))  # fmt: skip


def overdue_tasks(db: Database, now: datetime) -> list[dict[str, Any]]:
    return _rows(db.execute(
        """SELECT * FROM incident_tasks WHERE status = 'open' AND escalated_at IS NULL
           AND due_at <= ? ORDER BY id""",
        [to_iso(now)],
    ))  # fmt: skip


# -- outside effects: blocks and quarantines -----------------------------------


def insert(db: Database, table: str, **columns: Any) -> int:
    assert table in ("ip_blocks", "quarantines")
    for key in _JSON_COLUMNS & columns.keys():
        columns[key] = json.dumps(columns[key])
    columns.setdefault("created_at", to_iso(utcnow()))
    columns.setdefault("status_at", columns["created_at"])
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    return db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                      list(columns.values())).lastrowid  # fmt: skip


def move(db: Database, table: str, row_id: int, expected: str, **columns: Any) -> bool:
    """Update a block or quarantine only if it is still in `expected` status."""
    assert table in ("ip_blocks", "quarantines")
    for key in _JSON_COLUMNS & columns.keys():
        columns[key] = json.dumps(columns[key])
    if "status" in columns:
        columns.setdefault("status_at", to_iso(utcnow()))
    assignments = ", ".join(f"{name} = ?" for name in columns)
    cursor = db.execute(
        f"UPDATE {table} SET {assignments} WHERE id = ? AND status = ?",
        [*columns.values(), row_id, expected],
    )
    return cursor.rowcount == 1


def rows(db: Database, table: str, where: str, params: list) -> list[dict[str, Any]]:
    assert table in ("ip_blocks", "quarantines")
    return _rows(db.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY id", params))
