"""Block Kit for the parts of Warden that belong to no single workflow."""

from __future__ import annotations

from bot import ids
from bot.text import escape, truncate

HELP_COMMANDS = [
    ("/warden help", "this overview"),
    ("/warden whoami", "what Warden knows about you"),
    ("/warden scan drive", "(analysts) scan Google Drive sharing now"),
    ("/warden stats", "(analysts) incidents, MTTD and MTTR, findings and grants"),
    ("/securityalert <what happened>", "report something suspicious to security"),
    ("/access <resource> to <who> as <role> for <time>", "ask for temporary access"),
]

HELP_SHORTCUTS = [
    ("Report to security", "on any message, from its ⋮ menu"),
    ("Request access", "from the ⚡ shortcuts menu"),
]


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}


def target_button(kind: str, target_id: int, text: str, style: str | None = None) -> dict:
    """A button acting on one finding or grant: `kind:id` keeps action ids unique in a
    message that lists several, and the value carries the id."""
    button = {
        "type": "button",
        "action_id": f"{kind}:{target_id}",
        "value": str(target_id),
        "text": {"type": "plain_text", "text": text},
    }
    return {**button, "style": style} if style else button


def help_text() -> str:
    """The plain-text fallback of the help message, for notifications."""
    return "Warden keeps our Slack, Drive and GitHub safe. Try /warden help."


def help_blocks(policy_summary: list[str]) -> list[dict]:
    commands = "\n".join(f"• `{cmd}`: {what}" for cmd, what in HELP_COMMANDS)
    shortcuts = "\n".join(f"• *{name}*: {where}" for name, where in HELP_SHORTCUTS)
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "What Warden does"}},
        section(
            "I'm the security team's assistant. I watch our Google Drive and GitHub "
            "for risky sharing and tell owners how to fix it, grant temporary access "
            "that removes itself, and take security reports from anyone."
        ),
        section(f"*Commands*\n{commands}"),
        section(f"*Shortcuts*\n{shortcuts}"),
    ]
    if policy_summary:
        lines = "\n".join(f"• {line}" for line in policy_summary)
        blocks.append(section(f"*Switched on here*\n{lines}"))
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "DM me `help` any time to see this again."}],
        }
    )
    return blocks


def did_you_mean_text(word: str, suggestion: str | None) -> str:
    shown = escape(truncate(word, 40))
    if suggestion:
        return f"I don't know `/warden {shown}`. Did you mean `/warden {suggestion}`?"
    return f"I don't know `/warden {shown}`. Try `/warden help`."


def notice_modal(title: str, text: str) -> dict:
    """A modal that only tells the person something."""
    return {
        "type": "modal",
        "callback_id": ids.VIEW_NOTICE,
        "title": {"type": "plain_text", "text": truncate(title, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [section(text)],
    }


def home_view(
    display_name: str,
    is_analyst: bool,
    sections: list[tuple[str, str]],
    extra: dict[str, list[dict]] | None = None,
) -> dict:
    """The App Home: a greeting, then one section per workflow (with its own blocks)."""
    role = "You're one of the security analysts." if is_analyst else ""
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Warden"}},
        section(f"Hi {escape(display_name)}! {role}".rstrip()),
    ]
    for title, body in sections:
        blocks += [{"type": "divider"}, section(f"*{title}*\n{body}")]
        blocks += (extra or {}).get(title, [])
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.HOME_HELP_BUTTON,
                    "text": {"type": "plain_text", "text": "What can Warden do?"},
                }
            ],
        }
    )
    return {"type": "home", "blocks": blocks}


def error_text(message: str) -> str:
    return f":warning: {message}"


def unexpected_error_text(error_id: str) -> str:
    return (
        f":warning: Something went wrong on our side (error `{error_id}`). "
        "Try again; if it keeps happening, tell "
        "the security team this id."
    )


def feature_unavailable_text(feature: str, enabled_in_policy: bool) -> str:
    if not enabled_in_policy:
        return (
            f"{feature} is switched off in this workspace's Warden policy. Ask the security team."
        )
    return (
        f"{feature} is switched on in the policy, but this version of Warden does not "
        "include it yet. Ask the security team; `/warden help` lists what works today."
    )
