"""Durations as written in the policy and in Slack."""

from datetime import timedelta

import pytest

from bot.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", timedelta(days=3)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
        ("90s", timedelta(seconds=90)),
        ("12 hours", timedelta(hours=12)),
        ("3 days", timedelta(days=3)),
        ("1d 12h", timedelta(days=1, hours=12)),
        (" 3D ", timedelta(days=3)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    """Short and long forms both give the duration meant."""
    duration = parse_duration(text)

    assert duration == expected


@pytest.mark.parametrize("text", ["", "soon", "3", "0s", "0d", "-3d", "1:30", "1.5s", "3 dayz"])
def test_parse_duration_rejects(text: str) -> None:
    """Anything else, zero and negative included, says what a duration looks like."""
    with pytest.raises(ValueError) as caught:
        parse_duration(text)

    assert str(caught.value) == "duration must look like 3d, 12h or 30m"


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(days=3), "3d"),
        (timedelta(days=1, hours=12), "1d 12h"),
        (timedelta(minutes=30), "30m"),
        (timedelta(days=30), "30d"),
        (timedelta(hours=1, seconds=5), "1h 5s"),
        (timedelta(0), "0s"),
    ],
)
def test_format_duration(duration: timedelta, expected: str) -> None:
    """Durations print in the short form, days being the largest unit."""
    text = format_duration(duration)

    assert text == expected


def test_format_then_parse_gives_the_same_duration() -> None:
    """What format_duration prints, parse_duration reads back."""
    duration = timedelta(weeks=2, hours=3, minutes=4, seconds=5)

    text = format_duration(duration)

    assert parse_duration(text) == duration


def test_format_duration_refuses_negative() -> None:
    """A negative duration has no short form."""
    with pytest.raises(ValueError):
        format_duration(timedelta(hours=-1))
