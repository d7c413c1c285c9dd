"""Reporting: `/securityalert`, the report form and "Report to security". The
card's buttons are in `handlers.incident_buttons`; both parse, ack, and hand the
work to `after_ack`, and the workflow decides who may do what."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids, views
from bot import incident_card as ui
from bot.context import Warden
from handlers import incident_buttons
from handlers.acks import after_ack
from handlers.incident_buttons import translated
from workflows import incidents as workflow

log = logging.getLogger(__name__)



def open_report_form(warden: Warden, body: dict, client: WebClient,
                     prefill: dict | None = None) -> None:  # fmt: skip
    view = ui.report_modal(warden.policy.incidents.kinds, prefill)
    trigger = body["trigger_id"]
    after_ack(warden, body, client, lambda: client.views_open(trigger_id=trigger, view=view))


class Steps:
    """Runs a listener's work after its ack; then the ticket and the page catch up."""

    def __init__(self, warden: Warden) -> None:
        self.warden = warden
        self.incidents = warden.incidents
        self.actions = warden.incident_actions

    def run(self, body: dict, client: WebClient, work, incident_id: int | None = None,
            pool=None) -> None:  # fmt: skip
        def step() -> None:
            result = translated(work)
            self.warden.sender.wake()
            # Steps return the incident they changed (or a task): follow that one.
            changed = incident_id or (result or {}).get("incident_id") or (result or {}).get("id")
            if self.actions is not None and changed is not None:
                self.actions.after_step(changed)

        after_ack(self.warden, body, client, step, pool)

    def enrich_soon(self, incident_id: int) -> None:
        """After the incident is safe: a failure here is the card's note, not the reporter's."""
        warden = self.warden
        self.incidents.enrich_soon(incident_id, warden.enrichment.submit, warden.sender.wake)


def register(app: App, warden: Warden) -> None:
    if warden.incidents is None:
        _register_switched_off(app, warden)
        return
    steps = Steps(warden)
    _register_reports(app, steps)
    incident_buttons.register(app, steps)


def _register_reports(app: App, steps: Steps) -> None:
    """`/securityalert`, the report form and "Report to security"."""
    warden, incidents = steps.warden, steps.incidents

    @app.command(ids.COMMAND_SECURITY_ALERT)
    def security_alert(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        text = (body.get("text") or "").strip()
        if not text:
            ack()
            open_report_form(warden, body, client)
            return
        ack(text="Thanks, opening an incident…")
        report = workflow.Report(None, text, body["user_id"], "command")

        def open_incident() -> None:
            incident = translated(lambda: incidents.report(report))
            warden.sender.wake()
            respond(response_type="ephemeral",
                    text=f":shield: Incident {incident['id']} is open and the security team "
                         f"has it. I'll tell you how it ends.")  # fmt: skip
            steps.enrich_soon(incident["id"])

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
            steps.enrich_soon(incident["id"])

        after_ack(warden, body, client, open_incident)


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
