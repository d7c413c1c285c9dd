"""Who people are and what they may do.

The people table caches Slack profiles (email, time zone, display name) and
the GitHub logins the policy names, so workflows can address and authorize
people without asking Slack every time.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from state import Store, audit, people

log = logging.getLogger(__name__)

PROFILE_MAX_AGE = timedelta(hours=24)


class Directory(Protocol):
    def person(self, slack_user_id: str) -> dict | None: ...

    def person_by_email(self, email: str) -> dict | None: ...


class People:
    def __init__(self, store: Store, directory: Directory, policy) -> None:
        self._store = store
        self._directory = directory
        self._policy = policy

    def get(self, slack_user_id: str) -> dict | None:
        """The cached profile, refreshed from Slack when missing or a day old."""
        cached = people.get_person(self._store.db, slack_user_id)
        if cached and not people.is_stale(cached, PROFILE_MAX_AGE):
            return cached
        fresh = self._directory.person(slack_user_id)
        if fresh is None:
            return cached
        return self._save(fresh)

    def by_email(self, email: str) -> dict | None:
        """The Slack person with this email (cached a day), or None if Slack has none."""
        cached = people.find_by_email(self._store.db, email)
        if cached and not people.is_stale(cached, PROFILE_MAX_AGE):
            return cached
        fresh = self._directory.person_by_email(email)
        if fresh is None:
            return None
        return self._save(fresh)

    def is_analyst(self, slack_user_id: str) -> bool:
        """Whether the policy names this person an analyst, by id or by email."""
        if slack_user_id in self._policy.analyst_ids():
            return True
        person = self.get(slack_user_id)
        email = (person or {}).get("email")
        return bool(email) and email in self._policy.analyst_emails()

    def sync_from_policy(self) -> int:
        """Resolve analysts and GitHub logins named by email; returns how many were found."""
        found = 0
        for email in self._policy.analyst_emails():
            fresh = self._directory.person_by_email(email)
            if fresh is None:
                log.warning("people.analyst_not_in_slack", extra={"email_domain": _domain(email)})
                continue
            before = people.get_person(self._store.db, fresh["slack_user_id"])
            self._save(fresh)
            if not (before and before["is_analyst"]):
                self._audit("analyst.recognised", fresh["slack_user_id"], {"email": email})
            found += 1
        for entry in self._policy.people:
            # Known in Slack first, so a repository admin can be asked there.
            fresh = self._directory.person_by_email(entry.email)
            if fresh is not None and not people.find_by_email(self._store.db, entry.email):
                self._save(fresh, link_github=False)  # linked (and audited) just below
            with self._store.transaction() as db:
                if people.set_github_login(db, entry.email, entry.github):
                    subject, details = f"email:{entry.email}", {"github_login": entry.github}
                    audit.record(db, "warden", "person.github_linked", subject, details)
        return found

    def _audit(self, action: str, slack_user_id: str, details: dict) -> None:
        with self._store.transaction() as db:
            audit.record(db, "warden", action, f"person:{slack_user_id}", details)

    def refresh_stale(self) -> int:
        """Re-read profiles older than a day; returns how many were refreshed."""
        stale = [
            row["slack_user_id"]
            for row in self._store.db["people"].rows
            if people.is_stale(row, PROFILE_MAX_AGE)
        ]
        for slack_user_id in stale:
            fresh = self._directory.person(slack_user_id)
            if fresh:
                self._save(fresh)
        return len(stale)

    def _save(self, fresh: dict, link_github: bool = True) -> dict:
        fresh = dict(fresh)
        fresh["is_analyst"] = int(
            fresh["slack_user_id"] in self._policy.analyst_ids()
            or (fresh.get("email") or "") in self._policy.analyst_emails()
        )
        github = self._github_login(fresh.get("email")) if link_github else None
        if github:
            fresh["github_login"] = github
        with self._store.transaction() as db:
            people.upsert_person(db, **fresh)
        return people.get_person(self._store.db, fresh["slack_user_id"])

    def _github_login(self, email: str | None) -> str | None:
        for entry in self._policy.people:
            if email and entry.email.lower() == email:
                return entry.github
        return None


def _domain(email: str) -> str:
    # Log the domain only: an email address is personal data.
    return email.rpartition("@")[2]
