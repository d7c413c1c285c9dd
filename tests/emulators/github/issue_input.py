"""What the issue and comment endpoints accept, and the 422s GitHub answers.

Real answers this follows (GitHub issues and client bug reports)::

    {"resource": "Issue", "code": "custom", "field": "body",
     "message": "body is too long (maximum is 65536 characters)"}
    {"resource": "IssueComment", "code": "unprocessable", "field": "data",
     "message": "Body is too long (maximum is 65536 characters)"}
    {"resource": "Label", "code": "missing_field", "field": "name"}

An empty issue body is stored as null. ``state_reason`` is ignored unless
``state`` changes, as the REST reference says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import COMMENTS_DOCS, ISSUES_DOCS, GitHubError, validation_failed

MAX_BODY = 65536
STATES = ("open", "closed")
STATE_REASONS = ("completed", "not_planned", "reopened")
CREATE_DOCS = f"{ISSUES_DOCS}#create-an-issue"
UPDATE_DOCS = f"{ISSUES_DOCS}#update-an-issue"
LIST_DOCS = f"{ISSUES_DOCS}#list-repository-issues"
COMMENT_DOCS = f"{COMMENTS_DOCS}#create-an-issue-comment"

Json = dict[str, Any]


def title(body: Json, docs: str = CREATE_DOCS) -> str:
    """The title; GitHub also takes a number and files it as text."""
    value = body.get("title")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise validation_failed("Issue", "missing_field", "title", docs=docs)
    if not isinstance(value, str):
        raise validation_failed("Issue", "invalid", "title", docs=docs)
    return value


def issue_body(value: Any, docs: str = CREATE_DOCS) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise validation_failed("Issue", "invalid", "body", docs=docs)
    if len(value) > MAX_BODY:
        raise validation_failed("Issue", "custom", "body", docs=docs,
                                message=f"body is too long (maximum is {MAX_BODY} characters)")
    return value


def label_names(body: Json) -> list[str]:
    """Label names, given as strings or as objects with a name."""
    names = []
    for item in body.get("labels") or []:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise validation_failed("Label", "missing_field", "name", docs=CREATE_DOCS)
        names.append(name)
    return names


def assignee_logins(body: Json) -> list[str]:
    """``assignees`` plus the deprecated single ``assignee``, each once."""
    wanted = list(body.get("assignees") or [])
    if body.get("assignee"):
        wanted.append(body["assignee"])
    if not all(isinstance(login, str) for login in wanted):
        raise validation_failed("Issue", "invalid", "assignees", docs=CREATE_DOCS)
    return list(dict.fromkeys(login.lower() for login in wanted))


def text_changes(body: Json) -> dict[str, str | None]:
    """The title and body a PATCH replaces, checked."""
    changes: dict[str, str | None] = {}
    if "title" in body:
        changes["title"] = title(body, UPDATE_DOCS)
    if "body" in body:
        changes["body"] = issue_body(body["body"], UPDATE_DOCS)
    return changes


def state_change(body: Json) -> tuple[str | None, str | None]:
    """The state a PATCH asks for and its reason, both checked."""
    state, reason = body.get("state"), body.get("state_reason")
    if state is not None and state not in STATES:
        raise validation_failed("Issue", "invalid", "state", docs=UPDATE_DOCS)
    if reason is not None and reason not in STATE_REASONS:
        raise validation_failed("Issue", "invalid", "state_reason", docs=UPDATE_DOCS)
    return state, reason


def comment_body(body: Json) -> str:
    value = body.get("body")
    if not isinstance(value, str) or not value.strip():
        raise validation_failed("IssueComment", "missing_field", "body", docs=COMMENT_DOCS)
    if len(value) > MAX_BODY:
        raise validation_failed("IssueComment", "unprocessable", "data", docs=COMMENT_DOCS,
                                message=f"Body is too long (maximum is {MAX_BODY} characters)")
    return value


def since(query: Any, docs: str = LIST_DOCS) -> float:
    """``since`` (ISO 8601, e.g. 2024-05-01T12:00:00Z) as epoch seconds; 0 when absent."""
    raw = query.get("since")
    if not raw:
        return 0.0
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise validation_failed("Issue", "invalid", "since", docs=docs) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def list_state(query: Any) -> str:
    state = query.get("state", "open")
    if state not in (*STATES, "all"):
        raise validation_failed("Issue", "invalid", "state", docs=LIST_DOCS)
    return state


def issue_number(raw: str) -> int:
    """The number in an issue's path; anything else names no issue."""
    if not raw.isdigit():
        raise missing_issue()
    return int(raw)


def missing_issue() -> GitHubError:
    return GitHubError(404, "Not Found", f"{ISSUES_DOCS}#get-an-issue")
