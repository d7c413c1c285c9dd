from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from state import people

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def add_alice(db: Database) -> dict[str, Any]:
    return people.upsert_person(
        db,
        "U123",
        email="Alice@Example.com",
        display_name="alice",
        real_name="Alice Liddell",
        tz="Europe/Paris",
        tz_offset=7200,
        refreshed_at=NOW,
    )


def test_upsert_then_get(db: Database) -> None:
    """A person written with upsert_person reads back with get_person."""
    add_alice(db)

    alice = people.get_person(db, "U123")

    assert alice is not None
    assert alice["real_name"] == "Alice Liddell"
    assert alice["tz_offset"] == 7200
    assert alice["is_analyst"] is False
    assert alice["refreshed_at"] == "2024-05-01T09:00:00.000000+00:00"


def test_upsert_changes_only_the_given_fields(db: Database) -> None:
    """A second upsert updates what it names and keeps the rest."""
    add_alice(db)

    alice = people.upsert_person(db, "U123", is_analyst=True)

    assert alice["is_analyst"] is True
    assert alice["real_name"] == "Alice Liddell"
    assert alice["refreshed_at"] > "2024-05-01T09:00:00.000000+00:00"


def test_unknown_field_is_refused(db: Database) -> None:
    """A misspelt field is an error listing the fields that exist."""
    with pytest.raises(ValueError, match=r"unknown people fields \['emial'\]"):
        people.upsert_person(db, "U123", emial="a@example.com")


def test_get_missing_person_is_none(db: Database) -> None:
    """get_person returns None for someone never seen."""
    assert people.get_person(db, "U404") is None


def test_find_by_email_ignores_case(db: Database) -> None:
    """Emails match whatever their case."""
    add_alice(db)

    alice = people.find_by_email(db, "alice@EXAMPLE.com")

    assert alice is not None
    assert alice["slack_user_id"] == "U123"
    assert people.find_by_email(db, "bob@example.com") is None


def test_set_github_login_by_email(db: Database) -> None:
    """The GitHub login lands on the person with that email, any case."""
    add_alice(db)

    changed = people.set_github_login(db, "ALICE@example.com", "alice-gh")

    assert changed == 1
    alice = people.get_person(db, "U123")
    assert alice is not None
    assert alice["github_login"] == "alice-gh"


def test_stale_check(db: Database) -> None:
    """A row older than max_age is stale; a fresher one is not."""
    alice = add_alice(db)
    day = timedelta(days=1)

    fresh = people.is_stale(alice, day, now=NOW + timedelta(hours=23))
    stale = people.is_stale(alice, day, now=NOW + timedelta(hours=25))

    assert not fresh
    assert stale


def test_never_refreshed_is_stale() -> None:
    """A row without refreshed_at is always stale."""
    assert people.is_stale({"refreshed_at": None}, timedelta(days=1), now=NOW)
