import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from state import Store, audit
from state.audit import GENESIS_HASH
from tests.state.conftest import ThreadRunner


def record_many(db: Database, count: int) -> list[dict[str, Any]]:
    return [
        audit.record(db, "U123", "grant.approved", f"grant:{n}", {"n": n})
        for n in range(1, count + 1)
    ]


def test_record_chains_each_entry_to_the_one_before(db: Database) -> None:
    """The first entry links to 64 zeros, each later one to the hash before it."""
    first, second = record_many(db, 2)

    assert first["id"] == 1
    assert first["prev_hash"] == GENESIS_HASH
    assert second["prev_hash"] == first["hash"]
    assert len(second["hash"]) == 64


def test_record_returns_the_stored_entry(db: Database) -> None:
    """record() returns the row as export() will show it."""
    at = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)

    entry = audit.record(db, "warden", "grant.expired", "grant:7", {"days": 3}, at=at)

    assert entry == next(audit.export(db))
    assert entry["at"] == "2024-05-01T09:30:00.000000+00:00"
    assert entry["details"] == {"days": 3}


def test_intact_chain_verifies(db: Database) -> None:
    """An untouched log verifies and counts every row."""
    record_many(db, 5)

    result = audit.verify(db)

    assert result == audit.VerifyResult(ok=True, rows_checked=5)


def test_empty_log_verifies(db: Database) -> None:
    """A log with no rows is a valid chain."""
    assert audit.verify(db).ok


def test_update_is_refused(db: Database) -> None:
    """A trigger refuses UPDATE on audit_log."""
    record_many(db, 1)

    with pytest.raises(sqlite3.IntegrityError, match="audit_log is append-only"):
        db.execute("UPDATE audit_log SET actor = 'U999'")


def test_delete_is_refused(db: Database) -> None:
    """A trigger refuses DELETE on audit_log."""
    record_many(db, 1)

    with pytest.raises(sqlite3.IntegrityError, match="audit_log is append-only"):
        db.execute("DELETE FROM audit_log")


def test_edited_row_is_found(db: Database) -> None:
    """Someone drops the trigger and edits row 3's details: verify names row 3."""
    record_many(db, 5)
    db.execute("DROP TRIGGER audit_log_no_update")

    db.execute("""UPDATE audit_log SET details = '{"n": 300}' WHERE id = 3""")
    result = audit.verify(db)

    assert not result.ok
    assert result.first_bad_id == 3
    assert result.reason is not None
    assert result.reason.startswith("hash mismatch")


def test_rewritten_row_with_fresh_hash_breaks_the_next_link(db: Database) -> None:
    """Editing row 3 and recomputing its hash still shows: row 4 no longer links."""
    record_many(db, 5)
    db.execute("DROP TRIGGER audit_log_no_update")
    row = next(db.query("SELECT * FROM audit_log WHERE id = 3"))
    forged = audit._hash({**row, "details": {"n": 300}})

    db.execute("""UPDATE audit_log SET details = '{"n":300}', hash = ? WHERE id = 3""", [forged])
    result = audit.verify(db)

    assert result.first_bad_id == 4
    assert result.reason is not None
    assert result.reason.startswith("broken link")


def test_deleted_row_is_found(db: Database) -> None:
    """Someone drops the trigger and deletes row 3: the link of row 4 breaks."""
    record_many(db, 5)
    db.execute("DROP TRIGGER audit_log_no_delete")

    db.execute("DELETE FROM audit_log WHERE id = 3")
    result = audit.verify(db)

    assert result == audit.VerifyResult(
        ok=False,
        rows_checked=3,
        first_bad_id=4,
        reason=(
            "broken link: prev_hash does not match the hash of row 2;"
            " a row before it was deleted or rewritten"
        ),
    )


def test_deleted_first_row_is_found(db: Database) -> None:
    """Deleting row 1 leaves row 2 pointing at something other than the start."""
    record_many(db, 3)
    db.execute("DROP TRIGGER audit_log_no_delete")

    db.execute("DELETE FROM audit_log WHERE id = 1")
    result = audit.verify(db)

    assert result.first_bad_id == 2
    assert result.reason is not None
    assert "the start of the log" in result.reason


def test_record_joins_the_callers_transaction(memory_store: Store) -> None:
    """An entry written in a transaction that rolls back is gone with it."""
    with pytest.raises(RuntimeError), memory_store.transaction() as db:
        audit.record(db, "U123", "grant.approved", "grant:1")
        raise RuntimeError("the grant failed after all")

    assert list(audit.export(memory_store.db)) == []


def test_concurrent_writers_keep_one_chain(file_store: Store, in_threads: ThreadRunner) -> None:
    """8 threads x 50 records on a file database give one unbroken chain of 400."""

    def write(index: int) -> None:
        for n in range(50):
            audit.record(file_store.db, f"U{index}", "finding.reminded", f"finding:{n}")

    in_threads(8, write)
    result = audit.verify(file_store.db)

    assert result == audit.VerifyResult(ok=True, rows_checked=400)
    ids = [row["id"] for row in audit.export(file_store.db)]
    assert ids == list(range(1, 401))


def test_concurrent_writers_inside_transactions_keep_one_chain(
    file_store: Store, in_threads: ThreadRunner
) -> None:
    """Records written inside store.transaction() from many threads also chain."""

    def write(index: int) -> None:
        for n in range(25):
            with file_store.transaction() as db:
                audit.record(db, f"U{index}", "grant.approved", f"grant:{n}")

    in_threads(8, write)

    assert audit.verify(file_store.db) == audit.VerifyResult(ok=True, rows_checked=200)


def test_export_since_keeps_later_entries(db: Database) -> None:
    """export(since=...) yields entries at or after that time, in id order, decoded."""
    start = datetime(2024, 5, 1, tzinfo=UTC)
    for hours in (0, 1, 2, 3):
        at = start + timedelta(hours=hours)
        audit.record(db, "warden", "scan.finished", "scan:drive", {"h": hours}, at=at)

    entries = list(audit.export(db, since=start + timedelta(hours=2)))

    assert [e["details"] for e in entries] == [{"h": 2}, {"h": 3}]
    assert [e["id"] for e in entries] == [3, 4]


def test_action_must_be_a_dotted_noun(db: Database) -> None:
    """An action without a dot is refused with an example of the right shape."""
    with pytest.raises(ValueError, match="like grant.approved"):
        audit.record(db, "U123", "approved", "grant:1")


def test_details_must_be_json(db: Database) -> None:
    """Details that JSON cannot hold are refused before anything is written."""
    with pytest.raises(ValueError, match="plain JSON values"):
        audit.record(db, "U123", "grant.approved", "grant:1", {"when": object()})

    assert list(audit.export(db)) == []
