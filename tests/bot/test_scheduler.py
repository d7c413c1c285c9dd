"""Scheduled jobs take their due times from the store."""

import threading
from datetime import timedelta

from bot.scheduler import Job, Scheduler
from state import Store, schedule
from state.clock import utcnow


def test_job_due_while_down_runs_at_start(tmp_path):
    """A job whose stored due time has passed runs right after start."""
    store = Store(tmp_path / "w.db")
    with store.transaction() as db:
        schedule.ensure_job(db, "nightly-report", 86400, utcnow() - timedelta(hours=3))
    ran = threading.Event()
    scheduler = Scheduler(store, [Job("nightly-report", timedelta(days=1), ran.set)])

    scheduler.start()
    try:
        assert ran.wait(5)
        _wait_until_recorded(store, "nightly-report")
    finally:
        scheduler.shutdown()

    assert schedule.next_run(store.db, "nightly-report") > utcnow() + timedelta(hours=23)


def _wait_until_recorded(store: Store, name: str) -> None:
    # Shutting APScheduler down while its loop is between running a job and
    # dropping it makes the loop thread raise; let the run finish first.
    for _ in range(100):
        if any(job["name"] == name and job["last_status"] for job in schedule.all_jobs(store.db)):
            return
        threading.Event().wait(0.05)


def test_job_not_yet_due_is_not_repeated_by_a_restart(tmp_path):
    """A job that already ran waits for its stored time, not its interval from start."""
    store = Store(tmp_path / "w.db")
    with store.transaction() as db:
        schedule.ensure_job(db, "nightly-report", 86400, utcnow() + timedelta(hours=5))
    ran = threading.Event()
    scheduler = Scheduler(store, [Job("nightly-report", timedelta(days=1), ran.set)])

    scheduler.start()
    try:
        assert not ran.wait(1)
    finally:
        scheduler.shutdown()


def test_failing_job_is_recorded_and_rearmed(tmp_path):
    """A job that raises is logged as an error and still gets its next due time."""
    store = Store(tmp_path / "w.db")
    done = threading.Event()

    def broken() -> None:
        done.set()
        raise RuntimeError("boom")

    scheduler = Scheduler(store, [Job("flaky-check", timedelta(hours=1), broken)])
    scheduler.start()
    try:
        assert done.wait(5)
        store_db = store.db
        for _ in range(50):
            job = schedule.all_jobs(store_db)[0]
            if job["last_status"]:
                break
            threading.Event().wait(0.05)
    finally:
        scheduler.shutdown()

    assert job["last_status"] == "error"
    assert schedule.next_run(store.db, "flaky-check") > utcnow() + timedelta(minutes=59)
