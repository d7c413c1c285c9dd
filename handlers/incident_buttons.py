"""The incident card's buttons and the forms they open, and a task's Done.

Who may press what is the workflow's decision, made again on every call;
a form is not even opened for someone who may not submit it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import errors
from bot import incident_card as ui
from bot.text import escape
from handlers.acks import after_ack
from state import NotFound
from workflows import incident_actions as effects
from workflows import incidents as workflow

if TYPE_CHECKING:
    from handlers.incidents import Steps


def translated(call):
    """Run a workflow call; its refusals become messages for the person."""
    try:
        return call()
    except workflow.Invalid as invalid:
        raise errors.BadInput(str(invalid)) from None
    except workflow.NotAllowed as refusal:
        raise errors.NotAllowed(str(refusal)) from None
    except NotFound as missing:
        raise errors.NotFound(f"That is gone: {missing}.") from None


def target(body: dict) -> int:
    return int(body["actions"][0]["value"].split("|")[0])


def pattern(kind: str) -> re.Pattern:
    return re.compile(rf"^{kind}:\d+$")


def register(app: App, steps: Steps) -> None:
    _register_buttons(app, steps)
    _register_forms(app, steps)
    if steps.actions is not None:
        _register_effects(app, steps)
    _register_task_done(app, steps)


def _register_buttons(app: App, steps: Steps) -> None:
    """Take, Enrich again and Thank reporter act at once."""
    incidents = steps.incidents

    def on(kind: str, do, pool=None) -> None:
        @app.action(pattern(kind))
        def pressed(ack: Ack, body: dict, client: WebClient) -> None:
            ack()
            user, incident_id = body["user"]["id"], target(body)
            steps.run(body, client, lambda: do(incident_id, user), incident_id, pool)

    on(ui.TAKE, incidents.take)
    # Fresh lookups can wait minutes on a provider: not on the pool clicks share.
    on(ui.ENRICH, incidents.enrich, steps.warden.enrichment)
    on(ui.THANK, incidents.thank)


def _register_forms(app: App, steps: Steps) -> None:
    """Reassign, Resolve and Add task open a form; its submission does the step."""
    warden, incidents = steps.warden, steps.incidents

    def opens(kind: str, build) -> None:
        @app.action(pattern(kind))
        def open_form(ack: Ack, body: dict, client: WebClient) -> None:
            ack()
            user, incident_id = body["user"]["id"], target(body)

            def show() -> None:
                if not incidents.is_analyst(user):
                    raise errors.NotAllowed("Only the security analysts can act on incidents.")
                client.views_open(trigger_id=body["trigger_id"], view=build(incident_id))

            after_ack(warden, body, client, show)

    opens(ui.REASSIGN, ui.reassign_modal)
    opens(ui.RESOLVE, ui.resolve_modal)
    opens(ui.ADD_TASK, ui.task_modal)

    @app.view(ui.REASSIGN_MODAL)
    def reassigned(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        to = view["state"]["values"][ui.ASSIGNEE_BLOCK]["value"].get("selected_user")
        if not incidents.is_analyst(to or ""):
            ack(response_action="errors",
                errors={ui.ASSIGNEE_BLOCK: "Choose one of the security analysts."})
            return
        ack()
        user, incident_id = body["user"]["id"], int(view["private_metadata"])
        steps.run(body, client, lambda: incidents.reassign(incident_id, user, to), incident_id)

    @app.view(ui.RESOLVE_MODAL)
    def resolved(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        values = view["state"]["values"]
        category = (values[ui.CATEGORY_BLOCK]["value"].get("selected_option") or {}).get("value")
        resolution = (values[ui.RESOLUTION_BLOCK]["value"].get("value") or "").strip()
        problems = _resolve_problems(category, resolution)
        if problems:
            ack(response_action="errors", errors=problems)
            return
        ack()
        user, incident_id = body["user"]["id"], int(view["private_metadata"])
        steps.run(body, client,
                  lambda: incidents.resolve(incident_id, user, resolution, category), incident_id)

    @app.view(ui.TASK_MODAL)
    def task_added(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        values = view["state"]["values"]
        text = (values[ui.TASK_TEXT_BLOCK]["value"].get("value") or "").strip()
        owner = values[ui.TASK_OWNER_BLOCK]["value"].get("selected_user")
        due = end_of_day(values[ui.TASK_DUE_BLOCK]["value"].get("selected_date") or "")
        if due is None or due <= datetime.now(UTC):
            ack(response_action="errors", errors={ui.TASK_DUE_BLOCK: "Pick today or later."})
            return
        ack()
        user, incident_id = body["user"]["id"], int(view["private_metadata"])
        steps.run(body, client,
                  lambda: incidents.tasks.add(incident_id, user, text, owner, due), incident_id)


def _resolve_problems(category: str | None, resolution: str) -> dict[str, str]:
    problems = {}
    if category not in workflow.CATEGORIES:
        problems[ui.CATEGORY_BLOCK] = "Choose a category."
    if len(resolution) < 5:
        problems[ui.RESOLUTION_BLOCK] = "Say in a few words how it was resolved."
    return problems


def _register_effects(app: App, steps: Steps) -> None:
    """Block IP, Quarantine / Restore sharing, Create ticket, Page on-call."""
    actions = steps.actions

    def on(kind: str, do, with_target: bool = False) -> None:
        suffix = r":\d+:.+" if with_target else r":\d+"

        @app.action(re.compile(rf"^{kind}{suffix}$"))
        def pressed(ack: Ack, body: dict, client: WebClient) -> None:
            ack()
            user = body["user"]["id"]
            number, _, target_value = body["actions"][0]["value"].partition("|")

            def work() -> dict:
                try:
                    return do(int(number), user, target_value)
                except effects.ActionFailed as failed:
                    raise errors.WardenError(str(failed)) from None

            steps.run(body, client, work, int(number) if kind != ui.RESTORE else None)

    on(ui.BLOCK_IP, actions.block_ip, with_target=True)
    on(ui.QUARANTINE, actions.quarantine, with_target=True)
    on(ui.RESTORE, lambda quarantine_id, user, _: actions.restore(quarantine_id, user))
    on(ui.TICKET, lambda incident_id, user, _: actions.create_ticket(incident_id, user))
    on(ui.PAGE, lambda incident_id, user, _: actions.page(incident_id, user))


def _register_task_done(app: App, steps: Steps) -> None:
    @app.action(pattern(ui.TASK_DONE))
    def task_done(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        user, task_id = body["user"]["id"], target(body)

        def finish() -> None:
            task = translated(lambda: steps.incidents.tasks.finish(task_id, user))
            steps.warden.sender.wake()
            respond(replace_original=True,
                    text=f":white_check_mark: Task {task_id} is done: {escape(task['text'])}")

        after_ack(steps.warden, body, client, finish)


def end_of_day(date_text: str) -> datetime | None:
    """A due date means the whole of that day, in UTC."""
    try:
        day = datetime.strptime(date_text, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time(23, 59), tzinfo=UTC)
