"""The figures of `/warden stats` and the digest, from rows written straight to the store."""

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from state import Store
from state.clock import to_iso
from workflows.incident_stats import figures

NOW = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
_ids = count(1)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else to_iso(moment)


@pytest.fixture
def db(tmp_path):
    with Store(tmp_path / "w.db") as store:
        yield store.db


def add_incident(db, opened, acknowledged=None, resolved=None, category="true_positive"):
    status = "resolved" if resolved else "acknowledged" if acknowledged else "open"
    db.execute(
        """INSERT INTO incidents (kind, severity, status, source, title, first_seen_at,
               last_seen_at, opened_at, acknowledged_at, resolved_at, category)
           VALUES ('other', 'medium', ?, 'command', 'odd mail', ?, ?, ?, ?, ?, ?)""",
        [status, iso(opened), iso(opened), iso(opened), iso(acknowledged), iso(resolved),
         category if resolved else None],
    )  # fmt: skip


def add_finding(db, first_seen, status="open", resolved=None) -> None:
    db.execute(
        """INSERT INTO findings (fingerprint, scanner, rule, severity, scope, subject_id,
               subject_name, owner, status, first_seen_at, last_seen_at, last_seen_run,
               resolved_at)
           VALUES (?, 'drive', 'anyone_with_link', 'medium', 'me', 'f1', 'Plan', 'a@x.com',
                   ?, ?, ?, 1, ?)""",
        [f"print-{next(_ids)}", status, iso(first_seen), iso(first_seen), iso(resolved)],
    )


def add_grant(db, status) -> None:
    db.execute(
        """INSERT INTO grants (kind, resource, grantee, role, duration_seconds, reason,
               requester, status, created_at, request_expires_at)
           VALUES ('drive', 'file', 'a@partner.com', 'reader', 3600, 'audit', 'UALICE',
                   ?, ?, ?)""",
        [status, iso(ago(days=1)), iso(NOW)],
    )


def test_an_empty_store_has_zeros_and_no_times(db):
    """Before anything happened every count is 0 and every mean and median is None."""
    f = figures(db, NOW)

    assert f.now == NOW
    assert f.open_by_age == {"under 1 day": 0, "1–7 days": 0, "over 7 days": 0}
    assert f.mttd == f.mttd_median == f.mttr == f.mttr_median == {7: None, 30: None}
    assert f.opened == f.resolved == {7: 0, 30: 0}
    assert f.findings_opened == f.findings_closed == {7: 0, 30: 0}
    assert f.active_grants == 0
    zero = {"true_positive": 0, "false_positive": 0, "benign": 0}
    assert f.by_category == {7: zero, 30: zero}
    assert f.windows == [7, 30]


def test_unresolved_incidents_are_bucketed_by_age_with_inclusive_middle(db):
    """Exactly one day and exactly seven days old both land in "1–7 days"."""
    add_incident(db, ago(hours=2))
    add_incident(db, ago(days=1))
    add_incident(db, ago(days=3), acknowledged=ago(days=2))
    add_incident(db, ago(days=7))
    add_incident(db, ago(days=7, seconds=1))
    add_incident(db, ago(days=40), acknowledged=ago(days=39))
    add_incident(db, ago(hours=1), acknowledged=ago(minutes=30), resolved=ago(minutes=5))

    f = figures(db, NOW)

    assert f.open_by_age == {"under 1 day": 1, "1–7 days": 3, "over 7 days": 2}


def test_an_incident_opened_eight_days_ago_counts_in_30_days_not_7(db):
    """The window is [now - N days, now]: its start is in, the day before and the future out."""
    add_incident(db, ago(days=7))
    add_incident(db, ago(days=8))
    add_incident(db, ago(days=30, seconds=1))
    add_incident(db, NOW + timedelta(minutes=1))

    f = figures(db, NOW)

    assert f.opened == {7: 1, 30: 2}


