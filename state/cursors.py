"""Resumable positions in outside feeds (Drive change tokens, scan checkpoints)."""

from __future__ import annotations

from sqlite_utils import Database

from state.clock import to_iso, utcnow


def get(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM cursors WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def put(db: Database, key: str, value: str) -> None:
    db.execute(
        """INSERT INTO cursors (key, value, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE
           SET value = excluded.value, updated_at = excluded.updated_at""",
        [key, value, to_iso(utcnow())],
    )


def delete(db: Database, key: str) -> None:
    db.execute("DELETE FROM cursors WHERE key = ?", [key])
