"""Buttons on findings (in DMs and on the App Home), the exception modal, and
the analysts' Approve / Deny on exception requests."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import errors
from bot import views_findings as views
from bot.context import Warden
from handlers.acks import after_ack
from workflows import findings as workflow

log = logging.getLogger(__name__)


def _pattern(kind: str) -> re.Pattern:
    return re.compile(rf"^{kind}:\d+$")


def _target_id(body: dict) -> int:
    return int(body["actions"][0]["value"])


def translated(call: Callable[[], object]) -> object:
    """Run a workflow call, turning its refusals into errors the person is shown."""
    try:
        return call()
    except workflow.NotAllowed as refusal:
        raise errors.NotAllowed(str(refusal)) from None
    except workflow.FixFailed as failed:
        raise errors.WardenError(str(failed)) from failed
    except LookupError as missing:
        raise errors.NotFound(f"That is gone: {missing}.") from None
    except ValueError as bad:
        raise errors.BadInput(str(bad)) from None


def register(app: App, warden: Warden) -> None:
    def act(body: dict, client: WebClient, call: Callable[[], object]) -> None:
        def work() -> None:
            translated(call)
            warden.sender.wake()

        after_ack(warden, body, client, work)

    def findings_or_refuse():
        if warden.findings is None:
            raise errors.NotFound("Drive findings are switched off in this workspace's policy.")
        return warden.findings

    @app.action(_pattern(views.FIX))
    def fix(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        act(body, client, lambda: findings_or_refuse().fix(_target_id(body), user))

    @app.action(_pattern(views.SNOOZE_1D))
    def snooze_one_day(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        act(body, client, lambda: findings_or_refuse().snooze(_target_id(body), user, 1))

    @app.action(_pattern(views.SNOOZE_3D))
    def snooze_three_days(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        act(body, client, lambda: findings_or_refuse().snooze(_target_id(body), user, 3))

    @app.action(_pattern(views.EXCEPTION))
    def ask_for_exception(ack: Ack, body: dict, client: WebClient) -> None:
        ack()

        def open_modal() -> None:
            flow = findings_or_refuse()
            finding = translated(lambda: flow.authorized(_target_id(body), body["user"]["id"]))
            modal = views.exception_modal(finding, flow.max_exception_days)
            client.views_open(trigger_id=body["trigger_id"], view=modal)

        after_ack(warden, body, client, open_modal)

    @app.view(views.EXCEPTION_MODAL)
    def exception_submitted(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        flow = findings_or_refuse()
        values = view["state"]["values"]
        reason = (values[views.REASON_BLOCK][views.REASON_INPUT].get("value") or "").strip()
        days_text = values[views.DAYS_BLOCK][views.DAYS_INPUT].get("value") or ""
        problems = _exception_problems(reason, days_text, flow.max_exception_days)
        if problems:
            ack(response_action="errors", errors=problems)
            return
        ack()
        finding_id, user = int(view["private_metadata"]), body["user"]["id"]
        act(body, client, lambda: flow.request_exception(finding_id, user, reason, int(days_text)))

    @app.action(_pattern(views.EXCEPTION_APPROVE))
    def approve(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        act(
            body,
            client,
            lambda: findings_or_refuse().decide_exception(_target_id(body), user, True),
        )

    @app.action(_pattern(views.EXCEPTION_DENY))
    def deny(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        act(
            body,
            client,
            lambda: findings_or_refuse().decide_exception(_target_id(body), user, False),
        )


def _exception_problems(reason: str, days_text: str, max_days: int) -> dict[str, str]:
    problems = {}
    if len(reason) < 10:
        problems[views.REASON_BLOCK] = "Tell security why in a sentence (10 characters or more)."
    if not days_text.isdigit() or not 1 <= int(days_text) <= max_days:
        problems[views.DAYS_BLOCK] = f"A whole number of days from 1 to {max_days}, like 7."
    return problems
