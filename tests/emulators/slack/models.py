"""Slack's objects as the emulator keeps them: users, conversations, messages, views.

Each knows how to show itself the way Slack's API does (``to_slack``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


class SlackError(Exception):
    """A refusal in Slack's words: ``code`` is the API's ``error`` field."""

    def __init__(self, code: str, messages: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []


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
