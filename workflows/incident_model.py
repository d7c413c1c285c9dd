"""What the incidents workflow works with: reports, alerts, its policy, the
interfaces it is given (a notifier, an enricher), and its refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlite_utils import Database

from workflows.indicators import Indicator


class NotAllowed(Exception):
    """The person may not do this; the message says who may."""


class Invalid(Exception):
    """The input cannot be used; the message says what was expected."""


@dataclass(frozen=True)
class Report:
    kind: str | None  # None: the policy's catch-all kind
    description: str
    reporter: str  # Slack user id
    source: str  # command, modal or shortcut
    link: str | None = None
    quoted_author: str | None = None
    quoted_permalink: str | None = None


@dataclass(frozen=True)
class Alert:
    """One Suricata alert, as much of it as an incident needs."""

    signature_id: int
    signature: str
    category: str
    severity: int
    src_ip: str
    dest_ip: str
    proto: str
    seen_at: datetime
    src_port: int | None = None
    dest_port: int | None = None
    app_proto: str | None = None

    @property
    def dedup_key(self) -> str:
        return f"suricata:{self.signature_id}:{self.src_ip}:{self.dest_ip}"

    def describe(self) -> str:
        source = _endpoint(self.src_ip, self.src_port)
        target = _endpoint(self.dest_ip, self.dest_port)
        what = f"{self.proto}/{self.app_proto}" if self.app_proto else self.proto
        return (f"Suricata alert {self.signature_id} ({self.category or 'no category'}), "
                f"severity {self.severity}: {source} → {target} over {what}.")  # fmt: skip


def _endpoint(address: str, port: int | None) -> str:
    if port is None:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class Notifier(Protocol):
    def opened(self, db: Database, incident: dict) -> None: ...
    def changed(self, db: Database, incident: dict) -> None: ...
    def event(self, db: Database, incident: dict, event: dict) -> None: ...
    def assigned(self, db: Database, incident: dict) -> None: ...
    def thanked(self, db: Database, incident: dict, tips: list[str]) -> None: ...
    def outcome(self, db: Database, incident: dict) -> None: ...
    def task_added(self, db: Database, incident: dict, task: dict) -> None: ...
    def task_reminder(self, db: Database, incident: dict, task: dict, number: int) -> None: ...
    def task_overdue(self, db: Database, incident: dict, task: dict) -> None: ...


class Enricher(Protocol):
    def online(self, indicator: Indicator, fresh: bool = False) -> tuple[dict, list[str]]:
        """Reputation from the online providers, and a note for each that failed."""
        ...


@dataclass(frozen=True)
class IncidentPolicy:
    kinds: list[str]
    dedup_window: timedelta
    min_suricata_severity: int
    follow_up_cadence: list[timedelta]
    tips: dict[str, list[str]] = field(default_factory=dict)


def plain(text: str) -> str:
    """Text from a person or an alert, made inert for Slack's mrkdwn (see `bot.text`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
