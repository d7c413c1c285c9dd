"""Services, their integration keys, and the alerts events open, acknowledge and resolve.

PagerDuty's de-duplication rules ("Alert De-Duplication" in the docs):

* an alert is found by routing key and ``dedup_key``; events sent with
  another routing key never touch it;
* a trigger for an open alert (triggered or acknowledged) is added to that
  alert, and an acknowledged alert stays acknowledged;
* once an alert is resolved, a trigger with its ``dedup_key`` opens a new
  alert, and an acknowledge or resolve is dropped, as is one for a key that
  never had an alert. Dropped events are still answered 202: the API is
  asynchronous and only checks the event's shape.
* a trigger without ``dedup_key`` gets a generated one (a UUID), so it
  always opens a new alert.
"""

from __future__ import annotations

import copy
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

TRIGGERED, ACKNOWLEDGED, RESOLVED = "triggered", "acknowledged", "resolved"


@dataclass
class Alert:
    routing_key: str
    dedup_key: str
    payload: Json  # the trigger's payload that opened the alert
    status: str = TRIGGERED
    events: list[Json] = field(default_factory=list)  # every event applied, in order
    opened_at: float = 0.0

    @property
    def summary(self) -> str:
        return self.payload["summary"]

    @property
    def severity(self) -> str:
        return self.payload["severity"]

    @property
    def is_open(self) -> bool:
        return self.status != RESOLVED


class World:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.services: dict[str, str] = {}  # routing key -> service name
        self.alerts: dict[tuple[str, str], list[Alert]] = {}  # oldest first
        self.opened: list[Alert] = []  # every alert, in the order they opened
        self.dropped: list[Json] = []

    def add_service(self, name: str) -> str:
        # Real integration keys are 32 lower-case hex characters.
        routing_key = secrets.token_hex(16)
        self.services[routing_key] = name
        return routing_key

    def apply(self, event: Json) -> str:
        """Apply a valid event; returns the dedup_key PagerDuty answers with."""
        routing_key = event["routing_key"]
        dedup_key = event.get("dedup_key") or uuid.uuid4().hex
        event = copy.deepcopy(event) | {"dedup_key": dedup_key}
        current = self.current(routing_key, dedup_key)
        if event["event_action"] == "trigger":
            self._trigger(current, event)
        elif current is None or not current.is_open:
            self.dropped.append(event)
        else:
            self._update(current, event)
        return dedup_key

    def current(self, routing_key: str, dedup_key: str) -> Alert | None:
        history = self.alerts.get((routing_key, dedup_key))
        return history[-1] if history else None

    def _trigger(self, current: Alert | None, event: Json) -> None:
        if current is not None and current.is_open:
            current.events.append(event)
            return
        key = (event["routing_key"], event["dedup_key"])
        alert = Alert(*key, payload=event["payload"], events=[event], opened_at=self.clock())
        self.alerts.setdefault(key, []).append(alert)
        self.opened.append(alert)

    def _update(self, alert: Alert, event: Json) -> None:
        alert.events.append(event)
        if event["event_action"] == "resolve":
            alert.status = RESOLVED
        else:
            alert.status = ACKNOWLEDGED
