"""A Slack emulator: Web API and Socket Mode for the real slack_sdk and Bolt."""

from .server import SlackEmulator
from .socket_mode import Delivery
from .workspace import SlackError, Workspace

__all__ = ["Delivery", "SlackEmulator", "SlackError", "Workspace"]
