"""What people do in the workspace: commands, clicks, shortcuts, modals, DMs.

Each action builds the payload Slack would send, delivers it over Socket Mode
and waits for Warden's ack. Slack gives an app three seconds to ack an
interaction before it shows the person an error, so a missing ack here is an
AssertionError that says so.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from . import payloads
from .blocks import block_elements
from .responses import Responder
from .socket_mode import AckHandler, Delivery, NoAck, SocketMode
from .state import element_state, is_empty
from .workspace import Conversation, Message, SlackError, View, Workspace

T = TypeVar("T")
Json = dict[str, Any]
ACK_DEADLINE_SECONDS = 3.0


class PersonActions:
    """Mixed into SlackEmulator; acts as a person and returns Delivery records."""

    workspace: Workspace
    sockets: SocketMode
    responder: Responder
    subscriptions: set[str]
    base_url: str

    if TYPE_CHECKING:
        def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]: ...
        def _send_event(self, event: Json) -> concurrent.futures.Future[Delivery | None]: ...
        def _wait_event(self, future: concurrent.futures.Future[Delivery | None]) -> Delivery: ...

    # -- commands and shortcuts --------------------------------------------

    def slash_command(
        self, user_id: str, command: str, text: str = "", channel_id: str | None = None
    ) -> Delivery:
        """Type ``/command text`` (by default in the person's DM with the bot)."""
        if not command.startswith("/"):
            raise AssertionError(f"slash commands start with '/': got {command!r}")
        ws = self.workspace
        user = ws.user(user_id)
        if channel_id:
            channel = self._visible_channel(user_id, channel_id)
        else:
            channel = ws.open_im(user_id)[0]
        url = self.responder.new_url(self.base_url, user.id, channel.id)
        payload = payloads.slash_command(
            ws, user, channel, command, text, url, ws.issue_trigger(user.id)
        )
        on_ack = self.responder.slash_ack(user.id, channel.id)
        return self._interact("slash_commands", payload, on_ack, f"{command} command")

    def global_shortcut(self, user_id: str, callback_id: str) -> Delivery:
        ws = self.workspace
        user = ws.user(user_id)
        payload = payloads.global_shortcut(ws, user, callback_id, ws.issue_trigger(user.id))
        return self._interact("interactive", payload, None, f"shortcut {callback_id!r}")

    def message_shortcut(
        self, user_id: str, callback_id: str, channel_id: str, message_ts: str
    ) -> Delivery:
        """Pick a message shortcut from a message's ⋮ menu."""
        ws = self.workspace
        user = ws.user(user_id)
        channel = self._visible_channel(user_id, channel_id)
        message = ws.message(channel.id, message_ts)
        url = self.responder.new_url(self.base_url, user.id, channel.id, message)
        payload = payloads.message_shortcut(
            ws, user, channel, message, callback_id, url, ws.issue_trigger(user.id)
        )
        return self._interact("interactive", payload, None, f"shortcut {callback_id!r}")

    # -- buttons -----------------------------------------------------------

    def click_button(
        self, user_id: str, channel_id: str, message_ts: str, action_id: str,
        value: str | None = None,
    ) -> Delivery:
        """Click the button ``action_id`` on a message (or on the person's ephemeral).

        ``value``, when given, picks the button with that value: needed when an
        action_id repeats across blocks, and a check that the test clicks the
        button it means to.
        """
        ws = self.workspace
        user = ws.user(user_id)
        channel = self._visible_channel(user_id, channel_id)
        message = self._clickable_message(user_id, channel.id, message_ts)
        block_id, button = _find_button(message.blocks, action_id, value, f"message {message_ts}")
        url = self.responder.new_url(self.base_url, user.id, channel.id, message)
        action = payloads.button_action(ws, block_id, button)
        payload = payloads.message_block_actions(
            ws, user, channel, message, action, url, ws.issue_trigger(user.id)
        )
        return self._interact("interactive", payload, None, f"click on {action_id!r}")

    def forge_click(
        self, user_id: str, channel_id: str, message_ts: str, action_id: str
    ) -> Delivery:
        """Send the click a tampered client could send: ``user_id`` presses a button on
        a message they cannot see (someone else's DM). Slack signs what it relays but
        does not stop a member replaying another message's action ids, so the app
        must check who clicked. For security tests only.
        """
        ws = self.workspace
        user = ws.user(user_id)
        channel = ws.conversation(channel_id)
        message = ws.message(channel.id, message_ts)
        block_id, button = _find_button(message.blocks, action_id, None, f"message {message_ts}")
        url = self.responder.new_url(self.base_url, user.id, channel.id, message)
        action = payloads.button_action(ws, block_id, button)
        payload = payloads.message_block_actions(
            ws, user, channel, message, action, url, ws.issue_trigger(user.id)
        )
        return self._interact("interactive", payload, None, f"forged click on {action_id!r}")

    def click_view_button(
        self, user_id: str, action_id: str, value: str | None = None
    ) -> Delivery:
        """Click a button in the person's top modal or, failing that, on their Home tab."""
        ws = self.workspace
        user = ws.user(user_id)
        views = [v for v in (ws.top_modal(user_id), ws.home(user_id)) if v is not None]
        holding = [v for v in views if _has_button(v.spec["blocks"], action_id)]
        if not holding:
            where = " or ".join(f"{v.type} {v.id}" for v in views) or "no modal or Home tab"
            raise AssertionError(f"no button {action_id!r} in {where} of {user_id}")
        view = holding[0]
        block_id, button = _find_button(view.spec["blocks"], action_id, value, f"view {view.id}")
        action = payloads.button_action(ws, block_id, button)
        payload = payloads.view_block_actions(ws, user, view, action, ws.issue_trigger(user.id))
        return self._interact("interactive", payload, None, f"click on {action_id!r}")

    # -- modals ------------------------------------------------------------

    def submit_view(
        self, user_id: str, values: dict[str, dict[str, object]] | None = None
    ) -> Delivery:
        """Fill the top modal's inputs (block_id -> action_id -> value) and submit.

        Values are plain: text for text inputs, an option's value (or a list of
        them) for selects, checkboxes and radio buttons, a user id for
        users_select, ``YYYY-MM-DD`` for a datepicker. Untouched inputs keep
        their initial values. A required input left empty fails here, because
        Slack's client would not let the person submit.
        """
        ws = self.workspace
        user = ws.user(user_id)
        view = ws.top_modal(user_id)
        if view is None:
            raise AssertionError(f"{user_id} has no modal open to submit")
        if not view.spec.get("submit"):
            raise AssertionError(f"modal {view.spec.get('callback_id')!r} has no submit button")
        with ws.lock:
            view.values = _filled_state(view, values or {})
            payload = payloads.view_submission(ws, user, view, ws.issue_trigger(user.id))
        on_ack = self.responder.view_submission_ack(user.id, view.id)
        callback_id = view.spec.get("callback_id")
        return self._interact("interactive", payload, on_ack, f"submission of {callback_id!r}")

    def close_view(self, user_id: str, all_views: bool = False) -> Delivery | None:
        """Close the top modal (Back/Cancel) or, with ``all_views``, the whole stack (X).

        Slack tells the app only when the view asked for ``notify_on_close``.
        """
        ws = self.workspace
        closed = ws.close_modal(user_id, all_views=all_views)
        if not closed:
            raise AssertionError(f"{user_id} has no modal open to close")
        view = closed[0]
        if not view.spec.get("notify_on_close"):
            return None
        is_cleared = all_views and len(closed) > 1
        payload = payloads.view_closed(ws, ws.user(user_id), view, is_cleared)
        return self._interact("interactive", payload, None, "view_closed")

    # -- events ------------------------------------------------------------

    def open_home(self, user_id: str) -> Delivery | None:
        """Open the app's Home tab: Slack sends app_home_opened."""
        ws = self.workspace
        im, _ = ws.open_im(user_id)
        if "app_home_opened" not in self.subscriptions:
            return None
        event = payloads.app_home_opened(ws, ws.user(user_id), im, ws.home(user_id))
        return self._wait_event(self._send_event(event))

    def dm_bot(self, user_id: str, text: str) -> Delivery | None:
        """Write to the bot in the person's IM; Slack sends a message event."""
        ws = self.workspace
        im, _ = ws.open_im(user_id)
        message = ws.post(im, user_id, text, payloads.rich_text(text), source="client")
        if "message.im" not in self.subscriptions:
            return None
        return self._wait_event(self._send_event(payloads.message_event(ws, message, im)))

    def say(
        self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None
    ) -> str:
        """Post a person's message in a channel; returns its ts.

        Slack sends it to the app only if the app subscribes to message.channels
        (or message.groups) and is in the channel; the event is not awaited.
        """
        ws = self.workspace
        channel = self._visible_channel(user_id, channel_id)
        message = ws.post(channel, user_id, text, payloads.rich_text(text), thread_ts, "client")
        if channel.channel_type != "im":
            name = "message.groups" if channel.is_private else "message.channels"
            if name in self.subscriptions and ws.bot_user_id in channel.members:
                self._send_event(payloads.message_event(ws, message, channel))
        return message.ts

    # -- helpers -----------------------------------------------------------

    def _interact(
        self, kind: str, payload: Json, on_ack: AckHandler | None, what: str
    ) -> Delivery:
        request = self.sockets.request(kind, payload, ACK_DEADLINE_SECONDS, on_ack=on_ack)
        try:
            return self._submit(request).result(ACK_DEADLINE_SECONDS * 2 + 1)
        except NoAck as error:
            raise AssertionError(
                f"Warden did not ack the {what} within {ACK_DEADLINE_SECONDS:g}s; "
                f"Slack would show the person an error ({error})"
            ) from None

    def _visible_channel(self, user_id: str, channel_id: str) -> Conversation:
        try:
            channel = self.workspace.conversation(channel_id, viewer=user_id)
        except SlackError:
            raise AssertionError(f"{user_id} cannot see a channel {channel_id!r}") from None
        if user_id not in channel.members:
            raise AssertionError(f"{user_id} is not a member of {channel.name or channel.id}")
        return channel

    def _clickable_message(self, user_id: str, channel_id: str, ts: str) -> Message:
        ws = self.workspace
        for find in (ws.message, lambda c, t: ws.ephemeral(user_id, c, t)):
            try:
                return find(channel_id, ts)
            except SlackError:
                continue
        raise AssertionError(f"no message {ts} in {channel_id} that {user_id} can see")


def _buttons(blocks: list[Json]) -> list[tuple[str, Json]]:
    return [
        (block["block_id"], element)
        for block in blocks
        for element in block_elements(block)
        if element.get("type") == "button"
    ]


def _has_button(blocks: list[Json], action_id: str) -> bool:
    return any(button.get("action_id") == action_id for _, button in _buttons(blocks))


def _find_button(
    blocks: list[Json], action_id: str, value: str | None, where: str
) -> tuple[str, Json]:
    buttons = _buttons(blocks)
    matches = [(b, button) for b, button in buttons if button.get("action_id") == action_id]
    if not matches:
        offered = [button.get("action_id") for _, button in buttons]
        raise AssertionError(f"no button {action_id!r} in {where}; it has {offered}")
    if value is not None:
        matches = [(b, button) for b, button in matches if button.get("value") == value]
        if not matches:
            raise AssertionError(f"no button {action_id!r} with value {value!r} in {where}")
    if len(matches) > 1:
        # action_ids repeat across blocks; the value tells the buttons apart.
        values = [button.get("value") for _, button in matches]
        raise AssertionError(f"{len(matches)} buttons {action_id!r} in {where}; pass one of "
                             f"the values {values}")
    return matches[0]


def _filled_state(view: View, values: dict[str, dict[str, object]]) -> dict[str, Json]:
    """state.values after a person fills in the modal."""
    state: dict[str, Json] = {}
    unused = {(b, a) for b, by_action in values.items() for a in by_action}
    for block in view.spec.get("blocks", []):
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        block_id, action_id = block["block_id"], element["action_id"]
        given = values.get(block_id, {}).get(action_id)
        unused.discard((block_id, action_id))
        try:
            entry = element_state(element, given)
        except ValueError as error:
            raise AssertionError(str(error)) from None
        if is_empty(entry) and not block.get("optional", False):
            label = (block.get("label") or {}).get("text", block_id)
            raise AssertionError(f"{label!r} is required; Slack would not let the person submit")
        state.setdefault(block_id, {})[action_id] = entry
    if unused:
        raise AssertionError(f"the modal has no inputs {sorted(unused)}")
    return state

