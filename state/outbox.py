"""Transactional outbox for Slack Web API calls.

A workflow that changes state and wants Slack to hear about it enqueues the
call on the same `db`, inside the same transaction: both commit or neither
does. A single drainer thread (`bot.sender`) sends what is `due` and marks
each item sent, retried later, or failed for good.

Known shortcoming: `due` does not claim items. Two drainers would send the
same message twice, so Warden runs exactly one.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from state.clock import to_iso, utcnow
from state.errors import NotFound

PENDING, SENT, FAILED = "pending", "sent", "failed"
# A payload key naming a Slack user: the drainer opens the bot's DM with them
# and posts there, so a workflow can queue a DM without calling Slack.
DM_USER = "dm_user"
_METHOD = re.compile(r"[a-z]+(\.[a-zA-Z]+)+")


@dataclass(frozen=True)
class OutboxItem:
    id: int
    method: str
    payload: dict[str, Any]
    attempts: int
    dedup_key: str | None = None


def enqueue(
    db: Database,
    method: str,
    payload: dict[str, Any],
    dedup_key: str | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Queue a Slack call; return its id, or None if `dedup_key` was queued before.
    `not_before` holds it back (to space out repeated updates of one message)."""
    if not _METHOD.fullmatch(method):
        raise ValueError(f"{method!r} is not a Slack Web API method like chat.postMessage")
    now = to_iso(utcnow())
    due = to_iso(not_before) if not_before else now

    # Raw SQL rather than insert(ignore=True): INSERT OR IGNORE would also
    # swallow NOT NULL and CHECK failures; this ignores dedup_key clashes only.
    cursor = db.execute(
        """INSERT INTO outbox (created_at, method, payload, dedup_key, next_attempt_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (dedup_key) DO NOTHING""",
        [now, method, json.dumps(payload, ensure_ascii=False), dedup_key, due],
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


def due(db: Database, now: datetime | None = None, limit: int = 50) -> list[OutboxItem]:
    """Pending items whose next attempt is due, oldest first."""
    rows = db.query(
        """SELECT id, method, payload, attempts, dedup_key FROM outbox
        WHERE status = ? AND next_attempt_at <= ?
        ORDER BY id LIMIT ?""",
        [PENDING, to_iso(now or utcnow()), limit],
    )
    return [
        OutboxItem(
            row["id"], row["method"], json.loads(row["payload"]), row["attempts"], row["dedup_key"]
        )
        for row in rows
    ]


def mark_sent(db: Database, item_id: int, response: dict[str, Any]) -> None:
    """Slack accepted the call; keep what it answered (e.g. the message ts)."""
    now = to_iso(utcnow())
    _finish_attempt(
        db, item_id, status=SENT, sent_at=now, response=json.dumps(response, ensure_ascii=False)
    )


def mark_retry(db: Database, item_id: int, error: str, next_attempt_at: datetime) -> None:
    """A temporary failure (429, 5xx, network): try again at `next_attempt_at`."""
    _finish_attempt(db, item_id, last_error=error, next_attempt_at=to_iso(next_attempt_at))


def mark_failed(db: Database, item_id: int, error: str) -> None:
    """A permanent failure (e.g. channel_not_found): never try again."""
    _finish_attempt(db, item_id, status=FAILED, last_error=error)


def refresh_pending(db: Database, key_prefix: str, payload: dict[str, Any]) -> bool:
    """Give a still-pending message whose dedup key starts with `key_prefix` this newer
    payload; False when none is pending. For updates where only the latest matters
    (a card re-rendered on every alert), so a burst queues one update, not hundreds."""
    cursor = db.execute(
        """UPDATE outbox SET payload = ? WHERE id = (
               SELECT id FROM outbox WHERE status = ? AND method = 'chat.update'
               AND dedup_key LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT 1)""",
        [json.dumps(payload, ensure_ascii=False), PENDING, _like_prefix(key_prefix)],
    )
    return cursor.rowcount == 1


def refreshed_since(db: Database, item: OutboxItem) -> bool:
    """Whether `refresh_pending` gave this item a newer payload while it was being sent:
    then it stays pending (see `defer`), and the newer payload goes out next. Such an
    update may be overtaken by later messages; only the latest render matters."""
    row = db.execute("SELECT payload FROM outbox WHERE id = ?", [item.id]).fetchone()
    return row is not None and json.loads(row[0]) != item.payload


def defer(db: Database, item_id: int, until: datetime) -> None:
    db.execute("UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = ?",
               [to_iso(until), item_id, PENDING])  # fmt: skip


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def pending_count(db: Database) -> int:
    return db.table("outbox").count_where("status = ?", [PENDING])


def _finish_attempt(db: Database, item_id: int, **columns: str) -> None:
    assignments = ", ".join(f"{name} = ?" for name in columns)
    cursor = db.execute(
        f"""UPDATE outbox SET attempts = attempts + 1, {assignments}
        WHERE id = ? AND status = ?""",
        [*columns.values(), item_id, PENDING],
    )
    if cursor.rowcount == 0:
        raise NotFound(f"outbox item {item_id} does not exist or is no longer pending")
