"""Suricata EVE events into alerts, and what a log would open under a policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows.incidents import Alert


class NotAnAlert(ValueError):
    """An EVE alert line missing what an incident needs; the message says what."""


def alert_from_eve(event: dict) -> Alert | None:
    """The alert in an EVE event, None for other event types (flow, dns, stats…)."""
    if event.get("event_type") != "alert":
        return None
    details = event.get("alert")
    if not isinstance(details, dict):
        raise NotAnAlert("an alert event without its alert object")
    try:
        return Alert(
            signature_id=int(details["signature_id"]),
            signature=str(details.get("signature") or f"signature {details['signature_id']}"),
            category=str(details.get("category") or ""),
            severity=int(details.get("severity", 3)),
            src_ip=str(event["src_ip"]), dest_ip=str(event["dest_ip"]),
            proto=str(event.get("proto") or "?"), seen_at=eve_time(event["timestamp"]),
            src_port=_port(event.get("src_port")), dest_port=_port(event.get("dest_port")),
            app_proto=event.get("app_proto"),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as error:
        raise NotAnAlert(f"an alert event without a usable {error}") from None


def eve_time(text: str) -> datetime:
    """Suricata writes 2026-12-03T17:31:55.123456+0000 (offset without a colon)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def _port(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


@dataclass
class Planned:
    """An incident a log would open, and how many alerts it would count."""

    alert: Alert
    count: int
    last_seen_at: datetime


def plan(alerts: list[Alert], min_severity: int, window: timedelta) -> list[Planned]:
    """The incidents these alerts would open with an empty store: the same rule as
    `IncidentsWorkflow.ingest` (a repeat inside the window counts on the open one)."""
    planned: list[Planned] = []
    latest: dict[str, Planned] = {}
    for alert in alerts:
        if alert.severity > min_severity:
            continue
        current = latest.get(alert.dedup_key)
        if current is not None and alert.seen_at - window <= current.last_seen_at:
            current.count += 1
            current.last_seen_at = max(current.last_seen_at, alert.seen_at)
            continue
        latest[alert.dedup_key] = Planned(alert, 1, alert.seen_at)
        planned.append(latest[alert.dedup_key])
    return planned
