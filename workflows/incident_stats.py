"""The figures behind `/warden stats` and the weekly digest.

Read-only: one call to `figures` runs a few queries (SQL picks the rows of
the widest window and computes each incident's durations; the windows are
cut from those rows) and returns a frozen `Figures`. Rendering is
`bot.stats_view`'s business.

Choices a reader of the numbers should know:

* A window of N days is ``[now - N days, now]``, both ends included, so an
  incident opened exactly seven days ago still counts in the 7-day window.
* MTTD is the *mean* time from ``opened_at`` to ``acknowledged_at`` over the
  incidents opened in the window that were acknowledged; MTTR the mean from
  ``opened_at`` to ``resolved_at`` over the incidents resolved in the window.
  Mean is what the acronyms promise. The median is given beside each because
  one alert left over a long weekend drags the mean of a handful far off;
  when the two differ a lot, that is the story. Both are whole seconds.
* An incident resolved without ever being taken gets its ``acknowledged_at``
  at resolve time, so it counts in MTTD with its time to resolve.
* The age buckets are today's unresolved incidents by ``opened_at``: younger
  than a day, one to seven days (both ends included), older than seven days.

Known shortcomings: a finding that reopens keeps its ``first_seen_at``, so
it is not counted as opened again. No index covers ``resolved_at`` (nor the
findings' times), so finding the incidents resolved in a window reads the
incidents table once, and the findings counts read the findings table once
per window: tens of milliseconds at 100k rows. An index on ``resolved_at``
would turn the first into a range read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean, median
from typing import NamedTuple

from sqlite_utils import Database

from state.clock import to_iso, utcnow

WINDOWS = (7, 30)
UNDER_A_DAY, ONE_TO_SEVEN_DAYS, OVER_A_WEEK = "under 1 day", "1–7 days", "over 7 days"
AGE_BUCKETS = (UNDER_A_DAY, ONE_TO_SEVEN_DAYS, OVER_A_WEEK)
CATEGORIES = ("true_positive", "false_positive", "benign")
UNCATEGORISED = "uncategorised"

# Every status is named so that SQLite can use the (status, opened_at) index
# for a range of opened_at; `status != 'resolved'` would read every row.
_ALL_STATUSES = "('open', 'acknowledged', 'resolved')"
_UNRESOLVED = "('open', 'acknowledged')"
_CLOSED_FINDINGS = "('resolved', 'fixed')"
# NULL when `end` is: an incident not acknowledged yet has no time to acknowledge.
_SECONDS_BETWEEN = "(julianday({end}) - julianday({start})) * 86400.0"


@dataclass(frozen=True)
class Figures:
    """What a security lead wants on Monday morning. Per-window dicts are keyed by days."""

    now: datetime
    open_by_age: dict[str, int]
    mttd: dict[int, timedelta | None]
    mttd_median: dict[int, timedelta | None]
    mttr: dict[int, timedelta | None]
    mttr_median: dict[int, timedelta | None]
    opened: dict[int, int]
    resolved: dict[int, int]
    findings_opened: dict[int, int]
    findings_closed: dict[int, int]
    active_grants: int
    by_category: dict[int, dict[str, int]]

    @property
    def windows(self) -> list[int]:
        """The windows' lengths in days, shortest first."""
        return sorted(self.opened)


@dataclass(frozen=True)
class _Spread:
    """Mean and median of a set of durations; both None for an empty set."""

    count: int
    mean: timedelta | None
    median: timedelta | None


class _Opened(NamedTuple):
    at: str
    to_acknowledge: float | None  # seconds; None while nobody has taken it


class _Resolved(NamedTuple):
    at: str
    to_resolve: float  # seconds
    category: str


