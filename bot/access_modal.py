"""The access request form: opened by `/access` with parts missing, the "Request
access" shortcut and a DM, prefilled with what was understood."""

from __future__ import annotations

from dataclasses import dataclass

from bot.access_text import AccessText, parse_access
from bot.durations import format_duration, parse_duration

CALLBACK = "access_request_modal"
OPEN_FORM = "access_open_form"
RESOURCE, GRANTEE, ROLE, DURATION, REASON = (
    "access_resource", "access_grantee", "access_role", "access_duration", "access_reason",
)  # fmt: skip
FIELD = "value"
ROLES = ("reader", "commenter", "writer", "pull", "triage", "push")


def _text_input(block_id: str, label: str, initial: str | None, hint: str,
                multiline: bool = False) -> dict:  # fmt: skip
    element = {"type": "plain_text_input", "action_id": FIELD, "multiline": multiline,
               "placeholder": {"type": "plain_text", "text": hint}}  # fmt: skip
    if initial:
        element["initial_value"] = initial
    return {"type": "input", "block_id": block_id, "element": element,
            "label": {"type": "plain_text", "text": label}}  # fmt: skip


def _option(role: str) -> dict:
    return {"text": {"type": "plain_text", "text": role}, "value": role}


def request_modal(prefill: AccessText | None = None) -> dict:
    prefill = prefill or AccessText()
    role = {"type": "static_select", "action_id": FIELD,
            "options": [_option(r) for r in ROLES]}  # fmt: skip
    if prefill.role in ROLES:
        role["initial_option"] = _option(prefill.role)
    resource = prefill.resource if prefill.kind == "github" else (
        f"https://drive.google.com/file/d/{prefill.resource}" if prefill.resource else None
    )
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": {"type": "plain_text", "text": "Request access"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _text_input(RESOURCE, "Drive file link or GitHub owner/repo", resource,
                        "https://docs.google.com/… or acme/payments"),
            _text_input(GRANTEE, "Who gets access (email for Drive, login for GitHub)",
                        prefill.grantee, "auditor@partner.com or octocat"),
            {"type": "input", "block_id": ROLE, "element": role,
             "label": {"type": "plain_text", "text": "Role"}},
            _text_input(DURATION, "For how long", prefill.duration and
                        format_duration(prefill.duration), "3d, 12h or 2w"),
            _text_input(REASON, "Why", prefill.reason, "SOC 2 evidence for the auditor",
                        multiline=True),
        ],
    }  # fmt: skip


@dataclass
class Submitted:
    request: AccessText
    errors: dict[str, str]


def read_submission(values: dict) -> Submitted:
    """The form's fields as a request, or the error to show beside each bad field."""
    def value(block: str) -> str:
        field = values.get(block, {}).get(FIELD, {})
        chosen = field.get("selected_option") or {}
        return (field.get("value") or chosen.get("value") or "").strip()

    errors: dict[str, str] = {}
    request = parse_access(value(RESOURCE))
    if request.resource is None:
        errors[RESOURCE] = "Paste a Drive file link or write owner/repo, like acme/payments."
    grantee = parse_access(f"to {value(GRANTEE)}").grantee
    if grantee is None:
        errors[GRANTEE] = "An email address for Drive, a GitHub login for GitHub."
    request.grantee, request.role = grantee, value(ROLE) or None
    if request.role is None:
        errors[ROLE] = "Pick a role."
    try:
        request.duration = parse_duration(value(DURATION))
    except ValueError as error:
        errors[DURATION] = str(error).capitalize() + "."
    request.reason = value(REASON) or None
    if not request.reason:
        errors[REASON] = "Tell the approver why in a sentence."
    return Submitted(request, errors)
