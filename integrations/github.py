"""GitHub through PyGithub: collaborators, repository invitations and tickets
(issues), with retries.

Retried: 5xx, 429 and GitHub's secondary rate limits (403 with Retry-After),
and the primary limit when it resets within a minute. Everything else (404 for
a repo we cannot see, 403 without admin rights, 410 for a repo with issues
switched off, 422 for a bad request) is raised at once. PyGithub's own retry
and request pacing are switched off so that this is the one policy, and a stop
cuts its waits short.

Opening a ticket or commenting is not idempotent and GitHub takes no
idempotency key, so those retries take care not to post twice: see
`GitHub._post_once`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 60.0
# GitHub refuses issue and comment bodies longer than this (422 "body is too long").
MAX_BODY_CHARS = 65536
CUT_NOTE = "\n\n… (cut here: GitHub takes at most 65,536 characters)"
CLOSE_REASONS = ("completed", "not_planned")
# How far back to look for what an unanswered POST may have created. Generous,
# because it is compared with GitHub's clock, not ours.
LANDED_WINDOW = timedelta(minutes=10)
# How many recent issues or comments to read when looking for it.
LANDED_SCAN_LIMIT = 100

T = TypeVar("T")


@dataclass(frozen=True)
class Access:
    """What adding a collaborator created: an invitation, or direct access."""

    kind: str  # "invitation" or "collaborator"
    invitation_id: int | None = None


@dataclass(frozen=True)
class Ticket:
    """A GitHub issue Warden opened."""

    repo: str  # owner/name
    number: int
    url: str  # the issue's page (html_url)


def is_temporary(error: BaseException) -> bool:
    if isinstance(error, RateLimitExceededException):
        return _wait_asked(error) is not None
    if isinstance(error, GithubException):
        return error.status == 429 or error.status >= 500 or _retry_after(error) is not None
    return isinstance(error, ConnectionError | TimeoutError)


def is_dropped(error: BaseException) -> bool:
    """The connection failed or timed out: GitHub may or may not have the request."""
    dropped = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)
    return isinstance(error, dropped)


def is_temporary_or_dropped(error: BaseException) -> bool:
    return is_temporary(error) or is_dropped(error)


def may_have_landed(error: BaseException) -> bool:
    """GitHub may have acted although we got no answer: a 5xx or a dropped connection.

    A 429 or a rate limit is different: GitHub refused before doing anything.
    """
    if isinstance(error, GithubException):
        return error.status >= 500
    return is_dropped(error)


def fit_body(text: str) -> str:
    """``text`` cut to GitHub's limit for issue and comment bodies, saying where."""
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[: MAX_BODY_CHARS - len(CUT_NOTE)] + CUT_NOTE


def _retry_after(error: GithubException) -> float | None:
    value = (error.headers or {}).get("retry-after") or (error.headers or {}).get("Retry-After")
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _wait_asked(error: GithubException) -> float | None:
    """Seconds GitHub asked us to wait, if it asked and it is not too long."""
    asked = _retry_after(error)
    if asked is None and isinstance(error, RateLimitExceededException):
        reset = (error.headers or {}).get("x-ratelimit-reset")
        asked = float(reset) - time.time() if reset else None
    if asked is None or asked > MAX_WAIT_SECONDS:
        return None
    return max(asked, 0.0)


class _wait_github:
    def __init__(self) -> None:
        self._fallback = wait_exponential_jitter(multiplier=1, max=30)

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = _wait_asked(error) if isinstance(error, GithubException) else None
        return asked if asked is not None else self._fallback(state)


def github_retrying(stop: threading.Event | None = None, attempts: int = 5,
                    retry_on: Callable[[BaseException], bool] = is_temporary) -> Retrying:
    stop = stop or threading.Event()
    return Retrying(
        retry=retry_if_exception(retry_on),
        wait=_wait_github(),
        stop=stop_after_attempt(attempts) | (lambda state: stop.is_set()),
        sleep=stop.wait,
        before_sleep=lambda state: log.warning(
            "github.retry", extra={"attempt": state.attempt_number}
        ),
        reraise=True,
    )


