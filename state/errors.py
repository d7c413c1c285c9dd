"""Errors raised by the store, each with a short code for logs."""


class StateError(Exception):
    """Base of every error raised by `state`."""

    code = "state_error"


class NestedTransaction(StateError):
    """A write transaction is already open on this thread."""

    code = "nested_transaction"


class StoreClosed(StateError):
    """The store was closed; no new connections are handed out."""

    code = "store_closed"


class MigrationError(StateError):
    """A migration is registered wrongly, failed, or the database is newer than the code."""

    code = "migration_error"


class NotFound(StateError, LookupError):
    """A row the caller named does not exist, or is not in the state it expected."""

    code = "not_found"
