"""The JSON GitHub sends for users, orgs, repositories, invitations and issues.

URLs are absolute and built the way GitHub Enterprise builds them: the API
lives under ``<host>/api/v3`` and the web pages at ``<host>/...``, so
``url`` is ``<host>/api/v3/repos/o/r`` and ``html_url`` is ``<host>/o/r``.
PyGithub follows those URLs as they are, so they must point back here.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .model import ROLES, Comment, Invitation, Issue, Label, Org, Repo, User, World, rank

Json = dict[str, Any]
# The older single-word permission the /permission endpoint still reports.
LEGACY_PERMISSION = {
    "read": "read", "triage": "read", "write": "write",
    "maintain": "write", "admin": "admin",
}
REACTIONS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")


def timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


class Renderer:
    def __init__(self, web: str, api: str) -> None:
        self.web = web.rstrip("/")
        self.api = api.rstrip("/")

    def account(self, login: str, number: int, kind: str) -> Json:
        api = f"{self.api}/users/{login}"
        return {
            "login": login, "id": number, "node_id": node_id(kind, number),
            "avatar_url": f"{self.web}/avatars/u/{number}?v=4", "gravatar_id": "",
            "url": api, "html_url": f"{self.web}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "organizations_url": f"{api}/orgs", "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": kind, "site_admin": False,
        }

    def simple_user(self, user: User) -> Json:
        return self.account(user.login, user.id, "User")

    def user(self, user: User) -> Json:
        body = self.simple_user(user)
        body.update({
            "name": user.name, "company": None, "blog": "", "location": None,
            "email": user.email, "hireable": None, "bio": None,
            "twitter_username": None, "public_repos": 0, "public_gists": 0,
            "followers": 0, "following": 0,
            "created_at": timestamp(user.created_at),
            "updated_at": timestamp(user.created_at),
        })
        return body

    def org_owner(self, org: Org) -> Json:
        return self.account(org.login, org.id, "Organization")

    def org(self, org: Org) -> Json:
        api = f"{self.api}/orgs/{org.login}"
        return {
            "login": org.login, "id": org.id,
            "node_id": node_id("Organization", org.id), "url": api,
            "repos_url": f"{api}/repos", "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks", "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"{self.web}/avatars/u/{org.id}?v=4",
            "description": None, "html_url": f"{self.web}/{org.login}",
            "type": "Organization",
            "default_repository_permission": org.base_role or "none",
            "created_at": timestamp(org.created_at),
            "updated_at": timestamp(org.created_at),
        }

    def owner_of(self, world: World, repo: Repo) -> Json:
        org = world.owner_org(repo)
        if org is not None:
            return self.org_owner(org)
        return self.simple_user(world.require_user(repo.owner))

    def repo(self, world: World, repo: Repo, viewer: str | None) -> Json:
        api = f"{self.api}/repos/{repo.full_name}"
        body = {
            "id": repo.id, "node_id": node_id("Repository", repo.id),
            "name": repo.name, "full_name": repo.full_name,
            "private": repo.private, "owner": self.owner_of(world, repo),
            "html_url": f"{self.web}/{repo.full_name}", "description": None,
            "fork": False, "url": api,
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams", "hooks_url": f"{api}/hooks",
            "branches_url": f"{api}/branches{{/branch}}",
            "visibility": "private" if repo.private else "public",
            "default_branch": "main", "archived": False, "disabled": False,
            "has_issues": repo.has_issues,
            "open_issues_count": sum(i.state == "open" for i in repo.issues.values()),
            "created_at": timestamp(repo.created_at),
            "updated_at": timestamp(repo.created_at),
            "pushed_at": timestamp(repo.created_at),
        }
        role = world.visible_role(repo, viewer)
        if viewer is not None and role is not None:
            body["permissions"] = permissions(role)
        return body

    def collaborator(self, user: User, role: str) -> Json:
        body = self.simple_user(user)
        body["permissions"] = permissions(role)
        body["role_name"] = role
        return body

    def permission(self, user: User, role: str | None) -> Json:
        """GET .../collaborators/{username}/permission."""
        return {
            "permission": LEGACY_PERMISSION.get(role or "", "none"),
            "role_name": role or "none",
            "user": self.collaborator(user, role) if role else self.simple_user(user),
        }

    def invitation(self, world: World, invitation: Invitation) -> Json:
        repo = world.repo_by_id(invitation.repo_id)
        return {
            "id": invitation.id,
            "node_id": node_id("RepositoryInvitation", invitation.id),
            "repository": self.repo(world, repo, None),
            "invitee": self.simple_user(world.require_user(invitation.invitee)),
            "inviter": self.simple_user(world.require_user(invitation.inviter)),
            "permissions": invitation.role,
            "created_at": timestamp(invitation.created_at), "expired": False,
            "url": f"{self.api}/user/repository_invitations/{invitation.id}",
            "html_url": f"{self.web}/{repo.full_name}/invitations",
        }

    # -- issues ---------------------------------------------------------------------

    def label(self, repo: Repo, label: Label) -> Json:
        return {
            "id": label.id, "node_id": node_id("Label", label.id),
            "url": f"{self.api}/repos/{repo.full_name}/labels/{quote(label.name)}",
            "name": label.name, "description": label.description,
            "color": label.color, "default": False,
        }

    def issue(self, world: World, repo: Repo, issue: Issue) -> Json:
        api = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        people = [self.simple_user(world.require_user(who)) for who in issue.assignees]
        closer = world.require_user(issue.closed_by) if issue.closed_by else None
        return {
            "id": issue.id, "node_id": node_id("Issue", issue.id), "url": api,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "labels_url": f"{api}/labels{{/name}}", "comments_url": f"{api}/comments",
            "events_url": f"{api}/events", "timeline_url": f"{api}/timeline",
            "html_url": f"{self.web}/{repo.full_name}/issues/{issue.number}",
            "number": issue.number, "state": issue.state,
            "state_reason": issue.state_reason, "title": issue.title, "body": issue.body,
            "user": self.simple_user(world.require_user(issue.author)),
            "labels": [self.label(repo, repo.labels[name]) for name in issue.labels],
            "assignee": people[0] if people else None, "assignees": people,
            "milestone": None, "locked": False, "active_lock_reason": None,
            "comments": len(issue.comment_ids),
            "closed_at": timestamp(issue.closed_at) if issue.closed_at else None,
            "created_at": timestamp(issue.created_at),
            "updated_at": timestamp(issue.updated_at),
            "closed_by": self.simple_user(closer) if closer else None,
            "author_association": world.author_association(repo, issue.author),
            "performed_via_github_app": None, "reactions": self.reactions(api),
        }

    def comment(self, world: World, repo: Repo, comment: Comment) -> Json:
        api = f"{self.api}/repos/{repo.full_name}/issues"
        page = f"{self.web}/{repo.full_name}/issues/{comment.issue_number}"
        return {
            "id": comment.id, "node_id": node_id("IssueComment", comment.id),
            "url": f"{api}/comments/{comment.id}",
            "html_url": f"{page}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.simple_user(world.require_user(comment.author)),
            "created_at": timestamp(comment.created_at),
            "updated_at": timestamp(comment.updated_at),
            "issue_url": f"{api}/{comment.issue_number}",
            "author_association": world.author_association(repo, comment.author),
            "performed_via_github_app": None,
            "reactions": self.reactions(f"{api}/comments/{comment.id}"),
        }

    def reactions(self, subject_url: str) -> Json:
        """The reaction roll-up; nobody reacts in the emulator."""
        counts = dict.fromkeys(REACTIONS, 0)
        return {"url": f"{subject_url}/reactions", "total_count": 0, **counts}


def permissions(role: str) -> Json:
    level = rank(role)
    names = ("pull", "triage", "push", "maintain", "admin")
    return {name: level >= ROLES.index(r) + 1 for name, r in zip(names, ROLES, strict=True)}
