"""Running a Drive scan into the store: a scan run, its findings, its scopes.

Each page of findings is recorded in its own transaction together with the
run's checkpoint, so a scan interrupted at any moment resumes after the last
recorded page. Absence resolves findings only in scopes read to the end
(full scan) or for files the changes feed named (incremental scan).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from scanners.drive import DriveScan, Page, Resume, ScanEvent, ScopeDone, ScopeFailed
from scanners.drive_rules import Finding
from state import Store, audit, cursors, findings
from state.clock import from_iso, to_iso, utcnow
from state.findings import Seen

log = logging.getLogger(__name__)

SCANNER = "drive"
CHECKPOINT_KEY = "drive:full-scan"
LEASE_KEY = "drive:scan-lease"
# A scan that holds the lease longer than this is taken to have died.
LEASE_TTL = timedelta(hours=2)
# A full scan that dies this many times at the same checkpoint is given up:
# whatever kills it would otherwise block every scan after it.
MAX_RESUMES = 3


class ScanBusy(Exception):
    """Another process (the bot, or a `warden scan`) is scanning Drive right now."""


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


def _alive(holder: str) -> bool:
    """Whether a lease holder may still be running: a process on this host that
    died (a crash, a kill) frees its lease at once, not after the TTL."""
    host, pid, _thread = holder.split(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        with self._lease():
            run_id, resume = self._start_or_resume("full")
            return self._consume(run_id, "full", self._scan.full(resume))

    def incremental(self) -> ScanOutcome:
        with self._lease():
            with self._store.transaction() as db:
                run_id = findings.start_run(db, SCANNER, "incremental")
            tokens = self._change_tokens()
            return self._consume(run_id, "incremental", self._scan.incremental(tokens))

    @contextmanager
    def _lease(self) -> Iterator[None]:
        """One Drive scan at a time across processes, recorded in the store."""
        holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        now = utcnow()
        with self._store.transaction() as db:
            held = cursors.get(db, LEASE_KEY)
            if held:
                lease = json.loads(held)
                other = lease["holder"] != holder
                if other and from_iso(lease["until"]) > now and _alive(lease["holder"]):
                    raise ScanBusy(f"a Drive scan is already running ({lease['holder']})")
            until = to_iso(now + LEASE_TTL)
            cursors.put(db, LEASE_KEY, json.dumps({"holder": holder, "until": until}))
        try:
            yield
        finally:
            with self._store.transaction() as db:
                cursors.delete(db, LEASE_KEY)

    def _start_or_resume(self, kind: str) -> tuple[int, Resume | None]:
        saved = cursors.get(self._store.db, CHECKPOINT_KEY)
        if saved:
            checkpoint = json.loads(saved)
            attempts = checkpoint.get("attempts", 0) + 1
            if attempts <= MAX_RESUMES:
                checkpoint["attempts"] = attempts
                with self._store.transaction() as db:
                    cursors.put(db, CHECKPOINT_KEY, json.dumps(checkpoint))
                log.info("drive.scan_resumed", extra={"run_id": checkpoint["run_id"]})
                resume = Resume(set(checkpoint["done"]), checkpoint["scope"], checkpoint["token"])
                return checkpoint["run_id"], resume
            self._abandon(checkpoint["run_id"])
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

    def _abandon(self, run_id: int) -> None:
        with self._store.transaction() as db:
            errors = [{"error": f"gave up after {MAX_RESUMES} resumes at the same checkpoint"}]
            findings.finish_run(db, run_id, "failed", errors=errors)
            cursors.delete(db, CHECKPOINT_KEY)
            audit.record(db, "warden", "scan.abandoned", f"scan_run:{run_id}", {})
        log.error("drive.scan_abandoned", extra={"run_id": run_id})

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
