"""Durations as people write them in the policy and in Slack: 3d, 12h, 30m.

Parsing is pytimeparse's, so longer forms ("12 hours", "3 days", "1d 12h")
work too. Printing always gives the short form, days being the largest unit,
so 30 days prints as 30d rather than 4w 2d.
"""

from datetime import timedelta

from pytimeparse import parse

DURATION_HINT = "duration must look like 3d, 12h or 30m"

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def parse_duration(text: str) -> timedelta:
    """Turn "3d", "12h", "30m", "2w", "90s" or "3 days" into a positive timedelta."""
    if not isinstance(text, str):
        raise ValueError(DURATION_HINT)

    # pytimeparse reads "1:30" as a clock-style 90 seconds. In a policy that
    # also holds times of day ("09:00"), that reading is a trap, so refuse it.
    cleaned = text.strip().lower()
    if ":" in cleaned:
        raise ValueError(DURATION_HINT)

    seconds = parse(cleaned)
    if seconds is None or seconds <= 0 or seconds != int(seconds):
        raise ValueError(DURATION_HINT)
    return timedelta(seconds=int(seconds))


def format_duration(duration: timedelta) -> str:
    """Give the short form of a duration: "3d", "1d 12h", "30m", "0s"."""
    seconds = int(duration.total_seconds())
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds == 0:
        return "0s"

    parts = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)
