"""GitHub through PyGithub: collaborators and repository invitations, with retries.

Retried: 5xx, 429 and GitHub's secondary rate limits (403 with Retry-After),
and the primary limit when it resets within a minute. Everything else (404 for
a repo we cannot see, 403 without admin rights, 422 for a bad request) is
raised at once. PyGithub's own retry and request pacing are switched off so
that this is the one policy, and a stop cuts its waits short.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Access:
    """What adding a collaborator created: an invitation, or direct access."""

    kind: str  # "invitation" or "collaborator"
    invitation_id: int | None = None


def is_temporary(error: BaseException) -> bool:
    if isinstance(error, RateLimitExceededException):
        return _wait_asked(error) is not None
    if isinstance(error, GithubException):
        return error.status == 429 or error.status >= 500 or _retry_after(error) is not None
    return isinstance(error, ConnectionError | TimeoutError)


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


def github_retrying(stop: threading.Event | None = None, attempts: int = 5) -> Retrying:
    stop = stop or threading.Event()
    return Retrying(
        retry=retry_if_exception(is_temporary),
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
        self._stop = stop
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

    def _call(self, method: str, call):
        for attempt in github_retrying(self._stop):
            with attempt:
                self.requests[method] += 1
                return call()
        raise AssertionError("unreachable: tenacity reraises")