class GitHub:
    def __init__(self, token: str, base_url: str | None = None, stop=None) -> None:
        options = {"base_url": base_url} if base_url else {}
        self._client = Github(
            auth=Auth.Token(token), retry=None,
            seconds_between_requests=None, seconds_between_writes=None, **options,
        )  # fmt: skip
        # Lazy objects make no request until used: a ticket call is one request.
        self._lazy = self._client.withLazy(True)
        self._stop = stop
        self._login: str | None = None
        self.requests: Counter[str] = Counter()

    def admins(self, full_name: str) -> list[str]:
        """Logins with admin rights on the repository."""
        repo = self._call("repos.get", lambda: self._client.get_repo(full_name))
        people = self._call("collaborators.list", lambda: list(repo.get_collaborators()))
        return [p.login for p in people if p.permissions and p.permissions.admin]

    def grant(self, full_name: str, login: str, permission: str) -> Access:
        """Add `login` with `permission`; GitHub invites newcomers and updates members."""
        repo = self._call("repos.get", lambda: self._client.get_repo(full_name))
        invitation = self._call(
            "collaborators.add", lambda: repo.add_to_collaborators(login, permission)
        )
        if invitation is None:
            return Access("collaborator")
        return Access("invitation", invitation.id)

    def revoke(self, full_name: str, login: str, access: Access) -> bool:
        """Remove exactly what `grant` created; False if someone already had."""
        repo = self._call("repos.get", lambda: self._client.get_repo(full_name))
        try:
            invitation = access.invitation_id
            if access.kind == "invitation" and self._still_invited(repo, invitation):
                self._call("invitations.delete", lambda: repo.remove_invitation(invitation))
                return True
            if not self._call("collaborators.check", lambda: repo.has_in_collaborators(login)):
                return False
            self._call("collaborators.remove", lambda: repo.remove_from_collaborators(login))
            return True
        except GithubException as error:
            if error.status == 404:
                return False
            raise

    def existing_access(self, full_name: str, login: str) -> Access | None:
        """The invitation or collaborator access `login` has now, if any."""
        repo = self._call("repos.get", lambda: self._client.get_repo(full_name))
        pending = self._call("invitations.list", lambda: list(repo.get_pending_invitations()))
        for invitation in pending:
            if invitation.invitee and invitation.invitee.login.lower() == login.lower():
                return Access("invitation", invitation.id)
        if self._call("collaborators.check", lambda: repo.has_in_collaborators(login)):
            return Access("collaborator")
        return None

    def has_access(self, full_name: str, login: str) -> bool:
        return self.existing_access(full_name, login) is not None

    def _still_invited(self, repo, invitation_id: int | None) -> bool:
        pending = self._call("invitations.list", lambda: list(repo.get_pending_invitations()))
        return any(invitation.id == invitation_id for invitation in pending)

    # -- tickets ---------------------------------------------------------------------

    def open_ticket(self, full_name: str, title: str, body: str,
                    labels: Sequence[str] = ()) -> Ticket:
        """Open an issue. A body over GitHub's limit is cut rather than refused.

        GitHub creates labels that do not exist yet, but keeps labels only
        when our token can push to the repository; otherwise it drops them
        without saying so.
        """
        repo = self._lazy.get_repo(full_name)
        text = fit_body(body)
        options = {"labels": list(labels)} if labels else {}

        def already_opened(since: datetime):
            recent = repo.get_issues(state="all", sort="created", direction="desc", since=since)
            return self._first_of_ours(recent, lambda issue: (
                issue.title.strip() == title.strip() and (issue.body or "") == text))

        issue = self._post_once("issues.create",
                                lambda: repo.create_issue(title, text, **options),
                                already_opened)
        return Ticket(full_name, issue.number, issue.html_url)

    def comment_on_ticket(self, full_name: str, number: int, body: str) -> int:
        """Comment on issue ``number``; returns the comment's id."""
        issue = self._lazy.get_repo(full_name).get_issue(number)
        text = fit_body(body)

        def already_posted(since: datetime):
            return self._first_of_ours(issue.get_comments(since=since),
                                       lambda comment: comment.body == text)

        comment = self._post_once("issues.comment",
                                  lambda: issue.create_comment(text), already_posted)
        return comment.id

    def close_ticket(self, full_name: str, number: int, reason: str = "completed") -> None:
        """Close issue ``number`` as completed or not_planned.

        Closing sets a state rather than adding anything, so a retry after a
        lost answer is harmless; GitHub ignores the reason of an issue that is
        already closed.
        """
        if reason not in CLOSE_REASONS:
            raise ValueError(f"reason is one of {', '.join(CLOSE_REASONS)}, not {reason!r}")
        issue = self._lazy.get_repo(full_name).get_issue(number)
        self._call("issues.close", lambda: issue.edit(state="closed", state_reason=reason),
                   retry_on=is_temporary_or_dropped)

    def _post_once(self, method: str, post: Callable[[], T],
                   find: Callable[[datetime], T | None]) -> T:
        """POST, retrying without creating the thing twice.

        GitHub takes no idempotency key. A 429 or a secondary limit means it
        refused, so sending again is safe. A 5xx or a dropped connection may
        come after it created the issue or comment, so before sending again
        we look for one of ours with the same text made since just before the
        first attempt, and adopt it. The price: when Warden posts the same
        text twice within LANDED_WINDOW and the second post goes unanswered,
        the first is taken for it. If every attempt fails the error is raised,
        and one of them may still have landed.
        """
        since = datetime.now(UTC) - LANDED_WINDOW
        unsure = False
        for attempt in github_retrying(self._stop, retry_on=is_temporary_or_dropped):
            with attempt:
                found = self._counted(f"{method}.find", lambda: find(since)) if unsure else None
                if found is not None:
                    return found
                try:
                    return self._counted(method, post)
                except Exception as error:
                    unsure = unsure or may_have_landed(error)
                    raise
        raise AssertionError("unreachable: tenacity reraises")

    def _first_of_ours(self, items: Iterable[T], same: Callable[[T], bool]) -> T | None:
        """The first of the most recent ``items`` that we wrote and ``same`` accepts."""
        me = self._viewer_login()
        for item in itertools.islice(items, LANDED_SCAN_LIMIT):
            if item.user.login.lower() == me and same(item):
                return item
        return None

    def _viewer_login(self) -> str:
        if self._login is None:
            user = self._client.get_user()
            self._login = self._counted("users.me", lambda: user.login).lower()
        return self._login

    def _counted(self, method: str, call: Callable[[], T]) -> T:
        self.requests[method] += 1
        return call()

    def _call(self, method: str, call, retry_on=is_temporary):
        for attempt in github_retrying(self._stop, retry_on=retry_on):
            with attempt:
                self.requests[method] += 1
                return call()
        raise AssertionError("unreachable: tenacity reraises")
