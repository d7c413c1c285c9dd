"""GitHubEmulator: repositories, collaborators, invitations, issues and comments
over GitHub's REST API.

The real PyGithub talks to it the way it talks to GitHub Enterprise Server::

    with GitHubEmulator() as emu:
        emu.add_user("octo")
        emu.add_repo("octo/tools", admins=["octo"])
        g = Github(auth=Auth.Token(emu.token_for("octo")), base_url=emu.url)
        g.get_repo("octo/tools").add_to_collaborators("hubot", "pull")

``emu.url`` is ``http://127.0.0.1:<port>/api/v3``; objects carry absolute
URLs under it, and web pages (``html_url``) under ``http://127.0.0.1:<port>``.
It runs aiohttp on its own asyncio loop in a daemon thread. Every public
method is synchronous and thread-safe (the world has one lock).
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.emulators.loop_server import LoopServer

from .api import PREFIX, RestApi
from .limits import Faults, RateLimits
from .model import World
from .render import Renderer

Json = dict[str, Any]
TOKEN_ALPHABET = string.ascii_letters + string.digits


class GitHubEmulator(LoopServer):
    thread_name = "github-emulator"

    """A GitHub instance with users, organizations and repositories."""

    def __init__(self, *, port: int = 0, clock: Callable[[], float] = time.time,
                 rate_limit: int = 5000) -> None:
        LoopServer.__init__(self, port)
        self.world = World(clock)
        self.limits = RateLimits(clock, rate_limit)
        self.faults = Faults()
        self._tokens: dict[str, str] = {}
        self.api = RestApi(self.world, self._tokens, self.limits, self.faults,
                           lambda: Renderer(self.web_url, self.url))

    # -- lifecycle ---------------------------------------------------------

    @property
    def url(self) -> str:
        """What PyGithub takes as ``base_url`` (no trailing slash)."""
        return f"{self.web_url}{PREFIX}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def build_app(self) -> web.Application:
        app = web.Application()
        self.api.add_routes(app)
        return app

    # -- accounts and repositories -------------------------------------------------

    def add_user(self, login: str, name: str | None = None,
                 email: str | None = None) -> int:
        """A user account; returns its id."""
        with self.world.lock:
            return self.world.add_user(login, name, email).id

    def add_org(self, login: str, owners: list[str] | tuple[str, ...] = (),
                members: list[str] | tuple[str, ...] = (),
                base_permission: str | None = "read") -> int:
        """An organization of existing users; members get ``base_permission``
        (a role name: read, write, ... or None) on every repository it owns."""
        with self.world.lock:
            return self.world.add_org(login, list(owners), list(members), base_permission).id

    def add_repo(self, full_name: str, private: bool = True,
                 admins: list[str] | tuple[str, ...] = (), has_issues: bool = True) -> int:
        """A repository of an existing user or org; ``admins`` are direct admins.

        With ``has_issues=False`` its issues endpoints answer 410, as GitHub
        does when the Issues feature is switched off in the settings.
        """
        with self.world.lock:
            return self.world.add_repo(full_name, private, list(admins), has_issues).id

    def token_for(self, login: str) -> str:
        """A classic personal access token that acts as ``login``."""
        with self.world.lock:
            user = self.world.require_user(login)
            token = "ghp_" + "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(36))
            self._tokens[token] = user.login.lower()
            return token

    # -- what people do by hand on github.com ------------------------------------------

    def accept_invitation(self, login: str, invitation_id: int) -> None:
        """The invitee accepts: they become a collaborator with the invited role."""
        with self.world.lock:
            self.world.accept(login, invitation_id)

    def remove_collaborator(self, full_name: str, login: str) -> None:
        """An admin removes someone's direct access in the settings page."""
        with self.world.lock:
            self.world.remove(self.world.require_repo(full_name), login)

    def set_collaborator(self, full_name: str, login: str, role: str) -> None:
        """Give ``login`` a direct role (read ... admin) without an invitation."""
        with self.world.lock:
            repo = self.world.require_repo(full_name)
            if role not in ("read", "triage", "write", "maintain", "admin"):
                raise ValueError("role is one of read, triage, write, maintain, admin")
            repo.direct[self.world.require_user(login).login.lower()] = role

    # -- readers ---------------------------------------------------------------------

    def collaborators(self, full_name: str, affiliation: str = "all") -> dict[str, str]:
        """Login -> role name (read, triage, write, maintain, admin)."""
        with self.world.lock:
            repo = self.world.require_repo(full_name)
            return {user.login: role for user, role in
                    self.world.collaborators(repo, affiliation)}

    def invitations(self, full_name: str) -> list[Json]:
        """Pending invitations as the REST API lists them."""
        with self.world.lock:
            repo = self.world.require_repo(full_name)
            renderer = Renderer(self.web_url, self.url)
            return [renderer.invitation(self.world, i) for i in self.world.pending(repo)]

    def issues(self, full_name: str) -> list[Json]:
        """Every issue, open or closed, as the REST API renders it, by number."""
        with self.world.lock:
            repo = self.world.require_repo(full_name)
            renderer = Renderer(self.web_url, self.url)
            return [renderer.issue(self.world, repo, issue)
                    for _, issue in sorted(repo.issues.items())]

    def comments(self, full_name: str, number: int) -> list[Json]:
        """The comments on issue ``number``, oldest first, as the REST API renders them."""
        with self.world.lock:
            repo = self.world.require_repo(full_name)
            issue = self.world.issue(repo, number)
            if issue is None:
                raise KeyError(f"{full_name} has no issue #{number}")
            renderer = Renderer(self.web_url, self.url)
            return [renderer.comment(self.world, repo, c) for c in self.world.comments_on(issue)]

    def is_admin(self, full_name: str, login: str) -> bool:
        """A direct admin, the personal owner, or an owner of the owning org."""
        with self.world.lock:
            return self.world.role(self.world.require_repo(full_name), login) == "admin"

    # -- limits, faults and records ----------------------------------------------------

    def set_rate_limit(self, limit_per_hour: int) -> None:
        """Each user's primary budget in the ``core`` resource (GitHub's is 5000)."""
        self.limits.set_limit(limit_per_hour)

    def reset_rate_limits(self) -> None:
        self.limits.reset()

    def fail_next(self, method: str, path_pattern: str, status: int, times: int = 1,
                  retry_after: int | None = None, message: str | None = None,
                  after_effect: bool = False) -> None:
        """The next ``times`` matching requests fail with ``status``.

        ``path_pattern`` is a route as ``request_counts`` names it
        (``/repos/{owner}/{repo}/collaborators``) or a glob on the path
        without the /api/v3 prefix (``/repos/acme/*/invitations``); ``method``
        may be ``*``. 403 and 429 carry GitHub's secondary-limit message;
        429 also carries ``Retry-After`` (60 s unless given). With
        ``after_effect`` the request is carried out first and only its answer
        is replaced: the 5xx after which a blind retry would post twice.
        """
        self.faults.fail_next(method, path_pattern, status, times, retry_after, message,
                              after_effect)

    def request_counts(self) -> dict[str, int]:
        """``"PUT /repos/{owner}/{repo}/collaborators/{username}"`` -> requests."""
        return self.faults.counts()

    def reset_counts(self) -> None:
        self.faults.reset_counts()
