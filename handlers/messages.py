"""Direct messages to the bot. "help" (or anything Warden does not understand) gets the overview."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot import views
from bot.context import Warden
from handlers.commands import switched_on
from state import outbox

log = logging.getLogger(__name__)

HELP_WORDS = {"help", "hi", "hello", "?", "what can you do"}


def register(app: App, warden: Warden) -> None:
    @app.event("message")
    def direct_message(event: dict) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        text = (event.get("text") or "").strip().lower()
        log.info("dm.received", extra={"user": event.get("user"), "channel": event["channel"]})
        reply_to_dm(warden, event, understood=text in HELP_WORDS)


def reply_to_dm(warden: Warden, event: dict, understood: bool) -> None:
    """Queue the overview as a reply; the outbox delivers it even if Slack is down now."""
    blocks = views.help_blocks(switched_on(warden.policy))
    if not understood:
        blocks.insert(0, views.section("Sorry, I didn't catch that. Here is what I can do:"))
    payload = {"channel": event["channel"], "text": views.help_text(), "blocks": blocks}
    with warden.store.transaction() as db:
        outbox.enqueue(db, "chat.postMessage", payload, dedup_key=f"dm-reply:{event['ts']}")
    warden.sender.wake()
