"""The "Request access" global shortcut ("Report to security" is in `handlers.incidents`)."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids, views
from bot.context import Warden
from handlers.access import open_form
from handlers.acks import after_ack


def register(app: App, warden: Warden) -> None:
    def open_notice(body: dict, client: WebClient, title: str, text: str) -> None:
        view = views.notice_modal(title, text)
        after_ack(
            warden,
            body,
            client,
            lambda: client.views_open(trigger_id=body["trigger_id"], view=view),
        )

    @app.shortcut(ids.SHORTCUT_REQUEST_ACCESS)
    def request_access(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        if warden.grants is not None:
            open_form(warden, body, client)
            return
        text = views.feature_unavailable_text("Temporary access", False)
        open_notice(body, client, "Access", text)
