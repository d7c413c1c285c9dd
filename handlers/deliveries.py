"""Slack redelivers an event it thinks we missed; the same event twice has one effect."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse

from bot.context import Warden
from state import deliveries

log = logging.getLogger(__name__)


def register(app: App, warden: Warden) -> None:
    @app.middleware
    def skip_redelivered_events(body: dict, next) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not deliveries.first_time(warden.store.db, f"event:{event_id}"):
            log.info("event.duplicate_skipped", extra={"event_id": event_id})
            return BoltResponse(status=200, body="")
        return next()