def test_mttd_is_the_mean_over_acknowledged_incidents_opened_in_the_window(db):
    """Unacknowledged incidents count as opened but not in MTTD; the median sits beside it."""
    for minutes in (10, 20, 90):
        add_incident(db, ago(days=2), acknowledged=ago(days=2) + timedelta(minutes=minutes))
    add_incident(db, ago(days=1))
    add_incident(db, ago(days=10), acknowledged=ago(days=10) + timedelta(hours=1))

    f = figures(db, NOW)

    assert f.opened == {7: 4, 30: 5}
    assert f.mttd == {7: timedelta(minutes=40), 30: timedelta(minutes=45)}
    assert f.mttd_median == {7: timedelta(minutes=20), 30: timedelta(minutes=40)}


def test_mttd_is_none_when_nothing_opened_in_the_window_was_acknowledged(db):
    """Open incidents alone give a count but no time to acknowledge."""
    add_incident(db, ago(days=1))
    add_incident(db, ago(days=12), acknowledged=ago(days=11))

    f = figures(db, NOW)

    assert f.mttd == {7: None, 30: timedelta(days=1)}
    assert f.mttd_median == {7: None, 30: timedelta(days=1)}


def test_mttr_counts_incidents_by_when_they_were_resolved(db):
    """An old incident resolved this week is in this week's MTTR, with its whole age."""
    add_incident(db, ago(days=40), ago(days=39), resolved=ago(days=2))
    add_incident(db, ago(days=3), ago(days=3), resolved=ago(days=1), category="false_positive")
    add_incident(db, ago(days=12), ago(days=12), resolved=ago(days=10), category="benign")
    add_incident(db, ago(days=50), ago(days=50), resolved=ago(days=31))
    add_incident(db, ago(days=1), ago(hours=20))

    f = figures(db, NOW)

    assert f.resolved == {7: 2, 30: 3}
    assert f.mttr == {7: timedelta(days=20), 30: timedelta(days=14)}
    assert f.mttr_median == {7: timedelta(days=20), 30: timedelta(days=2)}
    assert f.by_category == {
        7: {"true_positive": 1, "false_positive": 1, "benign": 0},
        30: {"true_positive": 1, "false_positive": 1, "benign": 1},
    }


def test_a_resolved_incident_without_category_is_counted_as_uncategorised(db):
    """Older rows may lack a category; they are still counted, under their own key."""
    add_incident(db, ago(days=2), ago(days=2), resolved=ago(days=1), category=None)

    f = figures(db, NOW)

    assert f.by_category[7] == {
        "true_positive": 0, "false_positive": 0, "benign": 0, "uncategorised": 1,
    }  # fmt: skip


def test_findings_opened_and_closed_per_window(db):
    """Opened by first sight; closed when resolved or fixed in the window, not while fixing."""
    add_finding(db, ago(days=3))
    add_finding(db, ago(days=20), status="fixed", resolved=ago(days=2))
    add_finding(db, ago(days=40), status="resolved", resolved=ago(days=10))
    add_finding(db, ago(days=1), status="fixing")
    add_finding(db, ago(days=60), status="resolved", resolved=ago(days=45))

    f = figures(db, NOW)

    assert f.findings_opened == {7: 2, 30: 3}
    assert f.findings_closed == {7: 1, 30: 2}


def test_only_active_grants_are_live_access(db):
    """Requested, revoked and expired grants give nobody access."""
    for status in ("active", "active", "requested", "revoked", "expired"):
        add_grant(db, status)

    assert figures(db, NOW).active_grants == 2


def test_other_windows_can_be_asked_for(db):
    """The windows are the caller's; every per-window figure is keyed by them."""
    add_incident(db, ago(hours=12))
    add_incident(db, ago(days=60))

    f = figures(db, NOW, windows=(1, 90))

    assert f.opened == {1: 1, 90: 2}
    assert set(f.mttd) == set(f.by_category) == set(f.findings_closed) == {1, 90}


def test_a_naive_now_is_refused(db):
    """A time without a zone would compare wrongly with stored UTC text."""
    with pytest.raises(ValueError, match="naive datetime"):
        figures(db, datetime(2024, 5, 6, 9, 0))
