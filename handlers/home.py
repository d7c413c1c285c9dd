"""The App Home tab, published each time a person opens it."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids, views
from bot.context import Warden
from handlers.acks import after_ack
from handlers.commands import switched_on

log = logging.getLogger(__name__)


def register(app: App, warden: Warden) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict, body: dict, client: WebClient) -> None:
        if event.get("tab") == "home":
            after_ack(warden, body, client, lambda: publish_home(warden, client, event["user"]))

    @app.action(ids.HOME_HELP_BUTTON)
    def show_help(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        help_view = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "What Warden does"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": views.help_blocks(switched_on(warden.policy)),
        }
        after_ack(
            warden,
            body,
            client,
            lambda: client.views_open(trigger_id=body["trigger_id"], view=help_view),
        )


def publish_home(warden: Warden, client: WebClient, slack_user_id: str) -> None:
    person = warden.people.get(slack_user_id) or {}
    name = person.get("display_name") or "there"
    view = views.home_view(name, warden.people.is_analyst(slack_user_id), home_sections(warden))
    client.views_publish(user_id=slack_user_id, view=view)
    log.info("home.published", extra={"user": slack_user_id})


def home_sections(warden: Warden) -> list[tuple[str, str]]:
    """One section per workflow; each workflow fills its own as it lands."""
    policy = warden.policy
    drive_or_github = policy.scanners.drive.enabled or policy.scanners.github.enabled
    return [
        ("Your findings", _state_line(drive_or_github, "Sharing you own that breaks policy")),
        (
            "Your access grants",
            _state_line(policy.grants.enabled, "Temporary access you asked for"),
        ),
        ("Your reports", _state_line(policy.incidents.enabled, "Security reports you made")),
    ]


def _state_line(enabled: bool, what: str) -> str:
    if not enabled:
        return f"{what} will show here. This part of Warden is switched off."
    return f"{what} will show here. Nothing yet."
