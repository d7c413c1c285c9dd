"""Named scheduled jobs whose due times live in the store.

APScheduler only wakes things up. Each job's next due time is a row in
`job_schedule`; on start every job is armed for the time the store holds, so a
restart neither skips a run that came due while the process was down (it runs
at once) nor repeats one that already happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from state import Store, schedule
from state.clock import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str  # kebab-case, also the APScheduler job id
    every: timedelta
    run: Callable[[], object]


class Scheduler:
    def __init__(self, store: Store, jobs: list[Job]) -> None:
        self._store = store
        self._jobs = {job.name: job for job in jobs}
        self._scheduler = BackgroundScheduler(timezone="UTC")

    def start(self) -> None:
        now = utcnow()
        with self._store.transaction() as db:
            for job in self._jobs.values():
                schedule.ensure_job(db, job.name, int(job.every.total_seconds()), now)
        for job in self._jobs.values():
            self._arm(job, schedule.next_run(self._store.db, job.name) or now)
        self._scheduler.start()
        log.info("scheduler.started", extra={"jobs": sorted(self._jobs)})

    def run_once(self, job_id: str, when: datetime, run: Callable[[], object]) -> None:
        """Wake something at one moment (a grant's expiry). Its due time lives in the
        workflow's own table, and a sweep catches anything this misses."""

        def guarded() -> None:
            try:
                run()
            except Exception:
                log.exception("job.failed", extra={"job": job_id})

        self._scheduler.add_job(
            guarded, trigger=DateTrigger(run_date=max(when, utcnow())), id=job_id,
            name=job_id, replace_existing=True, misfire_grace_time=None,
        )  # fmt: skip

    def shutdown(self) -> None:
        """Stop arming new runs and wait for the ones in flight."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        log.info("scheduler.stopped")

    def _arm(self, job: Job, when: datetime) -> None:
        when = max(when, utcnow())
        # Each arming gets its own APScheduler id: APScheduler removes a
        # finished date job by id after the run starts, which would otherwise
        # race with the run re-arming the same id and delete the new arming.
        self._scheduler.add_job(
            self._run,
            trigger=DateTrigger(run_date=when),
            args=[job.name],
            id=f"{job.name}@{when.isoformat()}",
            name=job.name,
            misfire_grace_time=None,
        )

    def _run(self, name: str) -> None:
        job = self._jobs[name]
        status = "ok"
        try:
            job.run()
        except Exception:
            status = "error"
            log.exception("job.failed", extra={"job": name})
        finished = utcnow()
        next_run = finished + job.every
        with self._store.transaction() as db:
            schedule.record_run(db, name, finished, status, next_run)
        log.info("job.finished", extra={"job": name, "status": status})
        if self._scheduler.running:
            self._arm(job, next_run)
