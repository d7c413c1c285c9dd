"""Time in the store: aware UTC datetimes in Python, ISO-8601 text in SQLite.

Every stored time has the same shape, ``2024-05-01T09:30:00.000000+00:00``:
UTC, microseconds, fixed width. Fixed width matters: SQL compares these
columns as text (``next_attempt_at <= ?``), which is only right when every
value is written the same way.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """Store form of an aware datetime, converted to UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware one, e.g. datetime.now(UTC)")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str) -> datetime:
    """Aware UTC datetime from store text; text without an offset is read as UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def from_iso_or_none(text: str | None) -> datetime | None:
    """Like `from_iso`, for nullable columns."""
    return None if text is None else from_iso(text)
