"""Assembles the Drive scanner and the findings workflow from settings and policy."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from bot.findings_notifier import SlackFindingsNotifier
from bot.policy import Policy
from bot.settings import Settings
from integrations.google import GoogleWorkspace
from scanners.drive import DriveScan
from state import Store
from state.clock import from_iso, utcnow
from workflows.drive_fix import DriveRemediator
from workflows.drive_scan import CHECKPOINT_KEY, DriveScanRun, ScanBusy, ScanOutcome
from workflows.findings import FindingsWorkflow, ReminderPolicy
from workflows.people import People

log = logging.getLogger(__name__)


def reminder_policy(policy: Policy) -> ReminderPolicy:
    hours = policy.working_hours
    return ReminderPolicy(
        cadence=list(policy.reminders.cadence),
        escalate=policy.reminders.escalate_after_last,
        start=hours.start,
        end=hours.end,
        days=list(hours.days),
    )


def google_workspace(settings: Settings, stop: threading.Event | None = None) -> GoogleWorkspace:
    key = json.loads(settings.google_service_account_file.read_text())
    return GoogleWorkspace(key, settings.google_admin_email, settings.google_api_endpoint, stop)


def findings_workflow(
    store: Store, people: People, policy: Policy, workspace: GoogleWorkspace | None
) -> FindingsWorkflow:
    remediators = {}
    if workspace is not None:
        drive = policy.scanners.drive
        remediators["drive"] = DriveRemediator(workspace, policy.company.domains[0], drive.link_fix)
    return FindingsWorkflow(
        store, people, SlackFindingsNotifier(policy), remediators,
        reminder_policy(policy), policy.scanners.drive.max_exception,
    )  # fmt: skip


@dataclass
class DriveScanJob:
    """The scheduled Drive scan: full when one is due or was interrupted, else incremental."""

    store: Store
    workspace: GoogleWorkspace
    policy: Policy
    workflow: FindingsWorkflow
    lock: threading.Lock

    def __call__(self, force_full: bool = False) -> ScanOutcome | None:
        if not self.lock.acquire(blocking=False):
            log.info("drive.scan_already_running")
            return None
        try:
            return self._scan(force_full)
        except ScanBusy as busy:
            log.info("drive.scan_skipped", extra={"reason": str(busy)})
            return None
        finally:
            self.lock.release()

    def _scan(self, force_full: bool) -> ScanOutcome:
        self.workspace.requests.clear()
        drive = self.policy.scanners.drive
        scan = DriveScan(self.workspace, drive, self.policy.company.domains)
        run = DriveScanRun(self.store, scan, self.workspace.requests)
        full = force_full or self._full_scan_due(drive.full_scan_every)
        outcome = run.full() if full else run.incremental()
        self.workflow.after_scan(outcome.run_id, outcome.new_ids, outcome.resolved_ids)
        log.info(
            "drive.scan_finished",
            extra={"run_id": outcome.run_id, "kind": outcome.kind, "new": len(outcome.new_ids),
                   "resolved": len(outcome.resolved_ids), "files": outcome.files_seen},
        )  # fmt: skip
        return outcome

    def _full_scan_due(self, every: timedelta) -> bool:
        db = self.store.db
        if db.execute("SELECT 1 FROM cursors WHERE key = ?", [CHECKPOINT_KEY]).fetchone():
            return True  # an interrupted full scan resumes
        row = db.execute(
            """SELECT MAX(finished_at) FROM scan_runs
               WHERE scanner = 'drive' AND kind = 'full' AND status != 'running'"""
        ).fetchone()
        return row[0] is None or from_iso(row[0]) + every <= utcnow()
