"""Slack listeners, registered by kind. Each module has `register(app, warden)`."""

from slack_bolt import App

from bot.context import Warden
from handlers import (
    access,
    commands,
    deliveries,
    errors,
    findings,
    home,
    incidents,
    messages,
    shortcuts,
)


def register(app: App, warden: Warden) -> None:
    deliveries.register(app, warden)
    errors.register(app, warden)
    commands.register(app, warden)
    shortcuts.register(app, warden)
    messages.register(app, warden)
    home.register(app, warden)
    findings.register(app, warden)
    access.register(app, warden)
    incidents.register(app, warden)
