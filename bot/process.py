"""The Warden process: Bolt in Socket Mode, the scheduler and the outbox sender.

Start order matters: the store and policy first (a bad policy stops us before
we touch Slack), then the sender and scheduler, then the socket. Shutdown is
the reverse, so in-flight listeners can still enqueue their replies.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from tenacity import Retrying, retry_if_exception, wait_exponential_jitter

from bot.app import build_app, outbox_client, web_client
from bot.context import Warden
from bot.policy import Policy
from bot.scheduler import Job, Scheduler
from bot.sender import OutboxSender
from bot.settings import Settings
from integrations.slack_directory import SlackDirectory
from integrations.slack_retry import is_temporary
from state import Store, audit, deliveries
from state.clock import utcnow
from workflows.people import People

log = logging.getLogger(__name__)

# Listeners (which ack) run on the socket's workers; work after the ack on a
# smaller pool, so a burst of slow work cannot starve the acks of the GIL.
ACK_THREADS = 8
BACKGROUND_THREADS = 4
RECEIVE_BUFFER_BYTES = 64 * 1024
DELIVERY_MEMORY = timedelta(days=1)


def run(settings: Settings, policy: Policy) -> int:
    started = time.perf_counter()
    stop = threading.Event()
    _stop_on_signals(stop)

    store = Store(settings.db_path)
    sender = OutboxSender(store, outbox_client(settings))
    client = web_client(settings)
    people = People(store, SlackDirectory(client), policy)
    executor = ThreadPoolExecutor(max_workers=BACKGROUND_THREADS, thread_name_prefix="after-ack")
    warden = Warden(settings, policy, store, sender, people, executor)
    scheduler = Scheduler(store, scheduled_jobs(warden))

    _audit_process(store, "process.started", settings)
    sender.start()
    scheduler.start()
    handler, exit_code = None, 0
    try:
        if _until_stopped(stop, "slack.unreachable", lambda: client.auth_test()):
            handler = _socket_handler(build_app(warden, client, executor), settings, started)
            if _until_stopped(stop, "socket.connect_retry", lambda: _connect(handler)):
                stop.wait()
    except SlackApiError as error:
        # invalid_auth, account_inactive, not_allowed_token_type: a person must fix this.
        log.error("slack.refused_token", extra={"error": error.response.get("error")})
        exit_code = 2
    log.info("process.stopping")
    _shutdown(settings, handler, executor, scheduler, sender)
    _audit_process(store, "process.stopped", settings)
    store.close()
    log.info("process.stopped")
    return exit_code


def _audit_process(store: Store, action: str, settings: Settings) -> None:
    """Record starts and stops, with the policy in force, so gaps in the log are explained."""
    policy_hash = hashlib.sha256(settings.policy_path.read_bytes()).hexdigest()
    with store.transaction() as db:
        audit.record(
            db,
            actor="warden",
            action=action,
            subject=f"policy:{policy_hash[:12]}",
            details={"policy_path": str(settings.policy_path), "pid": os.getpid()},
        )


def scheduled_jobs(warden: Warden) -> list[Job]:
    def forget_old_deliveries() -> None:
        with warden.store.transaction() as db:
            deliveries.forget_older_than(db, utcnow() - DELIVERY_MEMORY)

    return [
        Job("people-sync", timedelta(hours=24), warden.people.sync_from_policy),
        Job("people-refresh", timedelta(hours=6), warden.people.refresh_stale),
        Job("deliveries-cleanup", timedelta(hours=6), forget_old_deliveries),
    ]


def _socket_handler(app, settings: Settings, started: float) -> SocketModeHandler:
    handler = SocketModeHandler(app, app_token=settings.slack_app_token, concurrency=ACK_THREADS)

    def on_message(client: SocketModeClient, message: dict, raw: str | None) -> None:
        if message.get("type") == "hello":
            elapsed = round(time.perf_counter() - started, 3)
            log.info("socket.connected", extra={"seconds_since_start": elapsed})
        elif message.get("type") == "disconnect":
            log.info("socket.disconnect_requested", extra={"reason": message.get("reason")})

    handler.client.message_listeners.append(on_message)
    return handler


def _connect(handler: SocketModeHandler) -> None:
    # A URL from a failed attempt may be spent; ask Slack for a new one.
    handler.client.wss_uri = None
    handler.connect()


def _until_stopped(stop: threading.Event, event: str, call) -> bool:
    """Call until it succeeds, waiting out Slack outages; False if told to stop first.

    A permanent error (a revoked token: `invalid_auth`) is raised at once.
    """
    retrying = Retrying(
        retry=retry_if_exception(is_temporary),
        wait=wait_exponential_jitter(multiplier=1, max=30),
        sleep=stop.wait,
        stop=lambda state: stop.is_set(),
        before_sleep=lambda state: log.warning(event, extra={"attempt": state.attempt_number}),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                call()
    except Exception:
        if stop.is_set():
            return False
        raise
    return not stop.is_set()


def _shutdown(settings, handler, executor, scheduler, sender) -> None:
    """Close the socket first so no new work arrives, then let in-flight work finish."""
    deadline = time.monotonic() + settings.shutdown_grace_seconds
    if handler is not None:
        _wake_socket_reader(handler)
        handler.close()
    executor.shutdown(wait=True, cancel_futures=False)
    scheduler.shutdown()
    sender.stop(timeout=max(deadline - time.monotonic(), 0.1))


def _wake_socket_reader(handler: SocketModeHandler) -> None:
    """Shut the socket down so the reader thread's blocking recv returns now.

    The builtin client closes its socket and then joins the reader, which sits
    in recv until its 3 s timeout: closing a socket does not wake a recv on
    Linux, but shutting it down does.
    """
    session = getattr(handler.client, "current_session", None)
    sock = getattr(session, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _stop_on_signals(stop: threading.Event) -> None:
    def request_stop(signum: int, frame) -> None:
        log.info("process.signal", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
