"""Follow-up tasks on an incident: an owner, a due date, reminders until done.

Reminders follow the policy's cadence from the task's creation (1d, 3d: a day
after, then three days after), then repeat at its last interval. The next
reminder time is stored with the task, so a restart neither skips nor
repeats one, and after a long stop the owner gets one reminder, not the
missed ones in a burst. An overdue task is told to the security channel once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from state import Store
from state import incidents as rows
from state.clock import from_iso, to_iso, utcnow
from workflows.incident_model import Invalid, NotAllowed, Notifier, plain

if TYPE_CHECKING:
    from workflows.incidents import IncidentsWorkflow


class FollowUps:
    def __init__(self, store: Store, incidents: IncidentsWorkflow, notifier: Notifier,
                 cadence: list[timedelta]) -> None:  # fmt: skip
        self._store = store
        self._incidents = incidents
        self._notifier = notifier
        self._cadence = cadence

    def add(self, incident_id: int, actor: str, text: str, owner: str, due: datetime) -> dict:
        self._incidents.require_analyst(actor)
        text = text.strip()
        if not text:
            raise Invalid("Say what needs doing.")
        if due <= utcnow():
            raise Invalid("The due date has passed; pick a later one.")
        with self._store.transaction() as db:
            incident = self._incidents.unresolved(db, incident_id)
            task_id = rows.add_task(
                db, incident_id=incident_id, text=text, owner=owner, due_at=to_iso(due),
                created_by=actor, next_reminder_at=to_iso(utcnow() + self._cadence[0]),
            )  # fmt: skip
            task = rows.get_task(db, task_id)
            self._incidents.note_in(
                db, incident_id, actor, "task_added",
                f"Task {task_id} for <@{owner}>, due {due:%a %d %b}: {plain(text)}",
                {"task": task_id, "owner": owner, "due_at": task["due_at"]},
            )  # fmt: skip
            self._notifier.task_added(db, incident, task)
        return task

    def finish(self, task_id: int, actor: str) -> dict:
        with self._store.transaction() as db:
            task = rows.get_task(db, task_id)
            if actor != task["owner"] and not self._incidents.is_analyst(actor):
                raise NotAllowed("Only the task's owner or a security analyst can finish it.")
            if task["status"] == "done":
                return task
            rows.update_task(db, task_id, status="done", done_at=to_iso(utcnow()),
                             next_reminder_at=None)  # fmt: skip
            self._incidents.note_in(db, task["incident_id"], actor, "task_done",
                                    f"<@{actor}> finished task {task_id}: {plain(task['text'])}",
                                    {"task": task_id})  # fmt: skip
            return rows.get_task(db, task_id)

    def remind(self, now: datetime | None = None) -> int:
        """Remind owners on the cadence; tell the security channel once a task is overdue."""
        now = now or utcnow()
        sent = 0
        with self._store.transaction() as db:
            for task in rows.tasks_due_for_reminder(db, now):
                number = self._reminder_number(task)
                incident = rows.get(db, task["incident_id"])
                self._notifier.task_reminder(db, incident, task, number)
                rows.update_task(db, task["id"],
                                 next_reminder_at=self._next_reminder_after(task, number, now))
                sent += 1
            for task in rows.overdue_tasks(db, now):
                incident = rows.get(db, task["incident_id"])
                self._notifier.task_overdue(db, incident, task)
                rows.update_task(db, task["id"], escalated_at=to_iso(now))
                self._incidents.note_in(db, incident["id"], None, "task_overdue",
                                        f"Task {task['id']} for <@{task['owner']}> is overdue.",
                                        {"task": task["id"]})  # fmt: skip
        return sent

    def _reminder_number(self, task: dict) -> int:
        """1 for the first reminder: the cadence steps up to this one, then repeats."""
        since_created = from_iso(task["next_reminder_at"]) - from_iso(task["created_at"])
        within = sum(1 for step in self._cadence if step <= since_created)
        beyond = max(since_created - self._cadence[-1], timedelta(0)) // self._last_gap()
        return max(within + beyond, 1)

    def _next_reminder(self, task: dict, number: int) -> str:
        if number < len(self._cadence):
            return to_iso(from_iso(task["created_at"]) + self._cadence[number])
        # Past the cadence, keep reminding at its last interval until done.
        return to_iso(from_iso(task["next_reminder_at"]) + self._last_gap())

    def _next_reminder_after(self, task: dict, number: int, now: datetime) -> str:
        """The first reminder time after `now`: after a long stop, one reminder, not a
        burst of the ones missed."""
        upcoming = self._next_reminder(task, number)
        while from_iso(upcoming) <= now:
            number += 1
            upcoming = self._next_reminder({**task, "next_reminder_at": upcoming}, number)
        return upcoming

    def _last_gap(self) -> timedelta:
        previous = self._cadence[-2] if len(self._cadence) > 1 else timedelta(0)
        return self._cadence[-1] - previous
