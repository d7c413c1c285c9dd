"""The SQLite store: one file, one connection per thread, migrations on open.

Warden writes from Bolt listener threads, APScheduler threads and the outbox
drainer at once. A sqlite3 connection must not be shared by threads that
each run their own transactions, so every thread gets its own connection
(and sqlite-utils `Database`) on first use of `Store.db`. WAL lets readers
carry on while one writer writes; writers queue on the busy timeout.

Known shortcoming: a connection lives until `Store.close()`, also after its
thread ended. The thread pools Warden runs on reuse their threads, so the
number of connections stays at the number of threads.
"""

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from state.errors import NestedTransaction, StoreClosed
from state.migrations import apply_migrations
from state.tx import immediate

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
FILE_MODE = 0o600
MEMORY = ":memory:"

_NESTED = (
    "a transaction is already open on this thread; pass its db down"
    " instead of opening store.transaction() again"
)


class Store:
    """The SQLite database of Warden, safe to use from many threads.

    ``Store(":memory:")`` is for tests: one connection shared by all
    threads, with `transaction` serialised by a lock.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.memory = self.path == MEMORY
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._memory_write_lock = threading.Lock()
        self._shared: Database | None = None
        self._closed = False

        try:
            applied = self._open()
        except BaseException:
            self.close()
            raise
        if applied:
            log.info("store.migrated", extra={"path": self.path, "migrations": applied})

    def _open(self) -> list[int]:
        if not self.memory:
            _create_private_file(Path(self.path))
        db = self.db
        if not self.memory:
            db.enable_wal()
            _tighten_sidecars(Path(self.path))
        return apply_migrations(db)

    @property
    def db(self) -> Database:
        """This thread's `Database` (the shared one for ``:memory:``)."""
        if self._closed:
            raise StoreClosed(f"the store at {self.path} is closed; open a new Store")
        if self.memory:
            if self._shared is None:
                self._shared = self._connect()
            return self._shared
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on this thread.

        Yields this thread's `Database`; pass it to the functions of `state`
        so that everything in the block commits or rolls back together.
        """
        if getattr(self._local, "in_transaction", False):
            raise NestedTransaction(_NESTED)
        with self._memory_lock():
            db = self.db
            if db.conn.in_transaction:
                raise NestedTransaction(_NESTED)
            self._local.in_transaction = True
            try:
                with immediate(db):
                    yield db
            finally:
                self._local.in_transaction = False

    def close(self) -> None:
        """Close every connection this store opened. Idempotent."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._shared = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.path}>"

    def _connect(self) -> Database:
        # isolation_level=None: no transactions the driver opens by itself;
        # the only ones are those of `transaction` and of sqlite-utils.
        # check_same_thread=False only so that close() may run on any thread;
        # a file store's connection is otherwise used by its own thread alone.
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        with self._lock:
            if self._closed:
                connection.close()
                raise StoreClosed(f"the store at {self.path} is closed; open a new Store")
            self._connections.append(connection)
        return Database(connection, execute_plugins=False)

    @contextmanager
    def _memory_lock(self) -> Iterator[None]:
        # The in-memory store has one connection: two threads' transactions
        # would otherwise interleave on it.
        if not self.memory:
            yield
            return
        with self._memory_write_lock:
            yield


def _create_private_file(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, FILE_MODE)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning(
                "store.file_readable_by_others",
                extra={"path": str(path), "mode": oct(mode), "fix": f"chmod 600 {path}"},
            )
        return
    os.close(fd)


def _tighten_sidecars(path: Path) -> None:
    """Make the -wal and -shm files 0600 too, if SQLite created them wider."""
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        try:
            if stat.S_IMODE(sidecar.stat().st_mode) & 0o077:
                sidecar.chmod(FILE_MODE)
        except FileNotFoundError:
            pass
