"""Append-only, hash-chained audit log.

Every row carries the hash of the row before it (``prev_hash``) and its own
``hash``: sha256 over a canonical JSON of (id, at, actor, action, subject,
details, prev_hash). Triggers refuse UPDATE and DELETE, which stops
mistakes; `verify` catches someone who dropped the triggers and edited or
deleted rows anyway.

Known shortcoming: the chain proves order and content, not completeness at
the end. Rows cut off the tail leave a shorter chain that still verifies;
posting the last hash somewhere else now and then closes that gap.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from state.clock import to_iso, utcnow
from state.tx import joined

GENESIS_HASH = "0" * 64
_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_COLUMNS = "id, at, actor, action, subject, details, prev_hash, hash"


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `verify`; `rows_checked` counts the bad row too."""

    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    reason: str | None = None


def record(
    db: Database,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Append one entry and return it as stored (details decoded).

    Joins the caller's open transaction, so the entry commits or rolls back
    with the change it describes; otherwise runs in its own. Make that a
    `Store.transaction()`: in a deferred one (``db.atomic()``) a concurrent
    writer makes this fail with "database is locked" (never fork the chain).
    """
    if not _ACTION.fullmatch(action):
        raise ValueError(f"audit action {action!r} should be a dotted noun like grant.approved")
    details_json = _canonical(details or {})
    entry: dict[str, Any] = {
        "at": to_iso(at or utcnow()),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": json.loads(details_json),
    }

    with joined(db):
        # Read the tail under the write lock: two writers can then never
        # chain onto the same row (and UNIQUE(prev_hash) would refuse it).
        tail = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        last_id, prev_hash = tail if tail is not None else (0, GENESIS_HASH)
        entry.update(id=last_id + 1, prev_hash=prev_hash)
        entry["hash"] = _hash(entry)
        db.table("audit_log").insert({**entry, "details": details_json})
    return entry


def verify(db: Database) -> VerifyResult:
    """Walk the chain in id order and report the first row that does not hold."""
    expected_prev, previous_id, checked = GENESIS_HASH, None, 0
    for row in db.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY id"):
        entry = dict(zip(_COLUMNS.split(", "), row, strict=True))
        checked += 1
        problem = _problem(entry, expected_prev, previous_id)
        if problem is not None:
            return VerifyResult(False, checked, entry["id"], problem)
        expected_prev, previous_id = entry["hash"], entry["id"]
    return VerifyResult(True, checked)


def export(db: Database, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Entries in id order, details decoded; `since` keeps those at or after it."""
    where, params = ("WHERE at >= ?", [to_iso(since)]) if since else ("", [])
    for row in db.query(f"SELECT {_COLUMNS} FROM audit_log {where} ORDER BY id", params):
        yield {**row, "details": json.loads(row["details"])}


def _problem(entry: dict[str, Any], expected_prev: str, previous_id: int | None) -> str | None:
    if entry["prev_hash"] != expected_prev:
        before = "the start of the log" if previous_id is None else f"row {previous_id}"
        return (
            f"broken link: prev_hash does not match the hash of {before};"
            " a row before it was deleted or rewritten"
        )
    try:
        content = {**entry, "details": json.loads(entry["details"])}
    except (TypeError, ValueError):
        return "hash mismatch: details is no longer valid JSON, the row was edited"
    if _hash(content) != entry["hash"]:
        return "hash mismatch: the row's content changed after it was written"
    return None


def _hash(entry: dict[str, Any]) -> str:
    fields = ("id", "at", "actor", "action", "subject", "details", "prev_hash")
    canonical = _canonical({name: entry[name] for name in fields})
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"audit details must be plain JSON values: {error}") from error
