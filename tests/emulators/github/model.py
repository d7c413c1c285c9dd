"""Users, organizations, repositories, collaborators, invitations and issues.

No HTTP here. Every method expects the caller to hold ``lock``; the server
and the HTTP handlers take it around each operation.

Roles are GitHub's role names, weakest first: read, triage, write,
maintain, admin. The REST API takes the older names pull and push for
read and write when adding a collaborator.

Issues are numbered per repository from 1, as on GitHub (where pull
requests share the sequence; the emulator has none). Their comments live
in the world so that each has an id unique across repositories.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import GitHubError, not_found

ROLES = ("read", "triage", "write", "maintain", "admin")
PERMISSION_TO_ROLE = {
    "pull": "read", "triage": "triage", "push": "write",
    "maintain": "maintain", "admin": "admin",
}
AFFILIATIONS = ("outside", "direct", "all")
# The colour of a label GitHub creates on the fly for a new issue.
NEW_LABEL_COLOR = "ededed"


def rank(role: str | None) -> int:
    """0 for no access, 1 for read ... 5 for admin."""
    return ROLES.index(role) + 1 if role else 0


def strongest(*roles: str | None) -> str | None:
    return max(roles, key=rank, default=None)


@dataclass
class User:
    id: int
    login: str
    name: str | None = None
    email: str | None = None
    created_at: float = 0.0


@dataclass
class Org:
    id: int
    login: str
    owners: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    base_role: str | None = "read"
    created_at: float = 0.0


@dataclass
class Invitation:
    id: int
    repo_id: int
    invitee: str
    inviter: str
    role: str
    created_at: float


@dataclass
class Label:
    id: int
    name: str
    color: str = NEW_LABEL_COLOR
    description: str | None = None


@dataclass
class Issue:
    id: int
    repo_id: int
    number: int
    title: str
    body: str | None
    author: str  # lower-cased login
    created_at: float
    updated_at: float
    labels: list[str] = field(default_factory=list)  # lower-cased label names
    assignees: list[str] = field(default_factory=list)  # lower-cased logins
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    closed_by: str | None = None
    comment_ids: list[int] = field(default_factory=list)


@dataclass
class Comment:
    id: int
    repo_id: int
    issue_number: int
    author: str  # lower-cased login
    body: str
    created_at: float
    updated_at: float


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    private: bool
    created_at: float
    # Direct collaborators by lower-cased login: the role given to them.
    direct: dict[str, str] = field(default_factory=dict)
    has_issues: bool = True
    labels: dict[str, Label] = field(default_factory=dict)  # by lower-cased name
    issues: dict[int, Issue] = field(default_factory=dict)  # by number

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class World:
    """The state of one GitHub instance."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Org] = {}
        self.repos: dict[str, Repo] = {}
        self.invitations: dict[int, Invitation] = {}
        self.comments: dict[int, Comment] = {}
        self._ids = itertools.count(1001)

    # -- accounts ------------------------------------------------------------

    def add_user(self, login: str, name: str | None = None,
                 email: str | None = None) -> User:
        self._require_free_login(login)
        user = User(next(self._ids), login, name, email, self.clock())
        self.users[login.lower()] = user
        return user

    def add_org(self, login: str, owners: list[str], members: list[str],
                base_role: str | None = "read") -> Org:
        self._require_free_login(login)
        if base_role is not None and base_role not in ROLES:
            raise ValueError(f"base_role is None or one of {ROLES}")
        people = [self.require_user(who).login.lower() for who in owners + members]
        org = Org(next(self._ids), login, set(people[: len(owners)]),
                  set(people[len(owners):]), base_role, self.clock())
        self.orgs[login.lower()] = org
        return org

    def _require_free_login(self, login: str) -> None:
        if login.lower() in self.users or login.lower() in self.orgs:
            raise ValueError(f"the login {login!r} is taken")

    def user(self, login: str) -> User | None:
        return self.users.get(login.lower())

    def require_user(self, login: str) -> User:
        user = self.user(login)
        if user is None:
            raise KeyError(f"no user {login!r}; add it with add_user()")
        return user

    def org(self, login: str) -> Org | None:
        return self.orgs.get(login.lower())

    # -- repositories ----------------------------------------------------------

    def add_repo(self, full_name: str, private: bool, admins: list[str],
                 has_issues: bool = True) -> Repo:
        owner, _, name = full_name.partition("/")
        account = self.user(owner) or self.org(owner)
        if account is None or not name:
            raise ValueError(f"{full_name!r} needs an owner added first, as owner/name")
        if full_name.lower() in self.repos:
            raise ValueError(f"{full_name} exists")
        repo = Repo(next(self._ids), account.login, name, private, self.clock(),
                    has_issues=has_issues)
        for login in admins:
            repo.direct[self.require_user(login).login.lower()] = "admin"
        self.repos[full_name.lower()] = repo
        return repo

    def repo(self, full_name: str) -> Repo | None:
        return self.repos.get(full_name.lower())

    def require_repo(self, full_name: str) -> Repo:
        repo = self.repo(full_name)
        if repo is None:
            raise KeyError(f"no repository {full_name!r}; add it with add_repo()")
        return repo

    def repo_by_id(self, repo_id: int) -> Repo:
        return next(r for r in self.repos.values() if r.id == repo_id)

    def owner_org(self, repo: Repo) -> Org | None:
        return self.org(repo.owner)

    # -- access -------------------------------------------------------------------

    def role(self, repo: Repo, login: str | None) -> str | None:
        """The strongest role ``login`` holds on ``repo``, from any source."""
        if login is None:
            return None
        who = login.lower()
        org = self.owner_org(repo)
        if org is None:
            inherited = "admin" if who == repo.owner.lower() else None
        elif who in org.owners:
            inherited = "admin"
        else:
            inherited = org.base_role if who in org.members else None
        return strongest(repo.direct.get(who), inherited)

    def visible_role(self, repo: Repo, login: str | None) -> str | None:
        """The role as the viewer experiences it: anyone may read a public repo."""
        role = self.role(repo, login)
        return strongest(role, "read") if not repo.private else role

    def can_see(self, repo: Repo, login: str | None) -> bool:
        return self.visible_role(repo, login) is not None

    def seen_repo(self, full_name: str, viewer: str | None) -> Repo:
        """The repository, or GitHub's 404 when it is missing or hidden."""
        repo = self.repo(full_name)
        if repo is None or not self.can_see(repo, viewer):
            raise not_found()
        return repo

    def collaborators(self, repo: Repo, affiliation: str = "all") -> list[tuple[User, str]]:
        """Who the collaborators endpoint lists, with their roles, by user id."""
        org = self.owner_org(repo)
        if affiliation == "all":
            logins = set(repo.direct)
            if org is not None:
                logins |= org.owners
                if org.base_role is not None:
                    logins |= org.members
            else:
                logins.add(repo.owner.lower())
        elif affiliation == "direct":
            logins = set(repo.direct)
        else:
            insiders = (org.owners | org.members) if org else set()
            logins = set(repo.direct) - insiders
        people = [(self.users[who], self.role(repo, who)) for who in logins]
        ordered = sorted(people, key=lambda pair: pair[0].id)
        return [(user, role) for user, role in ordered if role is not None]

    # -- changes ------------------------------------------------------------------

    def invite(self, repo: Repo, login: str, role: str, inviter: str) -> Invitation | None:
        """Add or update ``login``; an Invitation when the invitee must accept.

        Members of the owning organization are added at once, as GitHub does;
        anyone else gets an invitation (one per person: a second PUT updates it).
        """
        who = login.lower()
        org = self.owner_org(repo)
        if who in repo.direct or (org and who in org.owners | org.members):
            repo.direct[who] = role
            return None
        for invitation in self.invitations.values():
            if invitation.repo_id == repo.id and invitation.invitee == who:
                invitation.role = role
                return invitation
        invitation = Invitation(next(self._ids), repo.id, who, inviter.lower(),
                                role, self.clock())
        self.invitations[invitation.id] = invitation
        return invitation

    def pending(self, repo: Repo) -> list[Invitation]:
        found = [i for i in self.invitations.values() if i.repo_id == repo.id]
        return sorted(found, key=lambda invitation: invitation.id)

    def accept(self, login: str, invitation_id: int) -> None:
        invitation = self.invitations.get(invitation_id)
        if invitation is None or invitation.invitee != login.lower():
            raise KeyError(f"{login} has no pending invitation {invitation_id}")
        del self.invitations[invitation_id]
        self.repo_by_id(invitation.repo_id).direct[invitation.invitee] = invitation.role

    def withdraw(self, repo: Repo, invitation_id: int) -> None:
        invitation = self.invitations.get(invitation_id)
        if invitation is None or invitation.repo_id != repo.id:
            raise GitHubError(404, "Not Found")
        del self.invitations[invitation_id]

    def remove(self, repo: Repo, login: str) -> None:
        repo.direct.pop(login.lower(), None)

    # -- issues and comments --------------------------------------------------------

    def open_issue(self, repo: Repo, author: str, title: str, body: str | None,
                   labels: list[str], assignees: list[str]) -> Issue:
        """A new open issue with the repository's next number.

        Label names that do not exist yet are created, as GitHub does when
        someone with push access names them; the caller decides who may.
        """
        now = self.clock()
        issue = Issue(next(self._ids), repo.id, len(repo.issues) + 1, title, body,
                      author.lower(), now, now,
                      labels=[self.label(repo, name).name.lower() for name in labels],
                      assignees=[login.lower() for login in assignees])
        repo.issues[issue.number] = issue
        return issue

    def label(self, repo: Repo, name: str) -> Label:
        """The repository's label called ``name`` (any case), created if missing."""
        found = repo.labels.get(name.lower())
        if found is None:
            found = repo.labels[name.lower()] = Label(next(self._ids), name)
        return found

    def issue(self, repo: Repo, number: int) -> Issue | None:
        return repo.issues.get(number)

    def comment(self, repo: Repo, issue: Issue, author: str, body: str) -> Comment:
        now = self.clock()
        comment = Comment(next(self._ids), repo.id, issue.number, author.lower(),
                          body, now, now)
        self.comments[comment.id] = comment
        issue.comment_ids.append(comment.id)
        issue.updated_at = now  # a comment counts as activity on the issue
        return comment

    def comments_on(self, issue: Issue) -> list[Comment]:
        return [self.comments[comment_id] for comment_id in issue.comment_ids]

    def close(self, issue: Issue, reason: str, actor: str) -> None:
        now = self.clock()
        issue.state, issue.state_reason = "closed", reason
        issue.closed_at, issue.closed_by, issue.updated_at = now, actor.lower(), now

    def reopen(self, issue: Issue) -> None:
        issue.state, issue.state_reason = "open", "reopened"
        issue.closed_at, issue.closed_by, issue.updated_at = None, None, self.clock()

    def edit(self, issue: Issue, text: dict[str, str | None]) -> None:
        """Replace the title and/or body (the keys present in ``text``)."""
        issue.title = text.get("title") or issue.title
        if "body" in text:
            issue.body = text["body"]
        issue.updated_at = self.clock()

    def author_association(self, repo: Repo, login: str) -> str:
        """How GitHub labels someone next to what they wrote in ``repo``.

        OWNER is the personal owner; people in the owning organization are
        MEMBER (its owners too); other direct collaborators COLLABORATOR.
        CONTRIBUTOR and FIRST_TIMER need commits, which the emulator has not.
        """
        who = login.lower()
        org = self.owner_org(repo)
        if org is None and who == repo.owner.lower():
            return "OWNER"
        if org is not None and who in org.owners | org.members:
            return "MEMBER"
        return "COLLABORATOR" if who in repo.direct else "NONE"
