"""`/access`, and the approver's Approve / Deny and the requester's Revoke now."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import access_modal, errors
from bot import grants_notifier as ui
from bot.access_text import parse_access
from bot.context import Warden
from bot.durations import parse_duration
from handlers.acks import after_ack
from workflows import grants as workflow

HOW_TO = "/access <file or owner/repo> to <email or login> as <role> for <3d> because <reason>"


def translated(call):
    try:
        return call()
    except workflow.Refused as refused:
        raise errors.BadInput(str(refused)) from None
    except workflow.NotAllowed as refusal:
        raise errors.NotAllowed(str(refusal)) from None
    except LookupError as missing:
        raise errors.NotFound(f"That is gone: {missing}.") from None


def handle_access_command(warden: Warden, ack: Ack, body: dict, client: WebClient,
                          respond: Respond) -> None:  # fmt: skip
    request = parse_access(body.get("text") or "")
    if request.problems:
        ack(text=":warning: " + "; ".join(request.problems) + f". Try: `{HOW_TO}`")
        return
    if request.missing:
        missing = ", ".join(request.missing)
        ack(text=f"I still need the {missing}: fill them in the form. (Or: `{HOW_TO}`)")
        open_form(warden, body, client, request)
        return
    ack(text="Checking your request against the policy…")
    user = body["user_id"]

    def answered(grant: dict) -> None:
        status = "is live" if grant["status"] == "active" else "is waiting for approval"
        respond(response_type="ephemeral", text=f"Request {grant['id']} {status}.")

    submit_request(warden, body, client, user, request, answered)


def open_form(warden: Warden, body: dict, client: WebClient, prefill=None) -> None:
    view = access_modal.request_modal(prefill)
    trigger = body["trigger_id"]
    after_ack(warden, body, client, lambda: client.views_open(trigger_id=trigger, view=view))


def submit_request(warden: Warden, body: dict, client: WebClient, user: str, request,
                   answered=None) -> None:  # fmt: skip
    """Check the request against the policy and send it on, after the ack."""

    def submit() -> None:
        email = (warden.people.get(user) or {}).get("email") or ""
        asked = workflow.Request(
            request.kind, request.resource, request.grantee, request.role,
            request.duration, request.reason, user, email,
        )  # fmt: skip
        grant = translated(lambda: warden.grants.submit(asked))
        warden.sender.wake()
        if answered:
            answered(grant)

    after_ack(warden, body, client, submit)


def register(app: App, warden: Warden) -> None:
    def pattern(kind: str) -> re.Pattern:
        return re.compile(rf"^{kind}:\d+$")

    @app.view(access_modal.CALLBACK)
    def form_submitted(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        submitted = access_modal.read_submission(view["state"]["values"])
        if submitted.errors:
            ack(response_action="errors", errors=submitted.errors)
            return
        ack()
        submit_request(warden, body, client, body["user"]["id"], submitted.request)

    @app.action(access_modal.OPEN_FORM)
    def open_form_from_dm(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        open_form(warden, body, client, parse_access(body["actions"][0].get("value") or ""))

    def target(body: dict) -> int:
        return int(body["actions"][0]["value"])

    @app.action(pattern(ui.APPROVE))
    def approve(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        user, grant_id = body["user"]["id"], target(body)

        def decide() -> None:
            grant = translated(lambda: warden.grants.decide(grant_id, user, approve=True))
            warden.sender.wake()
            respond(replace_original=True, text=f"You approved request {grant_id}: "
                    f"{ui.describe(grant)}")  # fmt: skip

        after_ack(warden, body, client, decide)

    @app.action(pattern(ui.DENY))
    def deny(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        modal = ui.deny_modal(target(body))
        after_ack(warden, body, client,
                  lambda: client.views_open(trigger_id=body["trigger_id"], view=modal))  # fmt: skip

    @app.view(ui.DENY_MODAL)
    def denied(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        reason = (view["state"]["values"][ui.DENY_BLOCK][ui.DENY_INPUT].get("value") or "").strip()
        if len(reason) < 5:
            ack(response_action="errors", errors={ui.DENY_BLOCK: "Say why in a few words."})
            return
        ack()
        user, grant_id = body["user"]["id"], int(view["private_metadata"])

        def decide() -> None:
            translated(lambda: warden.grants.decide(grant_id, user, approve=False, note=reason))
            warden.sender.wake()

        after_ack(warden, body, client, decide)

    @app.action(pattern(ui.EXTEND))
    def extend(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        modal, trigger = ui.extend_modal(target(body)), body["trigger_id"]
        after_ack(warden, body, client, lambda: client.views_open(trigger_id=trigger, view=modal))

    @app.view(ui.EXTEND_MODAL)
    def extend_submitted(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        values = view["state"]["values"]
        duration_text = (values[ui.EXTEND_DAYS]["value"].get("value") or "").strip()
        reason = (values[ui.EXTEND_REASON]["value"].get("value") or "").strip()
        try:
            duration = parse_duration(duration_text)
        except ValueError as error:
            ack(response_action="errors", errors={ui.EXTEND_DAYS: str(error).capitalize()})
            return
        ack()
        user, grant_id = body["user"]["id"], int(view["private_metadata"])

        def ask_more() -> None:
            translated(lambda: warden.grants.extend(grant_id, user, duration, reason))
            warden.sender.wake()

        after_ack(warden, body, client, ask_more)

    @app.action(pattern(ui.REVOKE_NOW))
    def revoke_now(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        user, grant_id = body["user"]["id"], target(body)

        def revoke() -> None:
            translated(lambda: warden.grants.revoke_now(grant_id, user))
            warden.sender.wake()
            if body.get("response_url"):
                respond(replace_original=True, text=f"Access {grant_id} was revoked.")
            else:  # pressed on the App Home, which has no response_url
                # Imported here: handlers.home imports this module (via commands).
                from handlers.home import publish_home

                publish_home(warden, client, user)

        after_ack(warden, body, client, revoke)
