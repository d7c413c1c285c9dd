"""Assembles the Bolt app: one Web API client, the listeners, nothing else."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

import handlers
from bot.context import Warden
from bot.settings import Settings

WEB_API_TIMEOUT_SECONDS = 10


def web_client(settings: Settings) -> WebClient:
    """A Web API client for listeners: slack_sdk retries 429 (honouring
    Retry-After), 5xx and dropped connections a couple of times itself."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def outbox_client(settings: Settings) -> WebClient:
    """A client without slack_sdk's own retries: the outbox retries through tenacity."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=[],
    )


def build_app(warden: Warden, client: WebClient, executor: ThreadPoolExecutor) -> App:
    app = App(
        client=client,
        # The process has already waited for auth.test to succeed; Bolt
        # calls it once more here and keeps the bot's ids for every request.
        token_verification_enabled=True,
        listener_executor=executor,
        # See handlers/acks.py: acks are sent as soon as the ack function
        # returns, and slow work runs in lazy listeners.
        process_before_response=True,
    )
    handlers.register(app, warden)
    return app
