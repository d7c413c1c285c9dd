"""Follows Suricata's EVE log and hands its alerts to the incidents workflow.

A thread of its own, polling twice a second, because an alert should reach
the security channel within seconds and the scheduler's jobs run minutes
apart. Each batch of lines is ingested in one transaction together with the
log position after it, so a restart (or a crash mid-batch) neither skips
nor repeats an alert.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from pathlib import Path

from integrations.suricata import Batch, EveTail, Position
from state import Store, cursors
from workflows.ids import NotAnAlert, alert_from_eve
from workflows.incidents import IncidentsWorkflow

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


def position_key(path: Path) -> str:
    return f"suricata.position:{path}"


def saved_position(store: Store, path: Path) -> Position | None:
    saved = cursors.get(store.db, position_key(path))
    return Position(**json.loads(saved)) if saved else None


class IdsFollower:
    def __init__(self, store: Store, incidents: IncidentsWorkflow, path: str | Path,
                 on_opened=None) -> None:  # fmt: skip
        self._store = store
        self._incidents = incidents
        self._path = Path(path)
        self._on_opened = on_opened or (lambda opened, updated: None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ids-follower", daemon=True)
        self.malformed = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        tail = EveTail(self._path, saved_position(self._store, self._path))
        log.info("ids.following", extra={"path": str(self._path)})
        while not self._stop.is_set():
            try:
                self.poll(tail)
            except Exception:
                log.exception("ids.poll_failed")  # the position is unchanged: next poll retries
                tail = EveTail(self._path, saved_position(self._store, self._path))
            self._stop.wait(POLL_SECONDS)

    def poll(self, tail: EveTail) -> int:
        """Ingest every complete new line; returns how many incidents were opened."""
        opened = 0
        for batch in tail.read():
            outcome = self._ingest(batch)
            opened += len(outcome["opened"])
            self._on_opened(outcome["opened"], outcome["updated"])
            if self._stop.is_set():
                break
        return opened

    def _ingest(self, batch: Batch) -> dict:
        alerts, unusable = [], batch.malformed
        for event in batch.events:
            try:
                alert = alert_from_eve(event)
            except NotAnAlert as problem:
                log.warning("ids.unusable_alert", extra={"problem": str(problem)})
                unusable += 1
                continue
            if alert is not None:
                alerts.append(alert)
        if unusable:
            self.malformed += unusable
            log.warning("ids.malformed_lines", extra={"count": unusable, "path": str(self._path)})
        position = json.dumps(dataclasses.asdict(batch.position))

        def save_position(db) -> None:
            cursors.put(db, position_key(self._path), position)

        return self._incidents.ingest(alerts, after=save_position)
