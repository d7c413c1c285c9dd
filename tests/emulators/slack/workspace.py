"""The state of an emulated Slack workspace: people, conversations, messages, views.

Plain data and Slack's rules about it, with no HTTP and no test framework, so the
same model can back the test emulator and, later, a sandbox people use in a
browser. Every public method takes the workspace lock: the web server's thread
and test threads share one instance.
"""

from __future__ import annotations

import copy
import functools
import random
import string
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from .blocks import fill_ids
from .models import Conversation, Message, SlackError, Trigger, User, View
from .state import element_state

__all__ = [
    "Conversation", "Message", "SlackError", "Trigger", "User", "View", "Workspace",
]

TRIGGER_TTL_SECONDS = 3.0
MAX_MODAL_STACK = 3

P = ParamSpec("P")
R = TypeVar("R")


def locked(method: Callable[P, R]) -> Callable[P, R]:
    """Run a Workspace method while holding the workspace lock."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0].lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


class Workspace:
    """One Slack team with one installed app (Warden) and its bot user."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        team_name: str = "Warden Dev",
        team_domain: str = "warden-dev",
        seed: int | None = None,
    ) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._random = random.Random(seed)
        self._last_ts_micro = 0
        self.team_name = team_name
        self.team_domain = team_domain
        self.team_id = self.new_id("T")
        self.app_id = self.new_id("A")
        self.bot_id = self.new_id("B")
        self.verification_token = self.new_hex(24)
        self.users: dict[str, User] = {}
        self.conversations: dict[str, Conversation] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Message] = []
        self.views: dict[str, View] = {}
        self.modals: dict[str, list[str]] = {}
        self.homes: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        bot = self.add_user("warden", "warden@bots.invalid", real_name="Warden")
        bot.bot_id = self.bot_id
        self.bot_user_id = bot.id

    # -- ids ---------------------------------------------------------------

    def new_id(self, prefix: str, length: int = 10) -> str:
        """A Slack-looking id: a type letter and upper-case letters and digits."""
        alphabet = string.ascii_uppercase + string.digits
        with self.lock:
            return prefix + "".join(self._random.choices(alphabet, k=length))

    def new_hex(self, length: int = 32) -> str:
        with self.lock:
            return "".join(self._random.choices("0123456789abcdef", k=length))

    def new_uuid(self) -> str:
        return str(uuid.UUID(self.new_hex(32)))

    @locked
    def new_ts(self) -> str:
        """A message ts: seconds.micro, unique and increasing like Slack's."""
        micro = max(int(self.clock() * 1_000_000), self._last_ts_micro + 1)
        self._last_ts_micro = micro
        return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"

    # -- people ------------------------------------------------------------

    @locked
    def add_user(
        self, name: str, email: str, tz: str = "Europe/London", real_name: str | None = None
    ) -> User:
        ZoneInfo(tz)  # fail now, with the zone's name, rather than in users.info
        user = User(self.new_id("U"), name, real_name or name.title(), email, tz, self.team_id)
        self.users[user.id] = user
        return user

    @locked
    def user(self, user_id: str) -> User:
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    @locked
    def user_by_email(self, email: str) -> User:
        for user in self.users.values():
            if user.email.lower() == email.lower():
                return user
        raise SlackError("users_not_found")

    # -- conversations -----------------------------------------------------

    @locked
    def add_channel(
        self, name: str, members: Iterable[str] = (), *, bot_member: bool = True,
        private: bool = False,
    ) -> Conversation:
        name, member_ids = name.lstrip("#"), {self.user(m).id for m in members}
        if any(c.name == name for c in self.conversations.values()):
            raise SlackError("name_taken")
        channel_id = self.new_id("G" if private else "C")
        channel = Conversation(channel_id, name, int(self.clock()), self.bot_user_id, private)
        channel.members = member_ids | ({self.bot_user_id} if bot_member else set())
        self.conversations[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    @locked
    def conversation(self, ref: str, viewer: str | None = None) -> Conversation:
        """Find a conversation by id, ``name`` or ``#name``, as ``viewer`` may see it.

        A private channel the viewer is not in is ``channel_not_found``, exactly
        as Slack hides it.
        """
        found = self.conversations.get(ref)
        if found is None:
            name = ref.lstrip("#")
            found = next((c for c in self.conversations.values() if c.name == name), None)
        if found is None or (found.is_im and not ref.startswith("D")):
            raise SlackError("channel_not_found")
        if viewer and found.is_private and viewer not in found.members:
            raise SlackError("channel_not_found")
        return found

    @locked
    def find_im(self, user_id: str) -> Conversation | None:
        """The bot's IM with a person, if it was ever opened."""
        for conversation in self.conversations.values():
            if conversation.im_user == user_id:
                return conversation
        return None

    @locked
    def open_im(self, user_id: str) -> tuple[Conversation, bool]:
        """The bot's IM with a person: the same D… id every time. True if new."""
        user = self.user(user_id)
        existing = self.find_im(user.id)
        if existing is not None:
            return existing, False
        im = Conversation(self.new_id("D"), user.id, int(self.clock()), self.bot_user_id)
        im.im_user = user.id
        im.members = {user.id, self.bot_user_id}
        self.conversations[im.id] = im
        self.messages[im.id] = []
        return im, True

    # -- messages ----------------------------------------------------------

    @locked
    def post(
        self, channel: Conversation, author: str, text: str,
        blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None,
        source: str = "chat.postMessage",
    ) -> Message:
        """Add a message to a channel or a thread.

        Through chat.postMessage the author must be a member. A reply to a slash
        command or an action goes wherever the person invoked it, and a person's
        own message is checked by whoever acts for them.
        """
        if source == "chat.postMessage":
            self._require_member(channel, author)
        if thread_ts:
            thread_ts = self._thread_root(channel.id, thread_ts)
        message = self._new_message(channel.id, author, text, blocks, thread_ts, source)
        self.messages[channel.id].append(message)
        if thread_ts:
            self._count_reply(channel.id, thread_ts, message)
        return message

    @locked
    def post_ephemeral(
        self, channel: Conversation, user_id: str, text: str,
        blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None,
        source: str = "chat.postEphemeral",
    ) -> Message:
        """A message only ``user_id`` sees; Slack never stores it in history.

        chat.postEphemeral needs the bot and the person in the channel; replies to
        a slash command or an action reach the person wherever they are.
        """
        if source == "chat.postEphemeral":
            self._require_member(channel, self.bot_user_id)
            if user_id not in channel.members:
                raise SlackError("user_not_in_channel")
        message = self._new_message(
            channel.id, self.bot_user_id, text, blocks, thread_ts, source
        )
        message.visible_to = user_id
        self.ephemerals.append(message)
        return message

    @locked
    def message(self, channel_id: str, ts: str) -> Message:
        for message in self.messages.get(channel_id, []):
            if message.ts == ts:
                return message
        raise SlackError("message_not_found")

    @locked
    def ephemeral(self, user_id: str, channel_id: str, ts: str) -> Message:
        for message in self.ephemerals:
            if (message.visible_to, message.channel, message.ts) == (user_id, channel_id, ts):
                return message
        raise SlackError("message_not_found")

    @locked
    def update_message(
        self, message: Message, text: str | None, blocks: list[dict[str, Any]] | None,
        *, mark_edited: bool = True,
    ) -> Message:
        """Edit in place: chat.update marks it edited, ``replace_original`` does not."""
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = fill_ids(blocks, self.new_id)
        if mark_edited and message.visible_to is None:
            message.edited = {"user": message.user, "ts": self.new_ts()}
        return message

    @locked
    def delete_message(self, message: Message) -> None:
        if message.visible_to is not None:
            self.ephemerals.remove(message)
        else:
            self.messages[message.channel].remove(message)

    @locked
    def history(self, channel_id: str) -> list[Message]:
        """Top-level messages, oldest first (replies stay in their threads)."""
        return [m for m in self.messages.get(channel_id, []) if m.thread_ts in (None, m.ts)]

    @locked
    def thread(self, channel_id: str, ts: str) -> list[Message]:
        """The parent and its replies, oldest first."""
        return [
            m for m in self.messages.get(channel_id, []) if m.ts == ts or m.thread_ts == ts
        ]

    def _new_message(
        self, channel_id: str, author: str, text: str,
        blocks: list[dict[str, Any]] | None, thread_ts: str | None, source: str,
    ) -> Message:
        user = self.user(author)
        message = Message(channel_id, self.new_ts(), user.id, text or "")
        message.blocks = fill_ids(blocks or [], self.new_id)
        message.thread_ts, message.source = thread_ts, source
        if user.is_bot:
            message.bot_id, message.app_id = user.bot_id, self.app_id
        return message

    def _require_member(self, channel: Conversation, author: str) -> None:
        if author in channel.members:
            return
        # A public channel tells a non-member so; a private one pretends not to exist.
        raise SlackError("channel_not_found" if channel.is_private else "not_in_channel")

    def _thread_root(self, channel_id: str, thread_ts: str) -> str:
        """Replying to a reply lands in the parent's thread, as in Slack."""
        for message in self.messages[channel_id]:
            if message.ts == thread_ts:
                return message.thread_ts or message.ts
        # Slack accepts an unknown thread_ts and files the message under it.
        return thread_ts

    def _count_reply(self, channel_id: str, thread_ts: str, reply: Message) -> None:
        for parent in self.messages[channel_id]:
            if parent.ts == thread_ts:
                parent.thread_ts = parent.ts
                parent.reply_count += 1
                parent.latest_reply = reply.ts
                if reply.user not in parent.reply_users:
                    parent.reply_users.append(reply.user)

    # -- triggers ----------------------------------------------------------

    @locked
    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as an interaction hands it to the app."""
        now = self.clock()
        trigger_id = f"{int(now * 1000)}.{self._random.randrange(10**9)}.{self.new_hex()}"
        self.triggers[trigger_id] = Trigger(trigger_id, user_id, now)
        return trigger_id

    @locked
    def redeem_trigger(self, trigger_id: str) -> Trigger:
        """Use a trigger_id: valid once, within three seconds of the interaction."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    # -- views -------------------------------------------------------------

    @locked
    def open_modal(self, user_id: str, spec: dict[str, Any]) -> View:
        """Open a modal, replacing any stack the person had open."""
        self._require_unique_external_id(spec)
        self.close_modal(user_id, all_views=True)
        view = self._new_view(user_id, spec, previous=None)
        self.modals[user_id] = [view.id]
        return view

    @locked
    def push_modal(self, user_id: str, spec: dict[str, Any]) -> View:
        stack = self.modals.get(user_id, [])
        if not stack:
            # Slack needs an open modal to push onto.
            raise SlackError("not_found")
        if len(stack) >= MAX_MODAL_STACK:
            raise SlackError("push_limit_reached")
        self._require_unique_external_id(spec)
        view = self._new_view(user_id, spec, previous=self.views[stack[-1]])
        stack.append(view.id)
        return view

    @locked
    def update_view(self, view: View, spec: dict[str, Any], hash: str | None = None) -> View:
        """Replace a view's content; a stale ``hash`` is a ``hash_conflict``."""
        if hash and hash != view.hash:
            raise SlackError("hash_conflict")
        typed = view.values
        view.spec = self._fill_spec(spec)
        view.hash = self._new_hash()
        view.values = initial_values(view.spec)
        # Slack keeps what the person typed in any input whose block_id and
        # action_id survive the update; change the block_id to reset a field.
        for block_id, by_action in view.values.items():
            for action_id in by_action:
                if action_id in typed.get(block_id, {}):
                    by_action[action_id] = typed[block_id][action_id]
        return view

    @locked
    def publish_home(self, user_id: str, spec: dict[str, Any], hash: str | None = None) -> View:
        self.user(user_id)
        current = self.homes.get(user_id)
        if current:
            return self.update_view(self.views[current], spec, hash)
        view = self._new_view(user_id, spec, previous=None)
        self.homes[user_id] = view.id
        return view

    @locked
    def view(self, view_id: str | None = None, external_id: str | None = None) -> View:
        for view in self.views.values():
            if view_id and view.id == view_id:
                return view
            if external_id and view.spec.get("external_id") == external_id:
                return view
        raise SlackError("not_found")

    @locked
    def top_modal(self, user_id: str) -> View | None:
        stack = self.modals.get(user_id) or []
        return self.views[stack[-1]] if stack else None

    @locked
    def home(self, user_id: str) -> View | None:
        view_id = self.homes.get(user_id)
        return self.views[view_id] if view_id else None

    @locked
    def close_modal(self, user_id: str, *, all_views: bool = False) -> list[View]:
        """Close the top modal (or the whole stack); returns the closed views."""
        stack = self.modals.get(user_id) or []
        closed_ids = stack[:] if all_views else stack[-1:]
        del stack[len(stack) - len(closed_ids):]
        return [self.views.pop(view_id) for view_id in reversed(closed_ids)]

    def _new_view(self, user_id: str, spec: dict[str, Any], previous: View | None) -> View:
        view_id = self.new_id("V")
        root = previous.root_view_id if previous else view_id
        filled = self._fill_spec(spec)
        view = View(view_id, user_id, filled, self._new_hash(), root)
        view.previous_view_id = previous.id if previous else None
        view.values = initial_values(filled)
        self.views[view_id] = view
        return view

    def _fill_spec(self, spec: dict[str, Any]) -> dict[str, Any]:
        filled = copy.deepcopy(spec)
        filled["blocks"] = fill_ids(spec.get("blocks", []), self.new_id)
        return filled

    def _new_hash(self) -> str:
        return f"{int(self.clock())}.{self.new_hex(8)}"

    def _require_unique_external_id(self, spec: dict[str, Any]) -> None:
        external_id = spec.get("external_id")
        if external_id and any(
            v.spec.get("external_id") == external_id for v in self.views.values()
        ):
            raise SlackError("duplicate_external_id")


def initial_values(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A view's state.values before anyone types: each input's initial value."""
    values: dict[str, dict[str, Any]] = {}
    for block in spec.get("blocks", []):
        element = block.get("element") if block.get("type") == "input" else None
        if isinstance(element, dict) and element.get("action_id"):
            entry = element_state(element, None)
            values.setdefault(block["block_id"], {})[element["action_id"]] = entry
    return values
