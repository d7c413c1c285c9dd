"""Slash commands: `/warden` and its subcommands, `/securityalert`, `/access`."""

from __future__ import annotations

import difflib
import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import errors, ids, views
from bot.context import Warden
from bot.digest import stats_answer
from bot.durations import format_duration
from bot.policy import Policy
from bot.text import escape
from handlers.access import handle_access_command
from handlers.acks import after_ack
from state import audit

log = logging.getLogger(__name__)


# Subcommands answered in the ack itself, and those that need a lookup first
# and answer through the response_url once the ack is sent.
INSTANT_SUBCOMMANDS = ("help",)
SLOW_SUBCOMMANDS = ("whoami", "scan", "stats")
SCANNERS = ("drive",)
SUBCOMMANDS = INSTANT_SUBCOMMANDS + SLOW_SUBCOMMANDS


def _subcommand(body: dict) -> str:
    word, _, _rest = (body.get("text") or "").strip().partition(" ")
    return word.lower() or "help"


def register(app: App, warden: Warden) -> None:
    help_answer = _help(warden)  # the policy is fixed for the life of the process

    @app.command(ids.COMMAND_WARDEN)
    def warden_command(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        word = _subcommand(body)
        known = word if word in SUBCOMMANDS else "unknown"
        log.info("command.warden", extra={"user": body["user_id"], "subcommand": known})
        if word == "help":
            ack(**help_answer)
        elif word == "whoami":
            ack()
            user = body["user_id"]

            def answer() -> None:
                respond(response_type="ephemeral", **_whoami(warden, user))

            after_ack(warden, body, client, answer)
        elif word == "scan":
            _scan_now(warden, ack, body, client, respond)
        elif word == "stats":
            ack()
            after_ack(warden, body, client, lambda: _stats(warden, body, respond))
        else:
            close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.5)
            ack(text=views.did_you_mean_text(word, close[0] if close else None))

    @app.command(ids.COMMAND_ACCESS)
    def access(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        if warden.grants is None:
            ack(text=views.feature_unavailable_text("Temporary access", False))
            return
        handle_access_command(warden, ack, body, client, respond)


def _scan_now(warden: Warden, ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
    """`/warden scan drive`: an analyst starts a scan; the answer comes when it ends."""
    scanner = ((body.get("text") or "").split() + [""])[1].lower()
    if scanner not in SCANNERS:
        ack(text=f"Which scanner? Try `/warden scan {SCANNERS[0]}`.")
        return
    ack(text=f"Starting a {scanner} scan; I'll tell you here when it is done.")

    def scan() -> None:
        if not warden.people.is_analyst(body["user_id"]):
            raise errors.NotAllowed("Only the security analysts can start a scan.")
        if warden.drive_scan is None:
            raise errors.NotFound("The Drive scanner is switched off in the policy.")
        with warden.store.transaction() as db:
            audit.record(db, body["user_id"], "scan.requested", "scanner:drive", {})
        outcome = warden.drive_scan()
        warden.sender.wake()
        respond(response_type="ephemeral", text=_scan_summary(outcome))

    after_ack(warden, body, client, scan)


def _stats(warden: Warden, body: dict, respond: Respond) -> None:
    if not warden.people.is_analyst(body["user_id"]):
        raise errors.NotAllowed("The figures are for the security analysts.")
    respond(response_type="ephemeral", **stats_answer(warden.store))


def _scan_summary(outcome) -> str:
    if outcome is None:
        return "A Drive scan is already running; its findings will arrive as usual."
    failed = f", {len(outcome.failed_scopes)} Drives unreadable" if outcome.failed_scopes else ""
    return (
        f"Drive scan {outcome.run_id} ({outcome.kind}) done: {outcome.files_seen} files, "
        f"{len(outcome.new_ids)} new findings, {len(outcome.resolved_ids)} resolved{failed}."
    )


def _help(warden: Warden) -> dict:
    return {"text": views.help_text(), "blocks": views.help_blocks(switched_on(warden.policy))}


def _whoami(warden: Warden, slack_user_id: str) -> dict:
    person = warden.people.get(slack_user_id) or {}
    role = "a security analyst" if warden.people.is_analyst(slack_user_id) else "an employee"
    lines = [
        f"You are *{escape(person.get('display_name') or slack_user_id)}*, {role}.",
        f"Email: {escape(person.get('email') or 'unknown')}",
        f"Time zone: {escape(person.get('tz') or 'unknown')}",
        f"GitHub: {escape(person.get('github_login') or 'not linked in the policy')}",
    ]
    return {"text": "\n".join(lines)}


def switched_on(policy: Policy) -> list[str]:
    """One line per active workflow, for help and the App Home."""
    lines = []
    drive, github = policy.scanners.drive, policy.scanners.github
    if drive.enabled:
        lines.append(f"Google Drive sharing is checked every {format_duration(drive.every)}.")
    if github.enabled:
        lines.append(f"GitHub is checked every {format_duration(github.every)}.")
    if policy.grants.enabled:
        lines.append("Temporary access to Drive files and GitHub repos can be requested.")
    if policy.incidents.enabled:
        lines.append("Security reports open incidents for the analysts.")
    return lines
