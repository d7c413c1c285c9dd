"""Direct messages to the bot. "help" (or anything Warden does not understand) gets the overview."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot import access_modal, views
from bot.access_text import parse_access
from bot.context import Warden
from bot.text import escape
from handlers.commands import switched_on
from state import outbox

log = logging.getLogger(__name__)

HELP_WORDS = {"help", "hi", "hello", "?", "what can you do"}
ACCESS_WORDS = {"share", "access", "grant", "give", "add"}


def register(app: App, warden: Warden) -> None:
    @app.event("message")
    def direct_message(event: dict) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        text = (event.get("text") or "").strip().lower()
        log.info("dm.received", extra={"user": event.get("user"), "channel": event["channel"]})
        if warden.grants is not None and _asks_for_access(event.get("text") or ""):
            offer_access_form(warden, event)
            return
        reply_to_dm(warden, event, understood=text in HELP_WORDS)


def _asks_for_access(text: str) -> bool:
    request = parse_access(text)
    return request.resource is not None and bool(ACCESS_WORDS & set(text.lower().split()))


def offer_access_form(warden: Warden, event: dict) -> None:
    """A DM carries no trigger to open a form with, so the reply has a button that does."""
    request = parse_access(event.get("text") or "")
    understood = f"I understood: {request.kind} `{request.resource}`"
    if request.grantee:
        understood += f" for {escape(request.grantee)}"
    button = {"type": "button", "action_id": access_modal.OPEN_FORM, "style": "primary",
              "text": {"type": "plain_text", "text": "Open the request form"},
              "value": (event.get("text") or "")[:2000]}  # fmt: skip
    blocks = [views.section(understood + ". Check the rest in the form:"),
              {"type": "actions", "elements": [button]}]  # fmt: skip
    payload = {"channel": event["channel"], "text": "Open the request form", "blocks": blocks}
    with warden.store.transaction() as db:
        outbox.enqueue(db, "chat.postMessage", payload, dedup_key=f"dm-reply:{event['ts']}")
    warden.sender.wake()


def reply_to_dm(warden: Warden, event: dict, understood: bool) -> None:
    """Queue the overview as a reply; the outbox delivers it even if Slack is down now."""
    blocks = views.help_blocks(switched_on(warden.policy))
    if not understood:
        blocks.insert(0, views.section("Sorry, I didn't catch that. Here is what I can do:"))
    payload = {"channel": event["channel"], "text": views.help_text(), "blocks": blocks}
    with warden.store.transaction() as db:
        outbox.enqueue(db, "chat.postMessage", payload, dedup_key=f"dm-reply:{event['ts']}")
    warden.sender.wake()
