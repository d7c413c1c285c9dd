"""Assembles temporary access from settings and policy."""

from __future__ import annotations

import threading

from bot.drive import google_workspace
from bot.grants_notifier import SlackGrantNotifier
from bot.policy import Policy
from bot.settings import Settings
from integrations.github import GitHub
from state import Store
from workflows.grant_appliers import DriveApplier, GitHubApplier
from workflows.grants import GrantsWorkflow
from workflows.people import People


class PeopleApprovers:
    """Maps resource owners (Drive emails, GitHub logins) to Slack ids."""

    def __init__(self, people: People, store: Store, policy: Policy) -> None:
        self._people = people
        self._store = store
        self._policy = policy

    def slack_ids_for(self, kind: str, owners: list[str]) -> list[str]:
        if kind == "drive":
            found = [self._people.by_email(email) for email in owners]
            return [person["slack_user_id"] for person in found if person]
        rows = self._store.db.execute(
            f"SELECT slack_user_id FROM people WHERE lower(github_login) IN "
            f"({', '.join('?' * len(owners))})",
            [login.lower() for login in owners],
        ).fetchall()
        return [row[0] for row in rows]

    def analysts(self) -> list[str]:
        ids = set(self._policy.analyst_ids())
        rows = self._store.db.execute("SELECT slack_user_id FROM people WHERE is_analyst = 1")
        return sorted(ids | {row[0] for row in rows})


def grants_workflow(
    settings: Settings, policy: Policy, store: Store, people: People, stop: threading.Event
) -> GrantsWorkflow | None:
    """None when temporary access is switched off in the policy."""
    if not policy.grants.enabled:
        return None
    appliers = {}
    if settings.google_ready() is None:
        appliers["drive"] = DriveApplier(google_workspace(settings, stop))
    if settings.github_token:
        github = GitHub(settings.github_token.reveal(), settings.github_api_url, stop)
        appliers["github"] = GitHubApplier(github)
    return GrantsWorkflow(
        store, policy.grants, list(policy.company.domains), appliers,
        SlackGrantNotifier(), PeopleApprovers(people, store, policy),
    )  # fmt: skip
