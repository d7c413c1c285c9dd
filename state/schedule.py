"""Due times of named jobs. The store holds them; the scheduler only wakes up.

On start the scheduler calls `ensure_job` for every job it knows and arms
each for `next_run`; after a run it calls `record_run`. A restart therefore
neither repeats a run nor skips one.
"""

import re
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from state.clock import from_iso_or_none, to_iso
from state.errors import NotFound

_KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_TIMES = ("next_run_at", "last_run_at")


def ensure_job(
    db: Database, name: str, interval_seconds: int | None, first_run_at: datetime
) -> None:
    """Add the job if missing; otherwise update its interval and keep its next run."""
    if not _KEBAB.fullmatch(name):
        raise ValueError(f"job name {name!r} should be kebab-case, like scan-drive")
    if interval_seconds is not None and interval_seconds <= 0:
        raise ValueError(f"interval_seconds must be positive or None, got {interval_seconds}")

    db.execute(
        """INSERT INTO job_schedule (name, next_run_at, interval_seconds)
        VALUES (?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET interval_seconds = excluded.interval_seconds""",
        [name, to_iso(first_run_at), interval_seconds],
    )


def next_run(db: Database, name: str) -> datetime | None:
    """When the job is due next; None for an unknown job or one not due again."""
    row = db.execute("SELECT next_run_at FROM job_schedule WHERE name = ?", [name]).fetchone()
    return None if row is None else from_iso_or_none(row[0])


def all_jobs(db: Database) -> list[dict[str, Any]]:
    """Every job by name, with its times as aware datetimes."""
    rows = db.table("job_schedule").rows_where(order_by="name")
    return [{**row, **{key: from_iso_or_none(row[key]) for key in _TIMES}} for row in rows]


def record_run(
    db: Database,
    name: str,
    finished_at: datetime,
    status: str,
    next_run_at: datetime | None,
) -> None:
    """Note a finished run and when the next one is due (None: never again)."""
    cursor = db.execute(
        """UPDATE job_schedule SET last_run_at = ?, last_status = ?, next_run_at = ?
        WHERE name = ?""",
        [to_iso(finished_at), status, None if next_run_at is None else to_iso(next_run_at), name],
    )
    if cursor.rowcount == 0:
        raise NotFound(f"no job named {name!r}; call ensure_job first")
