"""Acknowledge first, work later.

The app runs with `process_before_response`: a listener runs on one of the
socket's workers and its ack is sent the moment it returns, with no polling
in between. So a listener acks and returns quickly; anything slower (a Web API
call, a lookup) goes to `after_ack`, which runs it on the background pool.

We use our own pool rather than Bolt's lazy listeners for two reasons: Bolt
deep-copies the whole request for each lazy call (a seventh of the CPU of a
click under load), and an exception in a lazy listener is only logged, while
here it reaches the person through the global error handler.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient

from bot.context import Warden
from handlers.errors import handle_error


def after_ack(warden: Warden, body: dict, client: WebClient, work: Callable[[], object],
              pool=None) -> None:  # fmt: skip
    """Run `work` on the background pool (or `pool`, for slow outside calls)."""

    def run() -> None:
        try:
            work()
        except Exception as error:
            handle_error(error, body, client, None)

    (pool or warden.background).submit(run)
