"""Reporting (`/securityalert`, the report form, "Report to security") and the
incident card's buttons and modals. Who may press what is decided by the
workflow; these listeners parse, ack, and hand the work to `after_ack`."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, time

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import errors, ids, views
from bot import incident_card as ui
from bot.context import Warden
from bot.text import escape
from handlers.acks import after_ack
from state import NotFound
from workflows import incident_actions as effects
from workflows import incidents as workflow

log = logging.getLogger(__name__)



def translated(call):
    try:
        return call()
    except workflow.Invalid as invalid:
        raise errors.BadInput(str(invalid)) from None
    except workflow.NotAllowed as refusal:
        raise errors.NotAllowed(str(refusal)) from None
    except NotFound as missing:
        raise errors.NotFound(f"That is gone: {missing}.") from None


def open_report_form(warden: Warden, body: dict, client: WebClient,
                     prefill: dict | None = None) -> None:  # fmt: skip
    view = ui.report_modal(warden.policy.incidents.kinds, prefill)
    trigger = body["trigger_id"]
    after_ack(warden, body, client, lambda: client.views_open(trigger_id=trigger, view=view))


def register(app: App, warden: Warden) -> None:
    if warden.incidents is None:
        _register_switched_off(app, warden)
        return
    incidents = warden.incidents

    actions = warden.incident_actions

    def run(body: dict, client: WebClient, work, incident_id: int | None = None) -> None:
        """Do the step after the ack; then the ticket and the page catch up with it."""

        def step() -> None:
            result = translated(work)
            warden.sender.wake()
            # Steps return the incident they changed (or a task): follow that one.
            changed = incident_id or (result or {}).get("incident_id") or (result or {}).get("id")
            if actions is not None and changed is not None:
                actions.after_step(changed)

        after_ack(warden, body, client, step)

    def enrich_quietly(incident_id: int) -> None:
        """After the incident is safe: a failure here is the card's note, not the reporter's."""
        incidents.enrich_soon(incident_id, warden.enrichment.submit, warden.sender.wake)

    def target(body: dict) -> int:
        return int(body["actions"][0]["value"].split("|")[0])

    def pattern(kind: str) -> re.Pattern:
        return re.compile(rf"^{kind}:\d+$")

    @app.command(ids.COMMAND_SECURITY_ALERT)
    def security_alert(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        text = (body.get("text") or "").strip()
        if not text:
            ack()
            open_report_form(warden, body, client)
            return
        ack(text="Thanks, opening an incident…")
        kinds = warden.policy.incidents.kinds
        kind = "other" if "other" in kinds else kinds[-1]
        report = workflow.Report(kind, text, body["user_id"], "command")

        def open_incident() -> None:
            incident = translated(lambda: incidents.report(report))
            warden.sender.wake()
            respond(response_type="ephemeral",
                    text=f":shield: Incident {incident['id']} is open and the security team "
                         f"has it. I'll tell you how it ends.")  # fmt: skip
            enrich_quietly(incident["id"])

        after_ack(warden, body, client, open_incident)

    @app.shortcut(ids.SHORTCUT_REPORT_TO_SECURITY)
    def report_message(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id")

        def open_prefilled() -> None:
            metadata = {"author": message.get("user"),
                        "permalink": _permalink(client, channel, message["ts"])}
            prefill = {"description": message.get("text") or "", "metadata": json.dumps(metadata)}
            view = ui.report_modal(warden.policy.incidents.kinds, prefill)
            client.views_open(trigger_id=body["trigger_id"], view=view)

        after_ack(warden, body, client, open_prefilled)

    @app.view(ui.REPORT_MODAL)
    def report_submitted(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        values = view["state"]["values"]
        kind = values[ui.KIND_BLOCK]["value"]["selected_option"]["value"]
        description = (values[ui.WHAT_BLOCK]["value"].get("value") or "").strip()
        link = (values[ui.LINK_BLOCK]["value"].get("value") or "").strip() or None
        if not description:
            ack(response_action="errors", errors={ui.WHAT_BLOCK: "Say what happened."})
            return
        ack()
        quoted = json.loads(view.get("private_metadata") or "{}")
        report = workflow.Report(
            kind, description, body["user"]["id"], "shortcut" if quoted else "modal", link,
            quoted.get("author"), quoted.get("permalink"),
        )  # fmt: skip
        def open_incident() -> None:
            incident = translated(lambda: incidents.report(report))
            warden.sender.wake()
            enrich_quietly(incident["id"])

        after_ack(warden, body, client, open_incident)

    # -- card buttons ----------------------------------------------------------

    @app.action(pattern(ui.TAKE))
    def take(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        user, incident_id = body["user"]["id"], target(body)
        run(body, client, lambda: incidents.take(incident_id, user), incident_id)

    @app.action(pattern(ui.ENRICH))
    def enrich(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        user, incident_id = body["user"]["id"], target(body)
        run(body, client, lambda: incidents.enrich(incident_id, user), incident_id)

    @app.action(pattern(ui.THANK))
    def thank(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        user, incident_id = body["user"]["id"], target(body)
        run(body, client, lambda: incidents.thank(incident_id, user), incident_id)

    def modal_button(kind: str, build) -> None:
        @app.action(pattern(kind))
        def open_modal(ack: Ack, body: dict, client: WebClient) -> None:
            ack()
            user, incident_id = body["user"]["id"], target(body)

            def show() -> None:
                if not incidents.is_analyst(user):
                    raise errors.NotAllowed("Only the security analysts can act on incidents.")
                client.views_open(trigger_id=body["trigger_id"], view=build(incident_id))

            after_ack(warden, body, client, show)

    modal_button(ui.REASSIGN, ui.reassign_modal)
    modal_button(ui.RESOLVE, ui.resolve_modal)
    modal_button(ui.ADD_TASK, ui.task_modal)

    @app.view(ui.REASSIGN_MODAL)
    def reassigned(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        to = view["state"]["values"][ui.ASSIGNEE_BLOCK]["value"].get("selected_user")
        if not incidents.is_analyst(to or ""):
            ack(response_action="errors",
                errors={ui.ASSIGNEE_BLOCK: "Choose one of the security analysts."})
            return
        ack()
        user, incident_id = body["user"]["id"], int(view["private_metadata"])
        run(body, client, lambda: incidents.reassign(incident_id, user, to), incident_id)

    @app.view(ui.RESOLVE_MODAL)
    def resolved(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        values = view["state"]["values"]
        category = (values[ui.CATEGORY_BLOCK]["value"].get("selected_option") or {}).get("value")
        resolution = (values[ui.RESOLUTION_BLOCK]["value"].get("value") or "").strip()
        problems = {}
        if category not in workflow.CATEGORIES:
            problems[ui.CATEGORY_BLOCK] = "Choose a category."
        if len(resolution) < 5:
            problems[ui.RESOLUTION_BLOCK] = "Say in a few words how it was resolved."
        if problems:
            ack(response_action="errors", errors=problems)
            return
        ack()
        user, incident_id = body["user"]["id"], int(view["private_metadata"])
        run(body, client, lambda: incidents.resolve(incident_id, user, resolution, category),
            incident_id)

    @app.view(ui.TASK_MODAL)
    def task_added(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        values = view["state"]["values"]
        text = (values[ui.TASK_TEXT_BLOCK]["value"].get("value") or "").strip()
        owner = values[ui.TASK_OWNER_BLOCK]["value"].get("selected_user")
        due_text = values[ui.TASK_DUE_BLOCK]["value"].get("selected_date") or ""
        due = _end_of_day(due_text)
        if due is None or due <= datetime.now(UTC):
            ack(response_action="errors", errors={ui.TASK_DUE_BLOCK: "Pick today or later."})
            return
        ack()
        user, incident_id = body["user"]["id"], int(view["private_metadata"])
        run(body, client, lambda: incidents.add_task(incident_id, user, text, owner, due),
            incident_id)

    if actions is not None:
        _register_effects(app, warden, actions, run)

    @app.action(pattern(ui.TASK_DONE))
    def task_done(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        user, task_id = body["user"]["id"], target(body)

        def finish() -> None:
            task = translated(lambda: incidents.finish_task(task_id, user))
            warden.sender.wake()
            respond(replace_original=True,
                    text=f":white_check_mark: Task {task_id} is done: {escape(task['text'])}")

        after_ack(warden, body, client, finish)


def _register_effects(app: App, warden: Warden, actions, run) -> None:
    """Block IP, Quarantine / Restore sharing, Create ticket, Page on-call."""

    def translated_effect(call):
        try:
            return call()
        except effects.ActionFailed as failed:
            raise errors.WardenError(str(failed)) from None

    def on(kind: str, do, with_target: bool = False) -> None:
        suffix = r":\d+:.+" if with_target else r":\d+"

        @app.action(re.compile(rf"^{kind}{suffix}$"))
        def pressed(ack: Ack, body: dict, client: WebClient) -> None:
            ack()
            user = body["user"]["id"]
            number, _, target = body["actions"][0]["value"].partition("|")

            def work() -> dict:
                return translated_effect(lambda: do(int(number), user, target))

            run(body, client, work, int(number) if kind != ui.RESTORE else None)

    on(ui.BLOCK_IP, actions.block_ip, with_target=True)
    on(ui.QUARANTINE, actions.quarantine, with_target=True)
    on(ui.RESTORE, lambda qid, user, _: actions.restore(qid, user))
    on(ui.TICKET, lambda iid, user, _: actions.create_ticket(iid, user))
    on(ui.PAGE, lambda iid, user, _: actions.page(iid, user))


def _permalink(client: WebClient, channel: str | None, ts: str) -> str | None:
    """The message's link, or None where Slack will not give the bot one (a private
    conversation it is not in): the report still goes through with the text."""
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
    except SlackApiError as error:
        log.warning("report.no_permalink", extra={"error": error.response.get("error")})
        return None


def _register_switched_off(app: App, warden: Warden) -> None:
    text = views.feature_unavailable_text("Incident reporting", False)

    @app.command(ids.COMMAND_SECURITY_ALERT)
    def security_alert(ack: Ack) -> None:
        ack(text=text)

    @app.shortcut(ids.SHORTCUT_REPORT_TO_SECURITY)
    def report_message(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        view = views.notice_modal("Report", text)
        after_ack(warden, body, client,
                  lambda: client.views_open(trigger_id=body["trigger_id"], view=view))


def _end_of_day(date_text: str) -> datetime | None:
    """A due date means the whole of that day, in UTC."""
    try:
        day = datetime.strptime(date_text, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time(23, 59), tzinfo=UTC)
