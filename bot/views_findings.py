"""Block Kit for findings: the owner's DM, reminders, escalations and the exception modal.

Every button carries the finding id in its value and in its action id (action
ids must be unique within a message, and one message lists several findings).
"""

from __future__ import annotations

from bot.text import escape, truncate
from bot.views import section, target_button

FIX = "finding_fix"
EXCEPTION = "finding_exception"
SNOOZE_1D = "finding_snooze_1d"
SNOOZE_3D = "finding_snooze_3d"
EXCEPTION_APPROVE = "finding_exception_approve"
EXCEPTION_DENY = "finding_exception_deny"
EXCEPTION_MODAL = "finding_exception_modal"
REASON_BLOCK, REASON_INPUT = "exception_reason", "reason"
DAYS_BLOCK, DAYS_INPUT = "exception_days", "days"

MAX_LISTED = 10  # 3 blocks each, well inside Slack's 50 per message

RULE_WORDS = {
    "public_on_web": "is public on the web: anyone can find it by searching",
    "anyone_with_link": "can be opened by anyone who has the link",
    "outside_domain": "is shared with everyone at {shared_with}",
    "outside_user": "is shared with {shared_with}, outside the company",
    "personal_account": "is shared with the personal account {shared_with}",
}
SEVERITY_EMOJI = {"critical": ":red_circle:", "high": ":large_orange_circle:",
                  "medium": ":large_yellow_circle:", "low": ":white_circle:"}  # fmt: skip


def what_is_wrong(finding: dict) -> str:
    shared_with = escape(finding["details"].get("shared_with", ""))
    return RULE_WORDS[finding["rule"]].format(shared_with=shared_with)


def file_link(finding: dict) -> str:
    name = escape(truncate(finding["subject_name"], 150)).replace("|", "¦")
    link = finding["details"].get("link")
    return f"<{link}|{name}>" if link else f"*{name}*"


def finding_blocks(finding: dict, state_line: str | None = None) -> list[dict]:
    """One finding: what is wrong, and the buttons that deal with it (or how it ended)."""
    emoji = SEVERITY_EMOJI[finding["severity"]]
    blocks = [section(f"{emoji} {file_link(finding)} {what_is_wrong(finding)}.")]
    if state_line:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": state_line}]})
        return blocks
    fid = finding["id"]
    blocks.append(
        {
            "type": "actions",
            "block_id": f"finding_actions_{fid}",
            "elements": [
                target_button(FIX, fid, "Fix it for me", "primary"),
                target_button(EXCEPTION, fid, "Request an exception"),
                target_button(SNOOZE_1D, fid, "Snooze 1 day"),
                target_button(SNOOZE_3D, fid, "Snooze 3 days"),
            ],
        }
    )
    return blocks


def owner_dm(findings: list[dict], states: dict[int, str] | None = None) -> dict:
    """The one DM an owner gets per scan: their new findings, most severe first."""
    states = states or {}
    listed, more = findings[:MAX_LISTED], len(findings) - MAX_LISTED
    count = "a file" if len(findings) == 1 else f"{len(findings)} files"
    blocks = [
        section(
            f"Hi! I noticed {count} of yours shared more widely than our security "
            "policy allows. One click fixes each, or tell us why it needs to stay."
        )
    ]
    for finding in listed:
        blocks += finding_blocks(finding, states.get(finding["id"]))
        blocks.append({"type": "divider"})
    if more > 0:
        blocks.append(
            section(f"…and {more} more. My *Home* tab lists your open ones, most severe first.")
        )
    return {"text": f"{count.capitalize()} of yours need a sharing fix", "blocks": blocks}


def reminder_dm(finding: dict, number: int) -> dict:
    blocks = [section(f"A friendly reminder ({number}) about a file of yours:")]
    blocks += finding_blocks(finding)
    return {"text": "A file of yours still needs a sharing fix", "blocks": blocks}


def escalation(finding: dict, owner_mention: str) -> dict:
    if finding["reminders_sent"]:
        why = f"{owner_mention} has not dealt with it after {finding['reminders_sent']} reminders"
    else:
        why = f"nobody in Slack can be reminded (owner: {owner_mention})"
    text = (
        f":rotating_light: {file_link(finding)} {what_is_wrong(finding)} "
        f"({finding['severity']}): {why}."
    )
    return {"text": "A finding was escalated", "blocks": [section(text)]}


def unowned(finding_count: int, owner: str, findings: list[dict]) -> dict:
    """For the security channel: findings nobody in Slack owns, with the usual buttons."""
    who = f"the shared drive {escape(owner)}" if "@" not in owner else escape(owner)
    blocks = [
        section(f"{finding_count} new finding(s) for {who}, who has no Slack account to DM:")
    ]
    for finding in findings[:MAX_LISTED]:
        blocks += finding_blocks(finding)
        blocks.append({"type": "divider"})
    if finding_count > MAX_LISTED:
        more = finding_count - MAX_LISTED
        blocks.append(section(f"…and {more} more; `warden scan drive --dry-run` lists them all."))
    return {"text": "Findings for someone outside Slack", "blocks": blocks}


def thanks(finding: dict) -> str:
    return f":white_check_mark: Resolved, thank you! {file_link(finding)} is no longer overshared."


def exception_modal(finding: dict, max_days: int) -> dict:
    return {
        "type": "modal",
        "callback_id": EXCEPTION_MODAL,
        "private_metadata": str(finding["id"]),
        "title": {"type": "plain_text", "text": "Request an exception"},
        "submit": {"type": "plain_text", "text": "Send to security"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"{file_link(finding)} {what_is_wrong(finding)}."),
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Why does it need to stay shared?"},
                "element": {"type": "plain_text_input", "action_id": REASON_INPUT,
                            "multiline": True, "max_length": 1000},
            },
            {
                "type": "input",
                "block_id": DAYS_BLOCK,
                "label": {"type": "plain_text", "text": f"For how many days? (1–{max_days})"},
                "element": {"type": "number_input", "action_id": DAYS_INPUT,
                            "is_decimal_allowed": False, "min_value": "1",
                            "max_value": str(max_days)},
            },
        ],
    }  # fmt: skip


def exception_request(finding: dict, request: dict, requester_mention: str) -> dict:
    text = (
        f"{requester_mention} asks for an exception for {file_link(finding)}, which "
        f"{what_is_wrong(finding)}, for {request['days']} day(s):\n>{escape(request['reason'])}"
    )
    rid = request["id"]
    return {
        "text": "An exception was requested",
        "blocks": [
            section(text),
            {
                "type": "actions",
                "block_id": f"exception_{rid}",
                "elements": [
                    target_button(EXCEPTION_APPROVE, rid, "Approve", "primary"),
                    target_button(EXCEPTION_DENY, rid, "Deny", "danger"),
                ],
            },
        ],
    }


def exception_decided(finding: dict, request: dict, decision: str, analyst_mention: str) -> dict:
    text = (
        f"Exception for {file_link(finding)} ({request['days']} day(s)): *{decision}* by "
        f"{analyst_mention}.\n>{escape(request['reason'])}"
    )
    return {"text": f"Exception {decision}", "blocks": [section(text)]}
