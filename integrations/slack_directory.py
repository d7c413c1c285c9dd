"""Who is who in Slack: users.info and users.lookupByEmail, with retries.

Returns plain dicts in Warden's own vocabulary so workflows never see a
Slack response.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from integrations.slack_retry import slack_retrying


def _person(user: dict) -> dict:
    profile = user.get("profile") or {}
    return {
        "slack_user_id": user["id"],
        "email": (profile.get("email") or "").lower() or None,
        "display_name": profile.get("display_name") or user.get("name") or user["id"],
        "real_name": profile.get("real_name") or user.get("real_name"),
        "tz": user.get("tz") or "UTC",
        "tz_offset": int(user.get("tz_offset") or 0),
    }


class SlackDirectory:
    def __init__(self, client: WebClient, stop: threading.Event | None = None) -> None:
        self._client = client
        self._stop = stop

    def person(self, slack_user_id: str) -> dict | None:
        """The person with this Slack id, or None if Slack does not know them."""
        return self._user(lambda: self._client.users_info(user=slack_user_id), "user_not_found")

    def person_by_email(self, email: str) -> dict | None:
        """The Slack account with this email, or None when there is none."""
        return self._user(lambda: self._client.users_lookupByEmail(email=email), "users_not_found")

    def _user(self, call: Callable[[], SlackResponse], not_found: str) -> dict | None:
        try:
            for attempt in slack_retrying(self._stop):
                with attempt:
                    response = call()
        except SlackApiError as error:
            if error.response.get("error") == not_found:
                return None
            raise
        return _person(response["user"])
