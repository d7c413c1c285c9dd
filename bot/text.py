"""Rendering untrusted text into Slack safely."""

from __future__ import annotations

import re

# Slack's mrkdwn treats &, < and > as control characters: `<!channel>` pings
# everyone and `<https://evil|https://good>` disguises a link. Escaping these
# three is what Slack's own docs ask of apps that echo user text.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CONTROL = re.compile(r"[&<>]")


def escape(text: str) -> str:
    """Make user-supplied text display literally in mrkdwn."""
    return _CONTROL.sub(lambda m: _ESCAPES[m.group(0)], text)


def truncate(text: str, limit: int) -> str:
    """Cut text to Slack's limit for a field, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
