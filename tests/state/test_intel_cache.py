from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from state import intel_cache
from state.clock import to_iso

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ANSWER = {"provider": "AbuseIPDB", "malicious": True, "summary": "abuse confidence 87%"}


def test_an_answer_is_returned_until_it_expires(db: Database) -> None:
    """An answer is good up to, not including, its expiry."""
    intel_cache.put(db, "AbuseIPDB", "ipv4:45.9.20.1", ANSWER, 3600, NOON)

    fresh = intel_cache.get(db, "AbuseIPDB", "ipv4:45.9.20.1", NOON + timedelta(minutes=59))
    expired = intel_cache.get(db, "AbuseIPDB", "ipv4:45.9.20.1", NOON + timedelta(hours=1))

    assert fresh == ANSWER
    assert expired is None


def test_nothing_stored_is_none(db: Database) -> None:
    """A miss is None, not an error."""
    assert intel_cache.get(db, "AbuseIPDB", "ipv4:45.9.20.1", NOON) is None


def test_answers_are_kept_per_provider(db: Database) -> None:
    """VirusTotal's answer about a domain is not AbuseIPDB's."""
    intel_cache.put(db, "VirusTotal", "domain:evil.example", {"malicious": True}, 60, NOON)

    assert intel_cache.get(db, "AbuseIPDB", "domain:evil.example", NOON) is None


def test_a_new_answer_replaces_the_old_one_with_a_new_expiry(db: Database) -> None:
    """Putting again replaces the answer and restarts its TTL."""
    intel_cache.put(db, "AbuseIPDB", "ipv4:45.9.20.1", {"malicious": False}, 60, NOON)
    later = NOON + timedelta(minutes=5)

    intel_cache.put(db, "AbuseIPDB", "ipv4:45.9.20.1", ANSWER, 3600, later)

    half_an_hour_on = later + timedelta(minutes=30)
    assert intel_cache.get(db, "AbuseIPDB", "ipv4:45.9.20.1", half_an_hour_on) == ANSWER
    rows = db.execute("SELECT fetched_at, expires_at FROM intel_cache").fetchall()
    assert rows == [(to_iso(later), to_iso(later + timedelta(hours=1)))]


def test_purge_removes_only_what_expired(db: Database) -> None:
    """purge_expired deletes expired rows and says how many."""
    intel_cache.put(db, "AbuseIPDB", "ipv4:45.9.20.1", ANSWER, 60, NOON)
    intel_cache.put(db, "VirusTotal", "md5:" + "a" * 32, ANSWER, 3600, NOON)

    purged = intel_cache.purge_expired(db, NOON + timedelta(minutes=1))

    assert purged == 1
    assert db.execute("SELECT provider FROM intel_cache").fetchall() == [("VirusTotal",)]


def test_a_ttl_must_be_positive(db: Database) -> None:
    """A TTL of zero would store answers nobody can read."""
    with pytest.raises(ValueError, match="ttl_seconds must be positive"):
        intel_cache.put(db, "AbuseIPDB", "ipv4:45.9.20.1", ANSWER, 0, NOON)
