"""What Slack does with an app's answers: ack payloads and response_url posts.

A slash command's ack text is shown to the person (ephemeral unless
``response_type`` is ``in_channel``). A view_submission ack steers the modal
with ``response_action``. A response_url takes up to five posts within thirty
minutes and can reply, replace or delete the message the action came from.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .blocks import message_error, validate_blocks, validate_view
from .socket_mode import AckHandler
from .workspace import Message, SlackError, Workspace

Json = dict[str, Any]
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60


@dataclass
class ResponseContext:
    """Where a response_url's replies go."""

    user_id: str
    channel_id: str
    message: Message | None  # the message an action came from, for *_original
    issued_at: float
    uses: int = 0


class Responder:
    def __init__(self, ws: Workspace, on_posted: Callable[[Message], None]) -> None:
        self.ws = ws
        self.on_posted = on_posted
        self.contexts: dict[str, ResponseContext] = {}
        self.view_errors: dict[str, dict[str, str]] = {}
        self.problems: list[str] = []  # answers Slack would refuse, for tests to see
        self._lock = threading.Lock()

    def new_url(
        self, base_url: str, user_id: str, channel_id: str, message: Message | None = None
    ) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            context = ResponseContext(user_id, channel_id, message, self.ws.clock())
            self.contexts[token] = context
        return f"{base_url}response/{token}"

    # -- acks --------------------------------------------------------------

    def slash_ack(self, user_id: str, channel_id: str) -> AckHandler:
        """Show a slash command's ack payload the way Slack does."""

        def apply(payload: Json | None) -> None:
            if not payload or not (payload.get("text") or payload.get("blocks")):
                return
            context = ResponseContext(user_id, channel_id, None, self.ws.clock())
            # A refused reply is already in problems; the person just sees an error.
            with contextlib.suppress(SlackError):
                self._reply(context, payload, source="ack")

        return apply

    def view_submission_ack(self, user_id: str, view_id: str) -> AckHandler:
        """Apply ``response_action``; an empty ack closes the submitted view."""

        def apply(payload: Json | None) -> None:
            top = self.ws.top_modal(user_id)
            if top is None or top.id != view_id:
                self._problem(f"view {view_id} was no longer on top when its ack came")
                return
            self.view_errors[user_id] = {}
            action = (payload or {}).get("response_action")
            try:
                self._steer(user_id, action, payload or {})
            except SlackError as error:
                self._problem(f"response_action {action}: {error.code} {error.messages}")

        return apply

    def _steer(self, user_id: str, action: str | None, payload: Json) -> None:
        top = self.ws.top_modal(user_id)
        assert top is not None
        if action is None:
            self.ws.close_modal(user_id)
        elif action == "errors":
            self.view_errors[user_id] = self._checked_errors(top.spec, payload.get("errors"))
        elif action in ("update", "push"):
            problems = validate_view(payload.get("view"))
            if problems:
                raise SlackError("invalid_arguments", problems)
            if action == "update":
                self.ws.update_view(top, payload["view"])
            else:
                self.ws.push_modal(user_id, payload["view"])
        elif action == "clear":
            self.ws.close_modal(user_id, all_views=True)
        else:
            raise SlackError("invalid_arguments", [f"unknown response_action {action!r}"])

    def _checked_errors(self, spec: Json, errors: Any) -> dict[str, str]:
        """Slack only shows errors keyed by an input block's block_id."""
        if not isinstance(errors, dict) or not errors:
            raise SlackError("invalid_arguments", ["errors must be a non-empty object"])
        inputs = {b.get("block_id") for b in spec.get("blocks", []) if b.get("type") == "input"}
        unknown = sorted(set(errors) - inputs)
        if unknown:
            self._problem(f"errors name blocks that are not inputs: {unknown}")
        return {str(k): str(v) for k, v in errors.items()}

    # -- response_url ------------------------------------------------------

    def post(self, token: str, body: Json) -> tuple[int, Json]:
        """Handle a POST to a response_url; returns (HTTP status, JSON body)."""
        with self._lock:
            context = self.contexts.get(token)
            if context is None:
                return 404, {"ok": False, "error": "invalid_url"}
            if self.ws.clock() - context.issued_at > RESPONSE_URL_TTL_SECONDS:
                return 404, {"ok": False, "error": "expired_url"}
            if context.uses >= RESPONSE_URL_USES:
                return 404, {"ok": False, "error": "used_url"}
            context.uses += 1
        try:
            self._respond(context, body)
        except SlackError as error:
            out: Json = {"ok": False, "error": error.code}
            if error.messages:
                out["response_metadata"] = {"messages": error.messages}
            return 400, out
        return 200, {"ok": True}

    def _respond(self, context: ResponseContext, body: Json) -> None:
        original = context.message
        if _flag(body.get("delete_original")):
            if original is None:
                raise SlackError("message_not_found")
            self.ws.delete_message(original)
            return
        if _flag(body.get("replace_original")) and original is not None:
            _check_message(body)
            text, blocks = body.get("text", ""), body.get("blocks") or []
            self.ws.update_message(original, text, blocks, mark_edited=False)
            return
        self._reply(context, body, source="response_url")

    def _reply(self, context: ResponseContext, body: Json, source: str) -> None:
        """A new message: in the channel, or (by default) only for the person."""
        try:
            _check_message(body)
        except SlackError as error:
            self._problem(f"{source} reply refused: {error.code} {error.messages}")
            raise
        channel = self.ws.conversation(context.channel_id)
        text, blocks = body.get("text", ""), body.get("blocks")
        if body.get("response_type") == "in_channel":
            message = self.ws.post(
                channel, self.ws.bot_user_id, text, blocks, body.get("thread_ts"), source
            )
            self.on_posted(message)
        else:
            self.ws.post_ephemeral(
                channel, context.user_id, text, blocks, body.get("thread_ts"), source
            )

    def _problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)


def _check_message(body: Json) -> None:
    code = message_error(body.get("text"), body.get("blocks"))
    if code:
        raise SlackError(code)
    errors = validate_blocks(body.get("blocks"))
    if errors:
        raise SlackError("invalid_blocks", errors)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
