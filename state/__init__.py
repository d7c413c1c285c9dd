"""Warden's SQLite store: schema, migrations, audit log, outbox and queries.

Open one `Store` per process and pass ``store.db`` (or the ``db`` of
``store.transaction()``) to the functions of the modules below.
"""

from state import (
    audit,
    clock,
    cursors,
    deliveries,
    findings,
    migrations,
    outbox,
    people,
    schedule,
)
from state.errors import MigrationError, NestedTransaction, NotFound, StateError, StoreClosed
from state.store import Store

__all__ = [
    "MigrationError",
    "NestedTransaction",
    "NotFound",
    "StateError",
    "Store",
    "StoreClosed",
    "audit",
    "clock",
    "cursors",
    "deliveries",
    "findings",
    "migrations",
    "outbox",
    "people",
    "schedule",
]
