"""GitHub's error bodies: a message, a documentation URL and the status as text.

Real examples (PyGithub's recorded responses, GitHub issues)::

    404 {"message": "Not Found", "documentation_url": "...", "status": "404"}
    403 {"message": "Must have admin rights to Repository.", ...}
    422 {"message": "Validation Failed",
         "errors": [{"resource": "Repository", "code": "custom", ...}], ...}
    410 {"message": "Issues are disabled for this repo", ...}
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
DOCS = "https://docs.github.com/rest"
COLLABORATORS_DOCS = f"{DOCS}/collaborators/collaborators"
INVITATIONS_DOCS = f"{DOCS}/collaborators/invitations"
USERS_DOCS = f"{DOCS}/users/users#get-a-user"
ISSUES_DOCS = f"{DOCS}/issues/issues"
COMMENTS_DOCS = f"{DOCS}/issues/comments"
RATE_LIMIT_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
)


class GitHubError(Exception):
    """An answer GitHub gives instead of the resource."""

    def __init__(self, status: int, message: str, docs: str = DOCS,
                 errors: list[Json] | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.docs = docs
        self.errors = errors
        self.retry_after = retry_after

    def to_json(self) -> Json:
        body: Json = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.docs
        body["status"] = str(self.status)
        return body


def not_found(docs: str = DOCS) -> GitHubError:
    # GitHub answers 404, never 403, for a private repository the token
    # cannot see, so its existence does not leak.
    return GitHubError(404, "Not Found", docs)


def bad_credentials() -> GitHubError:
    return GitHubError(401, "Bad credentials", DOCS)


def forbidden(message: str, docs: str = COLLABORATORS_DOCS) -> GitHubError:
    return GitHubError(403, message, docs)


def validation_failed(resource: str, code: str, field: str,
                      message: str | None = None,
                      docs: str = COLLABORATORS_DOCS, value: Any = None) -> GitHubError:
    error: Json = {"resource": resource, "code": code, "field": field}
    if message is not None:
        error["message"] = message
    if value is not None:
        error["value"] = value
    return GitHubError(422, "Validation Failed", docs, [error])


def issues_disabled(docs: str = ISSUES_DOCS) -> GitHubError:
    # Gone rather than Forbidden: the repository is there, its tracker is not.
    return GitHubError(410, "Issues are disabled for this repo", docs)
