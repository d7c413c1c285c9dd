import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlite_utils import Database

from state import NestedTransaction, Store, StoreClosed
from state.migrations import REGISTRY
from tests.state.conftest import ThreadRunner


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_file_is_created_private_and_in_wal_mode(tmp_path: Path) -> None:
    """A new database file is 0600, as are its -wal and -shm files, and WAL is on."""
    path = tmp_path / "warden.db"

    store = Store(path)

    assert mode_of(path) == 0o600
    assert mode_of(tmp_path / "warden.db-wal") == 0o600
    assert mode_of(tmp_path / "warden.db-shm") == 0o600
    assert store.db.journal_mode == "wal"
    store.close()


def test_connections_wait_for_locks_and_enforce_foreign_keys(file_store: Store) -> None:
    """Each connection has a 5 s busy timeout and foreign keys on."""
    db = file_store.db

    busy_timeout = db.execute("PRAGMA busy_timeout").fetchone()[0]
    foreign_keys = db.execute("PRAGMA foreign_keys").fetchone()[0]

    assert busy_timeout == 5000
    assert foreign_keys == 1


def test_migrations_are_applied_on_open(store: Store) -> None:
    """Opening a store leaves every registered migration recorded."""
    numbers = [row["number"] for row in store.db.query("SELECT number FROM _migrations")]

    assert numbers == [m.number for m in REGISTRY.ordered()]


def test_each_thread_gets_its_own_database(file_store: Store) -> None:
    """store.db is one Database per thread for a file store."""
    seen: list[Database] = []
    thread = threading.Thread(target=lambda: seen.append(file_store.db))

    thread.start()
    thread.join()

    assert seen[0] is not file_store.db
    assert file_store.db is file_store.db


def test_memory_store_shares_one_database(memory_store: Store) -> None:
    """An in-memory store hands every thread the same Database."""
    seen: list[Database] = []
    thread = threading.Thread(target=lambda: seen.append(memory_store.db))

    thread.start()
    thread.join()

    assert seen[0] is memory_store.db


def test_transaction_commits(store: Store) -> None:
    """Writes inside transaction() are there after the block."""
    with store.transaction() as db:
        db.execute("INSERT INTO seen_deliveries VALUES ('k', 'now')")

    assert store.db.table("seen_deliveries").count == 1


def test_transaction_rolls_back_on_error(store: Store) -> None:
    """An exception in the block undoes its writes and propagates."""
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO seen_deliveries VALUES ('k', 'now')")
        raise RuntimeError("boom")

    assert store.db.table("seen_deliveries").count == 0
    assert not store.db.conn.in_transaction


def test_transaction_takes_the_write_lock_up_front(file_store: Store) -> None:
    """transaction() is BEGIN IMMEDIATE: another writer cannot start meanwhile."""
    other = sqlite3.connect(file_store.path, timeout=0)

    with file_store.transaction(), pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")

    other.close()


def test_nested_transaction_is_refused(store: Store) -> None:
    """Opening transaction() inside another on the same thread is a clear error."""
    with (
        store.transaction(),
        pytest.raises(NestedTransaction, match="pass its db down"),
        store.transaction(),
    ):
        pass


def test_transaction_inside_sqlite_utils_atomic_is_refused(store: Store) -> None:
    """A transaction opened some other way on this thread also counts as nesting."""
    with store.db.atomic(), pytest.raises(NestedTransaction), store.transaction():
        pass


def test_memory_transactions_from_two_threads_take_turns(
    memory_store: Store, in_threads: ThreadRunner
) -> None:
    """On the shared in-memory connection, transactions wait for each other."""

    def write(index: int) -> None:
        for n in range(20):
            with memory_store.transaction() as db:
                db.execute("INSERT INTO seen_deliveries VALUES (?, 'now')", [f"{index}-{n}"])

    in_threads(2, write)

    assert memory_store.db.table("seen_deliveries").count == 40


def test_close_closes_every_connection(file_store: Store) -> None:
    """close() closes the connections of all threads and refuses new ones."""
    other: list[Database] = []
    thread = threading.Thread(target=lambda: other.append(file_store.db))
    thread.start()
    thread.join()
    mine = file_store.db

    file_store.close()

    for db in (mine, other[0]):
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            db.conn.execute("SELECT 1")
    with pytest.raises(StoreClosed, match="open a new Store"):
        _ = file_store.db


def test_reopening_a_file_keeps_data_and_applies_nothing(tmp_path: Path) -> None:
    """A second Store on the same file sees the data and finds no pending migration."""
    path = tmp_path / "warden.db"
    with Store(path) as first:
        first.db.execute("INSERT INTO seen_deliveries VALUES ('k', 'now')")

    with Store(path) as second:
        count = second.db.table("seen_deliveries").count
        migrations = second.db.table("_migrations").count

    assert count == 1
    assert migrations == len(REGISTRY.ordered())


def test_existing_file_readable_by_others_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An existing database file open to others is left alone but logged with the fix."""
    path = tmp_path / "warden.db"
    path.touch(mode=0o644)
    path.chmod(0o644)

    with Store(path):
        pass

    assert mode_of(path) == 0o644
    warning = next(r for r in caplog.records if r.msg == "store.file_readable_by_others")
    assert vars(warning)["fix"] == f"chmod 600 {path}"
