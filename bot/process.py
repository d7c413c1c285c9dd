"""The Warden process: Bolt in Socket Mode, the scheduler and the outbox sender.

The policy was validated before we get here, so a bad policy stops Warden
before it touches Slack. Start order: the store, the outbox sender, a wait
until Slack accepts the token (retrying while Slack is unreachable), the
scheduler, then the socket. On SIGTERM or SIGINT: listeners already running
finish and send their acks, the socket closes, work queued after acks
finishes, running jobs finish, and the sender gets what is left of the grace
period. A watchdog ends the process if all that takes longer than the grace
period, and a second signal ends it at once.
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
from bot.digest import post_weekly_digest
from bot.drive import DriveScanJob, findings_workflow, google_workspace
from bot.findings_notifier import SlackFindingsNotifier
from bot.grants_setup import grants_workflow
from bot.ids_follower import IdsFollower
from bot.incidents_notifier import CARD_HOOK, SlackIncidentNotifier
from bot.incidents_setup import incident_actions, incident_notifier, incidents_workflow
from bot.policy import Policy
from bot.scheduler import Job, Scheduler
from bot.sender import OutboxSender
from bot.settings import Settings
from integrations.slack_directory import SlackDirectory
from integrations.slack_retry import is_temporary
from state import Store, audit, deliveries
from state.clock import utcnow
from workflows.indicators import warm_up
from workflows.people import People

log = logging.getLogger(__name__)

# Listeners (which ack) run on the socket's workers; work after the ack on a
# smaller pool, so a burst of slow work cannot starve the acks of the GIL.
ACK_THREADS = 8
BACKGROUND_THREADS = 4
DELIVERY_MEMORY = timedelta(days=1)
# Reminders wait for working hours, so the sweep must look often enough to
# catch the start of someone's day.
REMINDER_SWEEP = timedelta(minutes=5)
GRANTS_SWEEP = timedelta(minutes=1)
EXIT_STOPPED_BY_WATCHDOG = 3
MAIN_THREAD_SLICE = 0.5


def run(settings: Settings, policy: Policy) -> int:
    started = time.perf_counter()
    stop = threading.Event()
    _stop_on_signals(stop, settings.shutdown_grace_seconds)
    policy_hash = hashlib.sha256(settings.policy_path.read_bytes()).hexdigest()[:12]

    store = Store(settings.db_path)
    notifier = SlackFindingsNotifier(policy)
    incident_cards = incident_notifier(settings, policy)
    hooks = {**notifier.hooks(), CARD_HOOK: incident_cards.card_posted}
    sender = OutboxSender(store, outbox_client(settings), on_sent=hooks)
    client = web_client(settings)
    # Jobs look people up with tenacity only, so a stop cuts their waits short.
    directory = SlackDirectory(outbox_client(settings), stop)
    executor = ThreadPoolExecutor(max_workers=BACKGROUND_THREADS, thread_name_prefix="after-ack")
    warden = Warden(settings, policy, store, sender, People(store, directory, policy), executor)
    # Intel lookups can wait minutes on a provider's quota: never on the clicks' pool.
    warden.enrichment = ThreadPoolExecutor(max_workers=2, thread_name_prefix="enrich")
    _add_drive(warden, stop)
    warden.grants = grants_workflow(settings, policy, store, warden.people, stop)
    warden.incidents = incidents_workflow(
        settings, policy, store, warden.people, incident_cards, stop
    )
    warden.incident_actions = incident_actions(
        settings, policy, store, warden.people, warden.incidents, stop
    )
    scheduler = Scheduler(store, scheduled_jobs(warden, incident_cards))
    follower = _ids_follower(warden)

    _audit_process(store, "process.started", settings, policy_hash)
    sender.start()
    handler, exit_code = None, 0
    try:
        if _until_stopped(stop, "slack.unreachable", client.auth_test):
            _settle_grants(warden)
            scheduler.start()
            _arm_grant_expiries(warden, scheduler)
            if warden.incidents is not None:
                executor.submit(warm_up)
            if follower is not None:
                follower.start()
            handler = _socket_handler(build_app(warden, client, executor), settings, started)
            if _until_stopped(stop, "socket.connect_retry", lambda: _connect(handler)):
                wait_in_slices(stop)
    except SlackApiError as error:
        # invalid_auth, account_inactive, not_allowed_token_type: a person must fix this.
        log.error("slack.refused_token", extra={"error": error.response.get("error")})
        exit_code = 2
    log.info("process.stopping")
    stop.set()  # also on the refused-token path: every retry and wait ends now
    deadline = time.monotonic() + settings.shutdown_grace_seconds
    if follower is not None:
        follower.stop(timeout=settings.shutdown_grace_seconds / 2)
    _shutdown(deadline, handler, executor, scheduler, sender)
    # After the listeners, which may still queue some; lookups cut short by the
    # stop are not recorded, and the next start enriches those incidents.
    warden.enrichment.shutdown(wait=False, cancel_futures=True)
    _audit_process(store, "process.stopped", settings, policy_hash)
    store.close()
    log.info("process.stopped")
    return exit_code


def _audit_process(store: Store, action: str, settings: Settings, policy_hash: str) -> None:
    """Record starts and stops with the policy in force, so gaps in the log are explained."""
    with store.transaction() as db:
        audit.record(
            db,
            actor="warden",
            action=action,
            subject=f"policy:{policy_hash}",
            details={"policy_path": str(settings.policy_path), "pid": os.getpid()},
        )


def _add_drive(warden: Warden, stop: threading.Event) -> None:
    """The findings workflow always (old findings keep their buttons); the scan if enabled."""
    policy, settings = warden.policy, warden.settings
    workspace = google_workspace(settings, stop) if settings.google_ready() is None else None
    warden.findings = findings_workflow(warden.store, warden.people, policy, workspace)
    if policy.scanners.drive.enabled and workspace is not None:
        warden.drive_scan = DriveScanJob(
            warden.store, workspace, policy, warden.findings, threading.Lock()
        )


def _ids_follower(warden: Warden) -> IdsFollower | None:
    """The Suricata follower, when incidents are on and the policy names an EVE log."""
    eve_path = warden.policy.incidents.suricata.eve_path
    if warden.incidents is None or not eve_path:
        return None

    def after_batch(opened: list[int], updated: list[int]) -> None:
        warden.sender.wake()
        for incident_id in opened:
            warden.incidents.enrich_soon(incident_id, warden.enrichment.submit,
                                         warden.sender.wake)  # fmt: skip

    return IdsFollower(warden.store, warden.incidents, eve_path, after_batch)


def scheduled_jobs(warden: Warden, cards: SlackIncidentNotifier | None = None) -> list[Job]:
    def forget_old_deliveries() -> None:
        with warden.store.transaction() as db:
            deliveries.forget_older_than(db, utcnow() - DELIVERY_MEMORY)

    def send_reminders() -> None:
        if warden.findings.notify_pending() + warden.findings.send_due_reminders():
            warden.sender.wake()

    def scan_drive() -> None:
        warden.drive_scan()
        warden.sender.wake()

    jobs = [
        Job("people-sync", timedelta(hours=24), warden.people.sync_from_policy),
        Job("people-refresh", timedelta(hours=6), warden.people.refresh_stale),
        Job("deliveries-cleanup", timedelta(hours=6), forget_old_deliveries),
        Job("findings-reminders", REMINDER_SWEEP, send_reminders),
    ]
    if warden.drive_scan is not None:
        jobs.append(Job("drive-scan", warden.policy.scanners.drive.every, scan_drive))
    if warden.grants is not None:
        jobs.append(Job("grants-sweep", GRANTS_SWEEP, lambda: sweep_grants(warden)))
    if warden.incidents is not None:
        jobs.append(Job("incident-tasks", REMINDER_SWEEP, lambda: follow_up(warden, cards)))
        jobs.append(Job("incident-effects", GRANTS_SWEEP, warden.incident_actions.sweep))
        jobs.append(Job("weekly-digest", timedelta(hours=1), lambda: digest(warden)))
    return jobs


def digest(warden: Warden) -> None:
    if post_weekly_digest(warden.store, warden.policy):
        warden.sender.wake()


def follow_up(warden: Warden, cards: SlackIncidentNotifier | None) -> None:
    if cards is not None:
        with warden.store.transaction() as db:
            cards.repair_cards(db)
    warden.incidents.tasks.remind()
    warden.incidents.enrich_missed(warden.enrichment.submit, warden.sender.wake)
    warden.sender.wake()


def _settle_grants(warden: Warden) -> None:
    """Finish applies and revokes a crash cut in half, before any listener runs.

    Only now: once listeners run, an `approved` grant may be an apply in
    progress on another thread, not an interrupted one."""
    if warden.grants is None:
        return
    try:
        if warden.grants.settle_interrupted():
            warden.sender.wake()
    except Exception:
        log.exception("grants.settle_failed")  # the next start tries again


def _arm_grant_expiries(warden: Warden, scheduler: Scheduler) -> None:
    """One wake-up per active grant at its expiry, re-armed from the store on start."""
    if warden.grants is None:
        return

    remind_before = warden.policy.grants.remind_before_expiry

    def arm(grant_id: int, when) -> None:
        def expire() -> None:
            warden.grants.revoke(grant_id, "warden", "expired")
            warden.sender.wake()

        def remind() -> None:
            if warden.grants.remind_expiring():
                warden.sender.wake()

        scheduler.run_once(f"grant-expiry-{grant_id}", when, expire)
        scheduler.run_once(f"grant-reminder-{grant_id}", when - remind_before, remind)

    warden.grants.arm_expiry = arm
    for grant_id, when in warden.grants.active_expiries():
        arm(grant_id, when)


def sweep_grants(warden: Warden) -> None:
    """Every minute: expire requests, remind, revoke what is due (the safety net
    under the per-grant wake-ups)."""
    grants = warden.grants
    done = grants.expire_requests() + grants.remind_expiring() + grants.revoke_due()
    if done:
        warden.sender.wake()


def _socket_handler(app, settings: Settings, started: float) -> SocketModeHandler:
    handler = SocketModeHandler(
        app,
        app_token=settings.slack_app_token,
        concurrency=ACK_THREADS,
    )

    def on_message(client: SocketModeClient, message: dict, raw: str | None) -> None:
        if message.get("type") == "hello":
            elapsed = round(time.perf_counter() - started, 3)
            log.info("socket.connected", extra={"seconds_since_start": elapsed})
        elif message.get("type") == "disconnect":
            log.info("socket.disconnect_requested", extra={"reason": message.get("reason")})

    handler.client.message_listeners.append(on_message)
    return handler


def wait_in_slices(stop: threading.Event, seconds: float | None = None) -> None:
    """Wait for `stop` on the main thread, waking twice a second.

    The kernel may deliver SIGTERM to any thread. Python runs its handler on
    the main thread, but only once that thread runs bytecode again: a main
    thread blocked in one long wait would never see the signal.
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    while not stop.is_set():
        left = MAIN_THREAD_SLICE if deadline is None else deadline - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(left, MAIN_THREAD_SLICE))


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
        sleep=lambda seconds: wait_in_slices(stop, seconds),
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


