"""The App Home tab, published each time a person opens it."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import grants_notifier as grants_view
from bot import ids, incident_card, views, views_findings
from bot.context import Warden
from bot.findings_notifier import state_line
from handlers.acks import after_ack
from handlers.commands import switched_on
from state import findings, incidents

log = logging.getLogger(__name__)


def register(app: App, warden: Warden) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict, body: dict, client: WebClient) -> None:
        if event.get("tab") == "home":
            after_ack(warden, body, client, lambda: publish_home(warden, client, event["user"]))

    @app.action(ids.HOME_HELP_BUTTON)
    def show_help(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        help_view = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "What Warden does"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": views.help_blocks(switched_on(warden.policy)),
        }
        after_ack(
            warden,
            body,
            client,
            lambda: client.views_open(trigger_id=body["trigger_id"], view=help_view),
        )


# 100 blocks per view: leave room for the rest of the Home (3 blocks a finding).
HOME_FINDINGS_LISTED = 20
HOME_GRANTS_LISTED = 10
HOME_REPORTS_LISTED = 10
HOME_QUEUE_LISTED = 15


def publish_home(warden: Warden, client: WebClient, slack_user_id: str) -> None:
    person = warden.people.get(slack_user_id) or {}
    name = person.get("display_name") or "there"
    is_analyst = warden.people.is_analyst(slack_user_id)
    sections = home_sections(warden, person.get("email"), is_analyst)
    extra = {
        "Your findings": _finding_blocks(warden, person.get("email")),
        "Your access grants": _grant_blocks(warden, slack_user_id, is_analyst),
        "Your reports": _report_blocks(warden, slack_user_id, is_analyst),
    }
    view = views.home_view(name, is_analyst, sections, extra)
    client.views_publish(user_id=slack_user_id, view=view)
    log.info("home.published", extra={"user": slack_user_id})


def home_sections(
    warden: Warden, email: str | None = None, is_analyst: bool = False
) -> list[tuple[str, str]]:
    """One section per workflow; each workflow fills its own as it lands."""
    policy = warden.policy
    drive_or_github = policy.scanners.drive.enabled or policy.scanners.github.enabled
    return [
        ("Your findings", _findings_line(warden, drive_or_github, email, is_analyst)),
        ("Your access grants", _grants_line(warden)),
        ("Your reports", _reports_line(warden)),
    ]


def _state_line(enabled: bool, what: str) -> str:
    if not enabled:
        return f"{what} will show here. This part of Warden is switched off."
    return f"{what} will show here. Nothing yet."


def _my_open_findings(warden: Warden, email: str | None) -> list[dict]:
    if not email:
        return []
    rows = warden.store.db.query(
        """SELECT id FROM findings WHERE status = 'open' AND owner = ? COLLATE NOCASE
           ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1
                    WHEN 'medium' THEN 2 ELSE 3 END, id""",
        [email],
    )
    return [findings.get_finding(warden.store.db, row["id"]) for row in list(rows)]


def _findings_line(warden: Warden, enabled: bool, email: str | None, is_analyst: bool) -> str:
    if not enabled:
        return _state_line(False, "Sharing you own that breaks policy")
    mine = _my_open_findings(warden, email)
    line = f"You have {len(mine)} open." if mine else "Nothing of yours is overshared. Thank you!"
    if is_analyst:
        everyone = len(findings.open_findings(warden.store.db))
        line += f" Across the company: {everyone} open."
    return line


def _finding_blocks(warden: Warden, email: str | None) -> list[dict]:
    blocks: list[dict] = []
    mine = _my_open_findings(warden, email)
    for finding in mine[:HOME_FINDINGS_LISTED]:
        blocks += views_findings.finding_blocks(finding, state_line(warden.store.db, finding))
    if len(mine) > HOME_FINDINGS_LISTED:
        more = len(mine) - HOME_FINDINGS_LISTED
        blocks.append(views.section(f"…and {more} more; fixing these first brings them here."))
    return blocks


def _grants_line(warden: Warden) -> str:
    if warden.grants is None:
        return _state_line(False, "Temporary access you asked for")
    return "Temporary access you asked for, and how long it has left. Ask with `/access`."


def _grant_blocks(warden: Warden, slack_user_id: str, is_analyst: bool) -> list[dict]:
    if warden.grants is None:
        return []
    mine = grants_view.open_grants(warden.store.db, requester=slack_user_id)
    blocks = [grants_view.home_line(g, can_revoke=True) for g in mine[:HOME_GRANTS_LISTED]]
    if not mine:
        blocks.append(views.section("Nothing right now."))
    if is_analyst:
        everyone = grants_view.open_grants(warden.store.db)
        blocks.append(views.section(f"*All open grants ({len(everyone)})*"))
        blocks += [grants_view.home_line(g, can_revoke=True)
                   for g in everyone[:HOME_GRANTS_LISTED]]  # fmt: skip
    return blocks


def _reports_line(warden: Warden) -> str:
    if warden.incidents is None:
        return _state_line(False, "Security reports you made")
    return ("Security reports you made, and where they stand. Report with `/securityalert` "
            "or *Report to security* on any message.")


def _report_blocks(warden: Warden, slack_user_id: str, is_analyst: bool) -> list[dict]:
    if warden.incidents is None:
        return []
    mine = incidents.reported_by(warden.store.db, slack_user_id, HOME_REPORTS_LISTED)
    lines = [incident_card.report_line(incident) for incident in mine] or ["Nothing yet."]
    blocks = [views.section("\n".join(lines))]
    if is_analyst:
        blocks.append(views.section(_queue_text(warden)))
    return blocks


def _queue_text(warden: Warden) -> str:
    """The analysts' queue: unresolved incidents, oldest first."""
    queue = incidents.unresolved(warden.store.db, HOME_QUEUE_LISTED + 1)
    if not queue:
        return "*Open incidents*\nNone. All quiet."
    lines = [incident_card.queue_line(incident) for incident in queue[:HOME_QUEUE_LISTED]]
    if len(queue) > HOME_QUEUE_LISTED:
        lines.append("…and more: the security channel has them all.")
    return "\n".join(["*Open incidents, oldest first*", *lines])
