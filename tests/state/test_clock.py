from datetime import UTC, datetime, timedelta, timezone

import pytest

from state.clock import from_iso, from_iso_or_none, to_iso, utcnow


def test_utcnow_is_aware_utc() -> None:
    """utcnow() carries the UTC zone."""
    now = utcnow()

    assert now.tzinfo is UTC


def test_to_iso_converts_to_utc_with_microseconds() -> None:
    """Stored times are UTC, fixed width, with microseconds."""
    paris_summer = timezone(timedelta(hours=2))

    text = to_iso(datetime(2024, 5, 1, 11, 30, tzinfo=paris_summer))

    assert text == "2024-05-01T09:30:00.000000+00:00"


def test_to_iso_refuses_naive_datetimes() -> None:
    """A naive datetime is an error that says how to fix it."""
    with pytest.raises(ValueError, match="pass an aware one"):
        to_iso(datetime(2024, 5, 1, 9, 30))


def test_from_iso_round_trips() -> None:
    """from_iso reads back what to_iso wrote."""
    moment = datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC)

    assert from_iso(to_iso(moment)) == moment


def test_from_iso_reads_naive_text_as_utc() -> None:
    """Text without an offset is taken as UTC."""
    moment = from_iso("2024-05-01T09:30:00")

    assert moment == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def test_from_iso_or_none_passes_none_through() -> None:
    """A NULL column stays None."""
    assert from_iso_or_none(None) is None