def _shutdown(deadline: float, handler, executor, scheduler, sender) -> None:
    if handler is not None:
        _close_socket(handler)
    executor.shutdown(wait=True, cancel_futures=False)
    scheduler.shutdown()
    sender.stop(timeout=max(deadline - time.monotonic(), 0.1))


def _close_socket(handler: SocketModeHandler) -> None:
    """Let running listeners send their acks, then close the socket."""
    client = handler.client
    client.auto_reconnect_enabled = False
    client.message_workers.shutdown(wait=True)
    # The builtin client joins its reader thread, which sits in recv until a
    # 3 s timeout: closing a socket does not wake a recv on Linux, shutting
    # it down does.
    sock = getattr(getattr(client, "current_session", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    handler.close()


def _stop_on_signals(stop: threading.Event, grace_seconds: float) -> None:
    def request_stop(signum: int, frame) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("process.forced_stop", extra={"signal": name})
            os._exit(EXIT_STOPPED_BY_WATCHDOG)
        log.info("process.signal", extra={"signal": name})
        stop.set()
        _start_watchdog(grace_seconds)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def _start_watchdog(grace_seconds: float) -> None:
    """End the process if stopping takes longer than the grace period.

    Work that ignores the stop (a Web API call already waiting on a slow
    socket) must not keep a supervisor's SIGTERM waiting for ever. What such
    work had not recorded is redone on the next start: state is the truth.
    """

    def expire() -> None:
        log.error("process.watchdog_expired", extra={"grace_seconds": grace_seconds})
        logging.shutdown()
        os._exit(EXIT_STOPPED_BY_WATCHDOG)

    timer = threading.Timer(grace_seconds + 1, expire)
    timer.daemon = True
    timer.start()
