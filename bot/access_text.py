"""Reading what people type to ask for access.

`/access <resource> to <grantee> as <role> for <duration> because <reason>`,
with the parts in any order, and the same words in a DM ("share <url> with
a@partner.com for 3 days"). What is understood fills a modal; what is missing
is asked there. Nothing here decides whether the request is allowed: that is
`workflows.grants`, against the policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from bot.durations import parse_duration
from workflows.indicators import DRIVE_URL

DRIVE_ROLES = ("reader", "commenter", "writer")
GITHUB_ROLES = ("pull", "triage", "push")
ROLE_WORDS = {
    "read": "reader", "view": "reader", "viewer": "reader", "reader": "reader",
    "comment": "commenter", "commenter": "commenter",
    "edit": "writer", "editor": "writer", "write": "writer", "writer": "writer",
    "pull": "pull", "triage": "triage", "push": "push",
}  # fmt: skip

# Slack wraps links and emails it recognises: <https://x|label>, <mailto:a@b|a@b>.
_SLACK_LINK = re.compile(r"<(?:mailto:)?([^>|]+)(?:\|[^>]*)?>")
_DRIVE_ID = re.compile(r"^[A-Za-z0-9_-]{25,}$")
_GITHUB_URL = re.compile(r"https?://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?$")
_REPO = re.compile(r"^[A-Za-z0-9-]{1,39}/[\w.-]{1,100}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_LOGIN = re.compile(r"^@?([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})$")
_DURATION_AFTER_FOR = re.compile(r"\bfor\s+(\d+\s*[A-Za-z]+|\S+)")
_DURATION_ALONE = re.compile(r"^\d+[smhdw]$")


@dataclass
class AccessText:
    """What was understood; None where nothing was."""

    kind: str | None = None  # "drive" or "github"
    resource: str | None = None  # a Drive file id or "owner/repo"
    grantee: str | None = None  # an email (Drive) or a GitHub login
    role: str | None = None
    duration: timedelta | None = None
    reason: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        wanted = ("resource", "grantee", "role", "duration", "reason")
        return [name for name in wanted if getattr(self, name) is None]


def parse_access(text: str) -> AccessText:
    request = AccessText()
    body, request.reason = _split_reason(_SLACK_LINK.sub(r"\1", text or "").strip())
    _read_duration(body, request)
    words = [w.strip(",.;") for w in body.split()]
    _read_keyworded(words, request)
    for word in words:
        _read_loose(word, request)
    return request


def _split_reason(text: str) -> tuple[str, str | None]:
    """Everything after "because" is the reason, whatever words it holds."""
    match = re.search(r"(?:^|\s)because\s+(.+)$", text, flags=re.IGNORECASE | re.DOTALL)
    if not match:
        return text, None
    return text[: match.start()].strip(), match.group(1).strip() or None


def _read_duration(body: str, request: AccessText) -> None:
    match = _DURATION_AFTER_FOR.search(body)
    candidate = match.group(1) if match else None
    if candidate is None:
        loose = [w for w in body.split() if _DURATION_ALONE.match(w)]
        candidate = loose[0] if loose else None
    if candidate is None:
        return
    try:
        request.duration = parse_duration(candidate)
    except ValueError as error:
        request.problems.append(f"“{candidate}”: {error}")


def _read_keyworded(words: list[str], request: AccessText) -> None:
    for keyword, following in zip(words, words[1:], strict=False):
        lowered = keyword.lower()
        if lowered in ("to", "with") and request.grantee is None:
            request.grantee = _grantee(following)
        elif lowered == "as" and request.role is None:
            request.role = ROLE_WORDS.get(following.lower())
            if request.role is None:
                request.problems.append(f"“{following}” is not a role")


def _read_loose(word: str, request: AccessText) -> None:
    if request.resource is None and _resource(word, request):
        return
    if request.grantee is None and _EMAIL.match(word):
        request.grantee = word.lower()
    elif request.role is None and word.lower() in ROLE_WORDS and word.lower() not in ("read",):
        request.role = ROLE_WORDS[word.lower()]


def _resource(word: str, request: AccessText) -> bool:
    for pattern, kind in ((DRIVE_URL, "drive"), (_GITHUB_URL, "github")):
        match = pattern.search(word)
        if match:
            request.kind, request.resource = kind, match.group(1)
            return True
    if _REPO.match(word) and "@" not in word:
        request.kind, request.resource = "github", word
        return True
    if _DRIVE_ID.match(word):
        request.kind, request.resource = "drive", word
        return True
    return False


def _grantee(word: str) -> str | None:
    if _EMAIL.match(word):
        return word.lower()
    login = _LOGIN.match(word)
    return login.group(1) if login else None
