"""Answers from online intel providers, kept until they expire.

A lookup spends a provider's quota (AbuseIPDB's free plan allows 1,000
checks a day, VirusTotal's public API 500 lookups a day), and the same
indicator tends to come back in report after report. Keeping each answer for
a while saves the quota for indicators nobody has asked about yet.

Rows are keyed by provider and indicator; the caller decides what the
indicator string is (one that tells kinds apart, such as ``sha256:ab12…``).
An expired row is ignored by `get` and replaced by `put`; `purge_expired`
removes them for good.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlite_utils import Database

from state.clock import to_iso


def get(db: Database, provider: str, indicator: str, now: datetime) -> dict | None:
    """The stored answer, or None when there is none or it expired."""
    row = db.execute(
        """SELECT answer FROM intel_cache
           WHERE provider = ? AND indicator = ? AND expires_at > ?""",
        [provider, indicator, to_iso(now)],
    ).fetchone()
    return json.loads(row[0]) if row else None


def put(
    db: Database,
    provider: str,
    indicator: str,
    answer: dict,
    ttl_seconds: float,
    now: datetime,
) -> None:
    """Keep `answer` for `ttl_seconds` from `now`, replacing any earlier one."""
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
    expires = now + timedelta(seconds=ttl_seconds)
    db.execute(
        """INSERT INTO intel_cache (provider, indicator, answer, fetched_at, expires_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (provider, indicator) DO UPDATE
           SET answer = excluded.answer,
               fetched_at = excluded.fetched_at,
               expires_at = excluded.expires_at""",
        [provider, indicator, json.dumps(answer), to_iso(now), to_iso(expires)],
    )


def purge_expired(db: Database, now: datetime) -> int:
    """Delete every answer that expired by `now`; returns how many went."""
    cursor = db.execute("DELETE FROM intel_cache WHERE expires_at <= ?", [to_iso(now)])
    return cursor.rowcount
