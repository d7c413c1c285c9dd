"""The REST routes, under /api/v3 as on GitHub Enterprise Server.

A middleware does what every GitHub answer shares: the token, the primary
rate limit, planned faults, the request count, the ``X-RateLimit-*``
headers and the JSON error body. Handlers only read and change the world.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from . import issue_input
from .errors import (
    COLLABORATORS_DOCS,
    INVITATIONS_DOCS,
    USERS_DOCS,
    GitHubError,
    bad_credentials,
    forbidden,
    issues_disabled,
    not_found,
    validation_failed,
)
from .limits import Faults, RateLimited, RateLimits
from .model import AFFILIATIONS, PERMISSION_TO_ROLE, Issue, Repo, User, World, rank
from .render import Renderer

PREFIX = "/api/v3"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
VIEWER: web.RequestKey[User | None] = web.RequestKey("viewer", object)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# GitHub documents this 403 but not its wording; the emulator's is its own.
EDIT_REFUSAL = "Must be the issue's author or have triage access to edit an issue."
ISSUE_ORDER: dict[str, Callable[[Issue], Any]] = {
    "created": lambda issue: issue.number,
    "updated": lambda issue: (issue.updated_at, issue.number),
    "comments": lambda issue: (len(issue.comment_ids), issue.number),
}


class RestApi:
    def __init__(self, world: World, tokens: dict[str, str], limits: RateLimits,
                 faults: Faults, renderer: Callable[[], Renderer]) -> None:
        self.world = world
        self.tokens = tokens  # token -> lower-cased login
        self.limits = limits
        self.faults = faults
        self._renderer = renderer

    @property
    def render(self) -> Renderer:
        return self._renderer()

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(self.middleware)
        repo = PREFIX + "/repos/{owner}/{repo}"
        routes = [
            ("GET", "/user", self.get_viewer),
            ("GET", "/users/{username}", self.get_user),
            ("GET", "/orgs/{org}", self.get_org),
            ("GET", "/orgs/{org}/repos", self.list_org_repos),
            ("GET", "/rate_limit", self.get_rate_limit),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, handler)
        app.router.add_get(repo, self.get_repo)
        app.router.add_get(repo + "/collaborators", self.list_collaborators)
        one = repo + "/collaborators/{username}"
        app.router.add_get(one, self.check_collaborator)
        app.router.add_put(one, self.add_collaborator)
        app.router.add_delete(one, self.remove_collaborator)
        app.router.add_get(one + "/permission", self.get_permission)
        app.router.add_get(repo + "/invitations", self.list_invitations)
        app.router.add_delete(repo + "/invitations/{invitation_id}", self.withdraw)
        self._add_issue_routes(app, repo + "/issues")

    def _add_issue_routes(self, app: web.Application, issues: str) -> None:
        app.router.add_get(issues, self.list_issues)
        app.router.add_post(issues, self.open_issue)
        one = issues + "/{issue_number}"
        app.router.add_get(one, self.get_issue)
        app.router.add_patch(one, self.update_issue)
        app.router.add_get(one + "/comments", self.list_comments)
        app.router.add_post(one + "/comments", self.add_comment)

    # -- what every answer shares ------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = secrets.token_hex(8).upper()
        route = _route_of(request)
        self.faults.count(f"{request.method} {route}")
        budget = None
        try:
            viewer = self._viewer(request)
            request[VIEWER] = viewer
            user_id = viewer.id if viewer else None
            if route != "/rate_limit":
                budget = self.limits.spend(user_id, request_id)
            fault = self.faults.take(request.method, route, _api_path(request))
            if fault is not None and not fault.after_effect:
                raise fault.error(request_id)
            response = await handler(request)
            if fault is not None:
                raise fault.error(request_id)  # it took effect; the answer is lost
        except RateLimited as error:
            budget = error.budget
            response = _error_response(error)
        except GitHubError as error:
            response = _error_response(error)
        except web.HTTPMethodNotAllowed:
            response = _error_response(GitHubError(404, "Not Found"))
        except web.HTTPNotFound:
            response = _error_response(not_found())
        if budget is None:
            budget = self.limits.peek(None)
        response.headers.update(budget.headers())
        response.headers["X-GitHub-Request-Id"] = request_id
        response.headers["X-GitHub-Media-Type"] = "github.v3; format=json"
        return response

    def _viewer(self, request: web.Request) -> User | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        login = self.tokens.get(token.strip()) if scheme.lower() in ("token", "bearer") else None
        with self.world.lock:
            user = self.world.user(login) if login else None
        if user is None:
            self.limits.spend(None, "")
            raise bad_credentials()
        return user

    # -- accounts ----------------------------------------------------------------

    async def get_viewer(self, request: web.Request) -> web.Response:
        viewer = _signed_in(request)
        with self.world.lock:
            return _json(self.render.user(viewer))

    async def get_user(self, request: web.Request) -> web.Response:
        with self.world.lock:
            user = self.world.user(request.match_info["username"])
            if user is None:
                raise not_found(USERS_DOCS)
            return _json(self.render.user(user))

    async def get_org(self, request: web.Request) -> web.Response:
        with self.world.lock:
            org = self.world.org(request.match_info["org"])
            if org is None:
                raise not_found()
            return _json(self.render.org(org))

    async def list_org_repos(self, request: web.Request) -> web.Response:
        viewer = _login(request)
        with self.world.lock:
            org = self.world.org(request.match_info["org"])
            if org is None:
                raise not_found()
            repos = [r for r in self.world.repos.values()
                     if r.owner == org.login and self.world.can_see(r, viewer)]
            items = [self.render.repo(self.world, r, viewer)
                     for r in sorted(repos, key=lambda r: r.id)]
        return self._page(request, items)

    async def get_rate_limit(self, request: web.Request) -> web.Response:
        viewer = request[VIEWER]
        budget = self.limits.peek(viewer.id if viewer else None)
        core = {"limit": budget.limit, "used": budget.used,
                "remaining": max(budget.limit - budget.used, 0), "reset": budget.reset}
        return _json({"resources": {"core": core}, "rate": core})

    # -- repositories and collaborators -----------------------------------------------

    def _repo(self, request: web.Request, need: str | None = None,
              refusal: str = "") -> Repo:
        """The repository, 404 if the viewer cannot see it, 403 below ``need``."""
        full_name = f"{request.match_info['owner']}/{request.match_info['repo']}"
        repo = self.world.seen_repo(full_name, _login(request))
        if need and rank(self.world.role(repo, _login(request))) < rank(need):
            raise forbidden(refusal)
        return repo

    async def get_repo(self, request: web.Request) -> web.Response:
        with self.world.lock:
            repo = self._repo(request)
            return _json(self.render.repo(self.world, repo, _login(request)))

    async def list_collaborators(self, request: web.Request) -> web.Response:
        affiliation = request.query.get("affiliation", "all")
        with self.world.lock:
            repo = self._repo(request, "write",
                              "Must have push access to view repository collaborators.")
            if affiliation not in AFFILIATIONS:
                raise validation_failed("Repository", "invalid", "affiliation")
            people = self.world.collaborators(repo, affiliation)
            items = [self.render.collaborator(user, role) for user, role in people]
        return self._page(request, items)

    async def check_collaborator(self, request: web.Request) -> web.Response:
        with self.world.lock:
            repo = self._repo(request, "write",
                              "Must have push access to view repository collaborators.")
            if self.world.role(repo, request.match_info["username"]) is None:
                raise not_found(COLLABORATORS_DOCS)
        return web.Response(status=204)

    async def get_permission(self, request: web.Request) -> web.Response:
        with self.world.lock:
            repo = self._repo(request, "write",
                              "Must have push access to view collaborator permission.")
            user = self.world.user(request.match_info["username"])
            if user is None:
                raise not_found(COLLABORATORS_DOCS)
            role = self.world.visible_role(repo, user.login)
            return _json(self.render.permission(user, role))

    async def add_collaborator(self, request: web.Request) -> web.Response:
        body = await _body(request)
        permission = body.get("permission", "push")
        with self.world.lock:
            repo = self._repo(request, "admin", "Must have admin rights to Repository.")
            role = PERMISSION_TO_ROLE.get(permission) if isinstance(permission, str) else None
            if role is None:
                raise validation_failed("Repository", "invalid", "permission")
            invitee = self.world.user(request.match_info["username"])
            if invitee is None:
                raise validation_failed("Repository", "invalid", "invitee")
            if self.world.owner_org(repo) is None:
                role = "write"  # a personal repository has one collaborator role
            invitation = self.world.invite(repo, invitee.login, role, _login(request) or "")
            if invitation is None:
                return web.Response(status=204)
            answer = self.render.invitation(self.world, invitation)
        response = _json(answer, status=201)
        response.headers["Location"] = answer["url"]
        return response

    async def remove_collaborator(self, request: web.Request) -> web.Response:
        with self.world.lock:
            login = request.match_info["username"]
            leaving = login.lower() == (_login(request) or "").lower()
            repo = self._repo(request, None if leaving else "admin",
                              "Must have admin rights to Repository.")
            self.world.remove(repo, login)
        return web.Response(status=204)

    async def list_invitations(self, request: web.Request) -> web.Response:
        with self.world.lock:
            repo = self._repo(request, "admin", "Must have admin rights to Repository.")
            items = [self.render.invitation(self.world, i) for i in self.world.pending(repo)]
        return self._page(request, items)

    async def withdraw(self, request: web.Request) -> web.Response:
        with self.world.lock:
            repo = self._repo(request, "admin", "Must have admin rights to Repository.")
            raw = request.match_info["invitation_id"]
            if not raw.isdigit():
                raise not_found(INVITATIONS_DOCS)
            self.world.withdraw(repo, int(raw))
        return web.Response(status=204)

    # -- issues and comments ---------------------------------------------------------

    def _tracker(self, request: web.Request) -> Repo:
        """The repository of an issues endpoint: 404 if unseen, 410 if issues are off."""
        repo = self._repo(request)
        if not repo.has_issues:
            raise issues_disabled()
        return repo

    def _issue(self, request: web.Request, repo: Repo) -> Issue:
        number = issue_input.issue_number(request.match_info["issue_number"])
        issue = self.world.issue(repo, number)
        if issue is None:
            raise issue_input.missing_issue()
        return issue

    def _can_push(self, repo: Repo, login: str) -> bool:
        return rank(self.world.role(repo, login)) >= rank("write")

    async def list_issues(self, request: web.Request) -> web.Response:
        query = request.query
        state, since = issue_input.list_state(query), issue_input.since(query)
        creator = query.get("creator", "").lower()
        labels = {name.strip().lower() for name in query.get("labels", "").split(",") if name}
        order = ISSUE_ORDER.get(query.get("sort", "created"), ISSUE_ORDER["created"])
        with self.world.lock:
            repo = self._tracker(request)
            found = [i for i in repo.issues.values()
                     if state in ("all", i.state) and i.updated_at >= since
                     and creator in ("", i.author) and labels <= set(i.labels)]
            found.sort(key=order, reverse=query.get("direction") != "asc")
            items = [self.render.issue(self.world, repo, issue) for issue in found]
        return self._page(request, items)

    async def open_issue(self, request: web.Request) -> web.Response:
        """Anyone who can read the repository may open an issue; only people with
        push access may label or assign it, and GitHub drops both silently for
        everyone else."""
        author = _signed_in(request)
        body = await _body(request)
        with self.world.lock:
            repo = self._tracker(request)
            title = issue_input.title(body)
            text = issue_input.issue_body(body.get("body"))
            labels, assignees = [], []
            if self._can_push(repo, author.login):
                labels = issue_input.label_names(body)
                assignees = self._assignable(repo, issue_input.assignee_logins(body))
            issue = self.world.open_issue(repo, author.login, title, text, labels, assignees)
            answer = self.render.issue(self.world, repo, issue)
        return _created(answer)

    def _assignable(self, repo: Repo, logins: list[str]) -> list[str]:
        for login in logins:
            if self.world.user(login) is None or self.world.role(repo, login) is None:
                raise validation_failed("Issue", "invalid", "assignees", value=login,
                                        docs=issue_input.CREATE_DOCS)
        return logins

    async def get_issue(self, request: web.Request) -> web.Response:
        with self.world.lock:
            repo = self._tracker(request)
            issue = self._issue(request, repo)
            return _json(self.render.issue(self.world, repo, issue))

    async def update_issue(self, request: web.Request) -> web.Response:
        """The author, or anyone with triage access or more, may edit and close."""
        editor = _signed_in(request)
        body = await _body(request)
        with self.world.lock:
            repo = self._tracker(request)
            issue = self._issue(request, repo)
            is_author = issue.author == editor.login.lower()
            if not is_author and rank(self.world.role(repo, editor.login)) < rank("triage"):
                raise forbidden(EDIT_REFUSAL, issue_input.UPDATE_DOCS)
            text = issue_input.text_changes(body)
            state, reason = issue_input.state_change(body)
            if text:
                self.world.edit(issue, text)
            self._move(issue, state, reason, editor.login)
            return _json(self.render.issue(self.world, repo, issue))

    def _move(self, issue: Issue, state: str | None, reason: str | None, actor: str) -> None:
        if state is None or state == issue.state:
            return  # state_reason alone changes nothing
        if state == "closed":
            self.world.close(issue, reason or "completed", actor)
        else:
            self.world.reopen(issue)

    async def list_comments(self, request: web.Request) -> web.Response:
        since = issue_input.since(request.query, issue_input.COMMENT_DOCS)
        with self.world.lock:
            repo = self._tracker(request)
            issue = self._issue(request, repo)
            items = [self.render.comment(self.world, repo, comment)
                     for comment in self.world.comments_on(issue)
                     if comment.updated_at >= since]
        return self._page(request, items)

    async def add_comment(self, request: web.Request) -> web.Response:
        """Anyone who can read the repository may comment."""
        author = _signed_in(request)
        body = await _body(request)
        with self.world.lock:
            repo = self._tracker(request)
            issue = self._issue(request, repo)
            text = issue_input.comment_body(body)
            comment = self.world.comment(repo, issue, author.login, text)
            answer = self.render.comment(self.world, repo, comment)
        return _created(answer)

    # -- pagination -----------------------------------------------------------------

    def _page(self, request: web.Request, items: list[Any]) -> web.Response:
        """One page of ``items`` with GitHub's Link header (first/prev/next/last)."""
        per_page = min(_positive(request.query.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
        page = _positive(request.query.get("page"), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        response = _json(items[(page - 1) * per_page: page * per_page])
        links = []
        if page < last:
            links += [(page + 1, "next"), (last, "last")]
        if page > 1:
            links = [(1, "first"), (min(page - 1, last), "prev")] + links
        if links:
            response.headers["Link"] = ", ".join(
                f'<{self._page_url(request, number)}>; rel="{rel}"' for number, rel in links
            )
        return response

    def _page_url(self, request: web.Request, number: int) -> str:
        query = dict(request.query)
        query["page"] = str(number)
        return f"{self.render.api}{_api_path(request)}?{urlencode(query)}"


def _route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else request.path
    return template.removeprefix(PREFIX) or "/"


def _api_path(request: web.Request) -> str:
    return request.path.removeprefix(PREFIX) or "/"


def _login(request: web.Request) -> str | None:
    viewer = request.get(VIEWER)
    return viewer.login if viewer else None


def _signed_in(request: web.Request) -> User:
    viewer = request.get(VIEWER)
    if viewer is None:
        raise GitHubError(401, "Requires authentication")
    return viewer


def _positive(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else default


async def _body(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        raise GitHubError(400, "Problems parsing JSON") from None
    if not isinstance(body, dict):
        raise GitHubError(400, "Problems parsing JSON")
    return body


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body),
                        content_type="application/json", charset="utf-8")


def _created(body: dict[str, Any]) -> web.Response:
    """201 with the new resource and, as GitHub sends, its API URL in Location."""
    response = _json(body, status=201)
    response.headers["Location"] = body["url"]
    return response


def _error_response(error: GitHubError) -> web.Response:
    response = _json(error.to_json(), status=error.status)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response
