from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from state import NotFound, schedule

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
FOUR_HOURS_IN_SECONDS = 4 * 60 * 60


def test_ensure_job_adds_a_missing_job(db: Database) -> None:
    """A new job is due at first_run_at."""
    schedule.ensure_job(db, "scan-drive", FOUR_HOURS_IN_SECONDS, START)

    assert schedule.next_run(db, "scan-drive") == START


def test_ensure_job_keeps_next_run_and_updates_interval(db: Database) -> None:
    """On restart the stored due time wins; a changed interval is taken."""
    schedule.ensure_job(db, "scan-drive", FOUR_HOURS_IN_SECONDS, START)

    schedule.ensure_job(db, "scan-drive", 60, START + timedelta(days=1))

    assert schedule.next_run(db, "scan-drive") == START
    assert schedule.all_jobs(db)[0]["interval_seconds"] == 60


def test_record_run_moves_the_next_run(db: Database) -> None:
    """A finished run is recorded with its status and the next due time."""
    schedule.ensure_job(db, "scan-drive", FOUR_HOURS_IN_SECONDS, START)
    finished = START + timedelta(minutes=3)

    schedule.record_run(db, "scan-drive", finished, "ok", finished + timedelta(hours=4))

    job = schedule.all_jobs(db)[0]
    assert job["last_run_at"] == finished
    assert job["last_status"] == "ok"
    assert schedule.next_run(db, "scan-drive") == finished + timedelta(hours=4)


def test_record_run_without_next_run_ends_the_job(db: Database) -> None:
    """next_run_at None means the job is not due again."""
    schedule.ensure_job(db, "send-digest", None, START)

    schedule.record_run(db, "send-digest", START, "ok", None)

    assert schedule.next_run(db, "send-digest") is None


def test_record_run_of_unknown_job_is_an_error(db: Database) -> None:
    """Recording a run of a job never ensured says what to call first."""
    with pytest.raises(NotFound, match="call ensure_job first"):
        schedule.record_run(db, "nope", START, "ok", None)


def test_next_run_of_unknown_job_is_none(db: Database) -> None:
    """next_run is None for a job the store does not know."""
    assert schedule.next_run(db, "nope") is None


def test_all_jobs_are_sorted_by_name_with_datetimes(db: Database) -> None:
    """all_jobs lists every job by name, times as aware datetimes."""
    schedule.ensure_job(db, "scan-github", 60, START)
    schedule.ensure_job(db, "expire-grants", 60, START)

    jobs = schedule.all_jobs(db)

    assert [job["name"] for job in jobs] == ["expire-grants", "scan-github"]
    assert jobs[0]["next_run_at"] == START
    assert jobs[0]["last_run_at"] is None


def test_job_names_are_kebab_case(db: Database) -> None:
    """A job id that is not kebab-case is refused with an example."""
    with pytest.raises(ValueError, match="kebab-case, like scan-drive"):
        schedule.ensure_job(db, "scan_drive", 60, START)
