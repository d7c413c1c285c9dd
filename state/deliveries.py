"""Idempotency for inbound input: Slack envelopes and events, IDS alerts.

Slack redelivers an event it thinks was not acknowledged in time; the same
input twice must have one effect. `first_time` records a key atomically:
the primary key decides, so two threads racing on one key get one True.
Called on its own (as the Slack middleware does), the key is kept once the
input is accepted: an input whose handling then fails is not redone, which
is what Slack does too once an event has been acked. Called inside a
handler's transaction instead, a rollback forgets the key again.
"""

from datetime import datetime

from sqlite_utils import Database

from state.clock import to_iso, utcnow


def first_time(db: Database, key: str) -> bool:
    """Record `key`; True only the first time it is seen."""
    cursor = db.execute(
        "INSERT INTO seen_deliveries (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        [key, to_iso(utcnow())],
    )
    return cursor.rowcount == 1


def forget_older_than(db: Database, cutoff: datetime) -> int:
    """Drop keys seen before `cutoff`; return how many were dropped."""
    cursor = db.execute("DELETE FROM seen_deliveries WHERE seen_at < ?", [to_iso(cutoff)])
    return cursor.rowcount