def figures(db: Database, now: datetime | None = None, windows: Iterable[int] = WINDOWS) -> Figures:
    """Every figure, as of `now` (an aware datetime; the current time by default)."""
    now = now or utcnow()
    since = {days: to_iso(now - timedelta(days=days)) for days in windows}
    until = to_iso(now)

    # One read per table for the widest window; the narrower windows are
    # slices of it, cut in Python (stored times compare right as text).
    opened = _opened_rows(db, min(since.values()), until)
    resolved = _resolved_rows(db, min(since.values()), until)
    detection = {days: _spread(_acknowledge_times(opened, start)) for days, start in since.items()}
    repair = {days: _spread(_resolve_times(resolved, start)) for days, start in since.items()}
    findings = {days: _findings_counts(db, start, until) for days, start in since.items()}

    return Figures(
        now=now,
        open_by_age=_open_by_age(db, now),
        mttd={days: spread.mean for days, spread in detection.items()},
        mttd_median={days: spread.median for days, spread in detection.items()},
        mttr={days: spread.mean for days, spread in repair.items()},
        mttr_median={days: spread.median for days, spread in repair.items()},
        opened={days: sum(o.at >= start for o in opened) for days, start in since.items()},
        resolved={days: spread.count for days, spread in repair.items()},
        findings_opened={days: counts[0] for days, counts in findings.items()},
        findings_closed={days: counts[1] for days, counts in findings.items()},
        active_grants=_active_grants(db),
        by_category={days: _by_category(resolved, start) for days, start in since.items()},
    )


def _acknowledge_times(opened: list[_Opened], start: str) -> list[float]:
    return [o.to_acknowledge for o in opened if o.at >= start and o.to_acknowledge is not None]


def _resolve_times(resolved: list[_Resolved], start: str) -> list[float]:
    return [r.to_resolve for r in resolved if r.at >= start]


def _open_by_age(db: Database, now: datetime) -> dict[str, int]:
    day_ago, week_ago = to_iso(now - timedelta(days=1)), to_iso(now - timedelta(days=7))
    row = db.execute(
        f"""SELECT COUNT(*) FILTER (WHERE opened_at > :day_ago),
                   COUNT(*) FILTER (WHERE opened_at BETWEEN :week_ago AND :day_ago),
                   COUNT(*) FILTER (WHERE opened_at < :week_ago)
            FROM incidents WHERE status IN {_UNRESOLVED}""",
        {"day_ago": day_ago, "week_ago": week_ago},
    ).fetchone()
    return dict(zip(AGE_BUCKETS, row, strict=True))


def _opened_rows(db: Database, since: str, until: str) -> list[_Opened]:
    """The incidents opened in the window."""
    cursor = db.execute(
        f"""SELECT opened_at, {_SECONDS_BETWEEN.format(start="opened_at", end="acknowledged_at")}
            FROM incidents WHERE status IN {_ALL_STATUSES} AND opened_at BETWEEN ? AND ?""",
        [since, until],
    )
    return [_Opened._make(row) for row in cursor]


def _resolved_rows(db: Database, since: str, until: str) -> list[_Resolved]:
    """The incidents resolved in the window."""
    # `+status` keeps SQLite off the (status, opened_at) index: most incidents
    # are resolved, and hopping from that index to each row is several times
    # slower than reading the table straight through.
    cursor = db.execute(
        f"""SELECT resolved_at, {_SECONDS_BETWEEN.format(start="opened_at", end="resolved_at")},
                   COALESCE(category, ?)
            FROM incidents WHERE +status = 'resolved' AND resolved_at BETWEEN ? AND ?""",
        [UNCATEGORISED, since, until],
    )
    return [_Resolved._make(row) for row in cursor]


def _spread(seconds: list[float]) -> _Spread:
    if not seconds:
        return _Spread(0, None, None)
    return _Spread(len(seconds), _whole_seconds(fmean(seconds)), _whole_seconds(median(seconds)))


def _whole_seconds(seconds: float) -> timedelta:
    # julianday keeps milliseconds in a float; rounding to whole seconds makes
    # a ten-minute acknowledgement read 0:10:00 and not 0:09:59.999.
    return timedelta(seconds=round(seconds))


def _findings_counts(db: Database, since: str, until: str) -> tuple[int, int]:
    """Findings first seen in the window, and findings resolved or fixed in it."""
    return db.execute(
        f"""SELECT COUNT(*) FILTER (WHERE first_seen_at BETWEEN :since AND :until),
                   COUNT(*) FILTER (WHERE status IN {_CLOSED_FINDINGS}
                                    AND resolved_at BETWEEN :since AND :until)
            FROM findings""",
        {"since": since, "until": until},
    ).fetchone()


def _active_grants(db: Database) -> int:
    return db.execute("SELECT COUNT(*) FROM grants WHERE status = 'active'").fetchone()[0]


def _by_category(resolved: list[_Resolved], start: str) -> dict[str, int]:
    """Incidents resolved since `start` per category; every known category is present."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for incident in resolved:
        if incident.at >= start:
            counts[incident.category] = counts.get(incident.category, 0) + 1
    return counts
