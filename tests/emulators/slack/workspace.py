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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from .blocks import fill_ids

TRIGGER_TTL_SECONDS = 3.0
MAX_MODAL_STACK = 3

P = ParamSpec("P")
R = TypeVar("R")


class SlackError(Exception):
    """A refusal in Slack's words: ``code`` is the API's ``error`` field."""

    def __init__(self, code: str, messages: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []


def locked(method: Callable[P, R]) -> Callable[P, R]:
    """Run a Workspace method while holding the workspace lock."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0].lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str
    tz: str = "Europe/London"
    team_id: str = ""
    bot_id: str | None = None

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    def to_slack(self, now: float) -> dict[str, Any]:
        """The user object of users.info, with the offset valid at ``now``."""
        moment = datetime.fromtimestamp(now, ZoneInfo(self.tz))
        offset = moment.utcoffset()
        profile = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "email": self.email,
            "team": self.team_id,
        }
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            # Slack's label is a long name ("British Summer Time"); zoneinfo
            # only knows the abbreviation, which is close enough for tests.
            "tz_label": moment.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": int(now),
        }


@dataclass
class Conversation:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    im_user: str | None = None  # the person at the other end of an IM
    members: set[str] = field(default_factory=set)

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    @property
    def channel_type(self) -> str:
        """The ``channel_type`` Slack puts in message events."""
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"

    def to_slack(self, viewer: str) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": viewer in self.members,
            "created": self.created,
            "creator": self.creator,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    visible_to: str | None = None  # set for an ephemeral message
    reply_users: list[str] = field(default_factory=list)
    reply_count: int = 0
    latest_reply: str | None = None
    edited: dict[str, str] | None = None
    source: str = "chat.postMessage"

    def to_slack(self, team_id: str) -> dict[str, Any]:
        """The message object as chat.postMessage and events show it."""
        out: dict[str, Any] = {"type": "message", "text": self.text, "user": self.user}
        out.update(ts=self.ts, team=team_id)
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.bot_id:
            out.update(bot_id=self.bot_id, app_id=self.app_id)
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.reply_count:
            out.update(reply_count=self.reply_count, reply_users=list(self.reply_users))
            out.update(reply_users_count=len(self.reply_users), latest_reply=self.latest_reply)
        if self.edited:
            out["edited"] = dict(self.edited)
        return out


@dataclass
class View:
    id: str
    user: str
    spec: dict[str, Any]  # what the app sent, with Slack's generated ids filled in
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return str(self.spec.get("type"))

    def to_slack(self, team_id: str, app_id: str, bot_id: str) -> dict[str, Any]:
        spec = self.spec
        return {
            "id": self.id,
            "team_id": team_id,
            "type": spec.get("type"),
            "blocks": copy.deepcopy(spec.get("blocks", [])),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": copy.deepcopy(self.values)},
            "hash": self.hash,
            "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": spec.get("close"),
            "submit": spec.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass
class Trigger:
    id: str
    user: str
    issued_at: float
    used: bool = False


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
        name = name.lstrip("#")
        if any(c.name == name for c in self.conversations.values()):
            raise SlackError("name_taken")
        for user_id in members:
            self.user(user_id)
        first_id = self.new_id("G" if private else "C")
        channel = Conversation(first_id, name, int(self.clock()), self.bot_user_id, private)
        channel.members = set(members) | ({self.bot_user_id} if bot_member else set())
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
    def open_im(self, user_id: str) -> tuple[Conversation, bool]:
        """The bot's IM with a person: the same D… id every time. True if new."""
        user = self.user(user_id)
        for conversation in self.conversations.values():
            if conversation.im_user == user.id:
                return conversation, False
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
        """Add a message; the author must be able to post there."""
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
        """A message only ``user_id`` sees; Slack never stores it in history."""
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
        self, message: Message, text: str | None, blocks: list[dict[str, Any]] | None
    ) -> Message:
        """Edit in place, as chat.update and ``replace_original`` do."""
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = fill_ids(blocks, self.new_id)
        if message.visible_to is None:
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
        """Open a modal, replacing any the person had open."""
        self._require_unique_external_id(spec)
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
        view.spec = self._fill_spec(spec)
        view.hash = self._new_hash()
        view.values = initial_values(view.spec)
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
    from .state import element_state  # state builds on blocks; kept out of import time

    values: dict[str, dict[str, Any]] = {}
    for block in spec.get("blocks", []):
        element = block.get("element") if block.get("type") == "input" else None
        if isinstance(element, dict) and element.get("action_id"):
            entry = element_state(element, None)
            values.setdefault(block["block_id"], {})[element["action_id"]] = entry
    return values
