"""The one global error handler: answer the person where they are.

A `WardenError` carries a message written for the person. Anything else is a
bug: the person gets a short error id, and the log line with the traceback
carries the same id so an operator can find it.
"""

from __future__ import annotations

import json
import logging
import secrets

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import views
from bot.context import Warden
from bot.errors import WardenError

log = logging.getLogger(__name__)


def register(app: App, warden: Warden) -> None:
    app.error(handle_error)


def handle_error(error: Exception, body: dict, client: WebClient, response) -> BoltResponse | None:
    text = _message_for(error, body)
    # `response` is None once the listener has acked: then only the Web API
    # can reach the person. Before that, the ack itself carries the answer.
    not_yet_acked = response is not None
    kind = body.get("type") or ("slash_command" if "command" in body else None)
    try:
        if kind == "slash_command" and not_yet_acked:
            return _json_ack({"response_type": "ephemeral", "text": text})
        if kind == "view_submission" and not_yet_acked:
            view = views.notice_modal("Warden", text)
            return _json_ack({"response_action": "update", "view": view})
        _tell(client, body, kind, text)
    except Exception:
        log.exception("error_handler.could_not_answer", extra={"kind": kind})
    return _json_ack(None) if not_yet_acked else None


def _message_for(error: Exception, body: dict) -> str:
    if isinstance(error, WardenError):
        log.info("listener.refused", extra={"code": error.code, "user": _user_id(body)})
        return views.error_text(str(error))
    error_id = secrets.token_hex(3)
    log.error(
        "listener.failed",
        exc_info=error,
        extra={"error_id": error_id, "user": _user_id(body), "kind": body.get("type")},
    )
    return views.unexpected_error_text(error_id)


def _tell(client: WebClient, body: dict, kind: str | None, text: str) -> None:
    """Reach the person after the ack: the open modal, an ephemeral, the thread or a DM."""
    user = _user_id(body)
    if kind == "slash_command":
        _respond(body["response_url"], text)
    elif kind == "block_actions" and body.get("view", {}).get("type") == "modal":
        client.views_update(view_id=body["view"]["id"], view=views.notice_modal("Warden", text))
    elif kind == "block_actions" and body.get("response_url"):
        _respond(body["response_url"], text)
    elif kind == "event_callback" and body.get("event", {}).get("channel_type") == "im":
        event = body["event"]
        client.chat_postMessage(channel=event["channel"], thread_ts=event.get("ts"), text=text)
    elif user:
        dm = client.conversations_open(users=user)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=text)


def _respond(response_url: str, text: str) -> None:
    WebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=False)


def _json_ack(payload: dict | None) -> BoltResponse:
    if payload is None:
        return BoltResponse(status=200, body="")
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )


def _user_id(body: dict) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    return body.get("user_id") or body.get("event", {}).get("user") or user
