"""Drains the outbox: Slack messages written in the same transaction as the
state change they follow are sent here, in order, with retries.

Slack being down only delays messages. A temporary failure leaves the message
pending with a later `next_attempt_at`; the drainer stops the pass so later
messages do not overtake it. A permanent Slack error (`channel_not_found`,
`invalid_blocks`) marks the message failed and is logged: retrying would not
help and would block everything behind it.

Delivery is at least once: if the process dies after Slack accepted a
message but before `mark_sent` commits, the message is sent again on start.
Slack offers bots no idempotency key for chat.postMessage, so this window
cannot be closed from our side; it is milliseconds wide.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlite_utils import Database

from integrations.slack_retry import is_temporary, retry_after_seconds, slack_retrying
from state import Store, audit, outbox
from state.clock import utcnow

log = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 1.0
DRAIN_PAGE = 50
REFRESH_SPACING = timedelta(seconds=2)
TOKEN_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired",
                "account_inactive"}  # fmt: skip
TOKEN_RETRY = timedelta(minutes=5)

# Called in the transaction that marks a message sent, with its dedup_key and
# the channel and ts Slack gave it.
SentHook = Callable[[Database, str, dict], None]
MAX_BACKOFF = timedelta(seconds=60)


def next_attempt_delay(attempts: int) -> timedelta:
    """Back off 2, 4, 8 … seconds between passes, never more than a minute."""
    return min(timedelta(seconds=2 ** max(attempts, 1)), MAX_BACKOFF)


class OutboxSender:
    def __init__(
        self,
        store: Store,
        client: WebClient,
        attempts_per_pass: int = 4,
        on_sent: dict[str, SentHook] | None = None,
    ) -> None:
        self._store = store
        self._on_sent = on_sent or {}
        self._client = client
        self._attempts = attempts_per_pass
        self._dm_channels: dict[str, str] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Call after committing a transaction that enqueued messages."""
        self._wake.set()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                backlog = self.drain() == DRAIN_PAGE
            except Exception:
                log.exception("outbox.drain_failed")
                backlog = False
            # A full page means more is waiting (a burst of incidents): go on
            # at once instead of sleeping a poll interval per page.
            if not backlog:
                self._wake.wait(POLL_INTERVAL_SECONDS)
                self._wake.clear()

    def drain(self) -> int:
        """Send one page of what is due, oldest first; returns how many were sent."""
        sent = 0
        for item in outbox.due(self._store.db, limit=DRAIN_PAGE):
            if self._stop.is_set() or not self._deliver(item):
                break
            sent += 1
        return sent

    def _deliver(self, item: outbox.OutboxItem) -> bool:
        try:
            response = self._send(item)
        except SlackApiError as error:
            code = error.response.get("error") or f"HTTP {error.response.status_code}"
            if is_temporary(error):
                return self._postpone(item, code, retry_after_seconds(error))
            if code in TOKEN_ERRORS:
                # Every message would fail the same way: keep them all until a person
                # fixes the token, instead of failing the whole outbox in one pass.
                log.error("outbox.token_refused", extra={"error": code})
                return self._postpone(item, code, TOKEN_RETRY.total_seconds())
            self._fail(item, code)
            return True
        except Exception as error:
            if is_temporary(error):
                return self._postpone(item, type(error).__name__)
            # A message we cannot even send (say, a payload that is not JSON)
            # would otherwise be retried forever and hold up everything behind it.
            log.exception("outbox.unsendable", extra={"outbox_id": item.id})
            self._fail(item, type(error).__name__)
            return True
        sent = _useful_fields(response.data)
        with self._store.transaction() as db:
            if outbox.refreshed_since(db, item):
                # Rendered again while on the wire: the newer render goes out after a
                # pause, so a message changing twice a second is not updated twice a
                # second (Slack allows chat.update about once a second).
                outbox.defer(db, item.id, utcnow() + REFRESH_SPACING)
                return True
            outbox.mark_sent(db, item.id, sent)
            self._run_hook(db, item, sent)
        log.info("outbox.sent", extra={"outbox_id": item.id, "method": item.method})
        return True

    def _send(self, item: outbox.OutboxItem):
        for attempt in slack_retrying(self._stop, attempts=self._attempts):
            with attempt:
                return self._client.api_call(item.method, json=self._addressed(item.payload))

    def _addressed(self, payload: dict) -> dict:
        """Turn `dm_user` into the DM channel Slack gives the bot for that person.

        Workflows queue DMs by Slack user id: opening the conversation is a
        Web API call, which has no place inside their transactions.
        """
        user = payload.get(outbox.DM_USER)
        if user is None:
            return payload
        if user not in self._dm_channels:
            opened = self._client.conversations_open(users=user)
            self._dm_channels[user] = opened["channel"]["id"]
        addressed = {k: v for k, v in payload.items() if k != outbox.DM_USER}
        return {**addressed, "channel": self._dm_channels[user]}

    def _run_hook(self, db, item: outbox.OutboxItem, sent: dict) -> None:
        """Let the workflow that queued the message note where it landed (to update it later)."""
        prefix = (item.dedup_key or "").partition(":")[0]
        hook = self._on_sent.get(prefix)
        if hook is None:
            return
        # In a savepoint: a failing hook must not undo mark_sent, or the message
        # (a card) would be posted again on every pass.
        db.execute("SAVEPOINT on_sent")
        try:
            hook(db, item.dedup_key, sent)
        except Exception:
            log.exception("outbox.hook_failed", extra={"outbox_id": item.id})
            if not db.conn.in_transaction:
                raise  # the error ended the transaction (disk full, I/O): nothing to keep
            db.execute("ROLLBACK TO on_sent")
        db.execute("RELEASE on_sent")

    def _postpone(
        self, item: outbox.OutboxItem, error: str, retry_after: float | None = None
    ) -> bool:
        delay = next_attempt_delay(item.attempts + 1)
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        when = utcnow() + delay
        with self._store.transaction() as db:
            outbox.mark_retry(db, item.id, error, when)
        log.warning(
            "outbox.postponed",
            extra={"outbox_id": item.id, "error": error, "next_attempt_at": when.isoformat()},
        )
        return False

    def _fail(self, item: outbox.OutboxItem, error: str) -> None:
        with self._store.transaction() as db:
            outbox.mark_failed(db, item.id, error)
            # A lost message may be a lost warning: leave a trace that lasts.
            details = {"method": item.method, "error": error}
            audit.record(db, "warden", "outbox.failed", f"outbox:{item.id}", details)
        log.error("outbox.failed", extra={"outbox_id": item.id, "error": error})


def _useful_fields(data) -> dict:
    """Keep the ids a later update needs (channel, ts), not the whole message."""
    if not isinstance(data, dict):
        return {}
    return {key: data[key] for key in ("channel", "ts", "message_ts") if key in data}
