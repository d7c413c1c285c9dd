"""What every listener and job needs, assembled once by the process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.policy import Policy
from bot.sender import OutboxSender
from bot.settings import Settings
from state import Store
from workflows.people import People


@dataclass
class Warden:
    settings: Settings
    policy: Policy
    store: Store
    sender: OutboxSender
    people: People
    background: ThreadPoolExecutor  # work that runs after a listener has acked
