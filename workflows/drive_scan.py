"""Running a Drive scan into the store: a scan run, its findings, its scopes.

Each page of findings is recorded in its own transaction together with the
run's checkpoint, so a scan interrupted at any moment resumes after the last
recorded page. Absence resolves findings only in scopes read to the end
(full scan) or for files the changes feed named (incremental scan).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass

from scanners.drive import DriveScan, Page, Resume, ScanEvent, ScopeDone, ScopeFailed
from scanners.drive_rules import Finding
from state import Store, audit, cursors, findings
from state.findings import Seen

log = logging.getLogger(__name__)

SCANNER = "drive"
CHECKPOINT_KEY = "drive:full-scan"


def change_token_key(scope: str) -> str:
    return f"drive:changes:{scope}"


@dataclass
class ScanOutcome:
    run_id: int
    kind: str
    new_ids: list[int]
    ongoing: int
    resolved_ids: list[int]
    files_seen: int
    failed_scopes: list[str]
    requests: dict[str, int]


def as_seen(finding: Finding, scope: str, act_as: str | None = None) -> Seen:
    return Seen(
        fingerprint=finding.fingerprint,
        scanner=SCANNER,
        rule=finding.rule,
        severity=finding.severity,
        scope=scope,
        subject_id=finding.file_id,
        subject_name=finding.file_name,
        owner=finding.owner,
        details={
            "permission_id": finding.permission_id,
            "shared_with": finding.shared_with,
            "role": finding.role,
            "link": finding.link,
            "act_as": act_as,
        },
    )


class DriveScanRun:
    """One full or incremental scan, from start (or resume) to a finished run row."""

    def __init__(self, store: Store, scan: DriveScan, requests: Counter[str]) -> None:
        self._store = store
        self._scan = scan
        self._requests = requests

    def full(self) -> ScanOutcome:
        run_id, resume = self._start_or_resume("full")
        return self._consume(run_id, "full", self._scan.full(resume))

    def incremental(self) -> ScanOutcome:
        with self._store.transaction() as db:
            run_id = findings.start_run(db, SCANNER, "incremental")
        tokens = self._change_tokens()
        return self._consume(run_id, "incremental", self._scan.incremental(tokens))

    def _start_or_resume(self, kind: str) -> tuple[int, Resume | None]:
        saved = cursors.get(self._store.db, CHECKPOINT_KEY)
        if saved:
            checkpoint = json.loads(saved)
            log.info("drive.scan_resumed", extra={"run_id": checkpoint["run_id"]})
            resume = Resume(set(checkpoint["done"]), checkpoint["scope"], checkpoint["token"])
            return checkpoint["run_id"], resume
        with self._store.transaction() as db:
            run_id = findings.start_run(db, SCANNER, kind)
            self._save_checkpoint(db, run_id, set(), None, None)
        return run_id, None

    def _consume(self, run_id: int, kind: str, events) -> ScanOutcome:
        outcome = ScanOutcome(run_id, kind, [], 0, [], 0, [], {})
        done = self._done_scopes(run_id) if kind == "full" else set()
        changed_files: dict[str, list[str]] = {}
        for event in events:
            self._record(run_id, kind, event, outcome, done, changed_files)
        with self._store.transaction() as db:
            if kind == "full":
                outcome.resolved_ids = findings.resolve_unseen_in_scopes(db, run_id, SCANNER)
                cursors.delete(db, CHECKPOINT_KEY)
            else:
                for scope, file_ids in changed_files.items():
                    outcome.resolved_ids += findings.resolve_unseen_subjects(
                        db, run_id, SCANNER, scope, file_ids
                    )
            outcome.requests = dict(self._requests)
            self._finish(db, run_id, outcome)
        return outcome

    def _record(self, run_id, kind, event: ScanEvent, outcome, done, changed_files) -> None:
        with self._store.transaction() as db:
            if isinstance(event, Page):
                new, ongoing = findings.record_seen(
                    db, run_id, [as_seen(f, event.scope, event.act_as) for f in event.findings]
                )
                outcome.new_ids += new
                outcome.ongoing += ongoing
                outcome.files_seen += event.files_seen
                if kind == "incremental":
                    changed_files.setdefault(event.scope, []).extend(event.file_ids)
                if kind == "full":
                    self._save_checkpoint(db, run_id, done, event.scope, event.resume_token)
            elif isinstance(event, ScopeDone):
                findings.record_scope(db, run_id, event.scope)
                cursors.put(db, change_token_key(event.scope), event.change_token)
                done.add(event.scope)
                if kind == "full":
                    self._save_checkpoint(db, run_id, done, None, None)
            elif isinstance(event, ScopeFailed):
                findings.record_scope(db, run_id, event.scope, error=event.error)
                outcome.failed_scopes.append(event.scope)

    def _finish(self, db, run_id: int, outcome: ScanOutcome) -> None:
        status = "partial" if outcome.failed_scopes else "finished"
        findings.finish_run(
            db, run_id, status,
            items_seen=outcome.files_seen, requests=outcome.requests,
            new_count=len(outcome.new_ids), ongoing_count=outcome.ongoing,
            resolved_count=len(outcome.resolved_ids),
            errors=[{"scope": scope} for scope in outcome.failed_scopes],
        )  # fmt: skip
        audit.record(
            db, "warden", "scan.finished", f"scan_run:{run_id}",
            {"scanner": SCANNER, "kind": outcome.kind, "status": status,
             "new": len(outcome.new_ids), "resolved": len(outcome.resolved_ids)},
        )  # fmt: skip

    def _save_checkpoint(self, db, run_id, done, scope, token) -> None:
        value = {"run_id": run_id, "done": sorted(done), "scope": scope, "token": token}
        cursors.put(db, CHECKPOINT_KEY, json.dumps(value))

    def _done_scopes(self, run_id: int) -> set[str]:
        rows = self._store.db.execute(
            "SELECT scope FROM scan_scopes WHERE run_id = ? AND status = 'done'", [run_id]
        )
        return {row[0] for row in rows}

    def _change_tokens(self) -> dict[str, str]:
        prefix = change_token_key("")
        rows = self._store.db.execute(
            "SELECT key, value FROM cursors WHERE key LIKE ?", [prefix + "%"]
        )
        return {key[len(prefix) :]: value for key, value in rows}
