"""Write transactions on one sqlite-utils `Database`.

``BEGIN IMMEDIATE`` takes the write lock up front. With a plain (deferred)
``BEGIN``, a transaction that reads and then writes can find, at its first
write, that another connection committed in between; SQLite then fails at
once with "database is locked" instead of waiting out the busy timeout.
Taking the lock first makes concurrent writers queue instead.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database


def in_transaction(db: Database) -> bool:
    """Whether a transaction is open on this connection."""
    return db.conn.in_transaction


@contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """Run the block in a new ``BEGIN IMMEDIATE`` transaction on `db`.

    The caller makes sure no transaction is open; see `joined` otherwise.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        # An error such as RAISE(ROLLBACK) may already have ended it.
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


@contextmanager
def joined(db: Database) -> Iterator[Database]:
    """Join the caller's open transaction, or run in a new immediate one.

    Joining means the caller decides: its rollback undoes this block too.
    """
    if db.conn.in_transaction:
        yield db
        return
    with immediate(db) as same:
        yield same
