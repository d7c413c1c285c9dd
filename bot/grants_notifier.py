"""Grant messages into the outbox: the Slack side of `workflows.grants`."""

from __future__ import annotations

from sqlite_utils import Database

from bot.text import escape, truncate
from bot.views import section, target_button
from state import outbox
from state.clock import from_iso, utcnow

APPROVE, DENY = "grant_approve", "grant_deny"
REVOKE_NOW, EXTEND = "grant_revoke_now", "grant_extend"
EXTEND_MODAL, EXTEND_DAYS, EXTEND_REASON = "grant_extend_modal", "extend_duration", "extend_reason"
DENY_MODAL, DENY_BLOCK, DENY_INPUT = "grant_deny_modal", "deny_reason", "reason"


def describe(grant: dict) -> str:
    days = grant["duration_seconds"] / 86400
    what = escape(truncate(grant["resource_name"] or grant["resource"], 200))
    return (
        f"*{escape(grant['grantee'])}* as *{grant['role']}* on *{what}* "
        f"({grant['kind']}) for {days:g} day(s), asked by <@{grant['requester']}>:\n"
        f">{escape(truncate(grant['reason'], 500))}"
    )


def _when(iso: str | None) -> str:
    return from_iso(iso).strftime("%a %d %b %H:%M UTC") if iso else "unknown"


def deny_modal(grant_id: int) -> dict:
    return {
        "type": "modal",
        "callback_id": DENY_MODAL,
        "private_metadata": str(grant_id),
        "title": {"type": "plain_text", "text": "Deny access"},
        "submit": {"type": "plain_text", "text": "Deny"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": DENY_BLOCK,
                "label": {"type": "plain_text", "text": "Why? The requester will see this."},
                "element": {"type": "plain_text_input", "action_id": DENY_INPUT,
                            "multiline": True, "max_length": 500},
            }
        ],
    }  # fmt: skip


def extend_modal(grant_id: int) -> dict:
    def field(block_id: str, label: str, hint: str, multiline: bool = False) -> dict:
        return {"type": "input", "block_id": block_id,
                "label": {"type": "plain_text", "text": label},
                "element": {"type": "plain_text_input", "action_id": "value",
                            "multiline": multiline,
                            "placeholder": {"type": "plain_text", "text": hint}}}  # fmt: skip

    return {
        "type": "modal",
        "callback_id": EXTEND_MODAL,
        "private_metadata": str(grant_id),
        "title": {"type": "plain_text", "text": "Extend access"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            field(EXTEND_DAYS, "For how much longer", "2d or 12h"),
            field(EXTEND_REASON, "Why", "The audit runs until Friday", multiline=True),
        ],
    }


class SlackGrantNotifier:
    def requested(self, db: Database, grant: dict, approvers: list[str]) -> None:
        gid = grant["id"]
        what = f"Extension of access {grant['extends_grant']}" if grant["extends_grant"] else (
            "Access request"
        )
        blocks = [
            section(f":key: {what} {gid}: {describe(grant)}"),
            {"type": "actions", "block_id": f"grant_{gid}",
             "elements": [target_button(APPROVE, gid, "Approve", "primary"),
                          target_button(DENY, gid, "Deny", "danger")]},
        ]  # fmt: skip
        for approver in approvers:
            payload = {outbox.DM_USER: approver, "text": f"Access request {gid}", "blocks": blocks}
            outbox.enqueue(db, "chat.postMessage", payload, f"grant-request:{gid}:{approver}")
        names = ", ".join(f"<@{a}>" for a in approvers)
        self._tell(db, grant, f"Request {gid} is waiting for {names}.", "asked")

    def decided(self, db: Database, grant: dict) -> None:
        status, note = grant["status"], grant["decision_note"]
        lines = {
            "approved": f"Request {grant['id']} was approved; applying it now.",
            "denied": f"Request {grant['id']} was denied by <@{grant['approver']}>: "
            f"{escape(note or 'no reason given')}",
            "expired": f"Request {grant['id']} expired: nobody decided in time. Ask again?",
            "failed": f"Request {grant['id']} could not be applied ({escape(note or '')}).",
        }
        self._tell(db, grant, lines[status], status)

    def active(self, db: Database, grant: dict) -> None:
        text = (f":white_check_mark: Access is live until {_when(grant['expires_at'])}: "
                f"{describe(grant)}")  # fmt: skip
        self._tell(db, grant, text, "active")

    def ended(self, db: Database, grant: dict) -> None:
        text = f"Access ended ({escape(grant['revoke_outcome'] or '')}): {describe(grant)}"
        self._tell(db, grant, text, "ended")
        approver = grant["approver"]
        if approver and approver.startswith(("U", "W")):
            outbox.enqueue(db, "chat.postMessage", {outbox.DM_USER: approver, "text": text},
                           f"grant-ended:{grant['id']}:{approver}")  # fmt: skip

    def expiring(self, db: Database, grant: dict) -> None:
        gid = grant["id"]
        blocks = [
            section(f":hourglass: Access ends {_when(grant['expires_at'])}: {describe(grant)}"),
            {"type": "actions", "block_id": f"grant_expiring_{gid}",
             "elements": [target_button(EXTEND, gid, "Extend", "primary"),
                          target_button(REVOKE_NOW, gid, "Revoke now", "danger")]},
        ]  # fmt: skip
        payload = {outbox.DM_USER: grant["requester"], "text": "Access ends soon", "blocks": blocks}
        outbox.enqueue(db, "chat.postMessage", payload, f"grant-expiring:{gid}")

    def _tell(self, db: Database, grant: dict, text: str, step: str) -> None:
        """One DM to the requester per grant and step: a retried step says it once."""
        payload = {outbox.DM_USER: grant["requester"], "text": text, "blocks": [section(text)]}
        outbox.enqueue(db, "chat.postMessage", payload, f"grant-{step}:{grant['id']}")




def open_grants(db: Database, requester: str | None = None) -> list[dict]:
    """Grants waiting or active, soonest expiry first; one requester's, or everyone's."""
    where = "status IN ('requested', 'approved', 'active')"
    params: list = []
    if requester:
        where, params = where + " AND requester = ?", [requester]
    return list(db.query(f"SELECT * FROM grants WHERE {where} ORDER BY expires_at, id", params))


def time_left(grant: dict) -> str:
    if grant["status"] != "active" or not grant["expires_at"]:
        return grant["status"]
    seconds = max((from_iso(grant["expires_at"]) - utcnow()).total_seconds(), 0)
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h left" if days else f"{hours}h {rest // 60}m left"


def home_line(grant: dict, can_revoke: bool) -> dict:
    """One grant on the App Home; active ones get Revoke now."""
    line = section(f"*{grant['id']}* · {time_left(grant)} · {describe(grant)}")
    if can_revoke and grant["status"] == "active":
        line["accessory"] = target_button(REVOKE_NOW, grant["id"], "Revoke now", "danger")
    return line
