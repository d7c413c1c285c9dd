"""Grants applied for real: the workflow with the Drive and GitHub appliers, against the
Google and GitHub emulators."""

import json
from datetime import timedelta

import pytest

from bot.policy import parse_policy
from integrations.github import GitHub
from integrations.google import DIRECTORY_SCOPE, DRIVE_SCOPE, GoogleWorkspace
from state import Store
from tests.emulators.github import GitHubEmulator
from tests.emulators.google import GoogleEmulator
from workflows.grant_appliers import AlreadyHasAccess, DriveApplier, GitHubApplier
from workflows.grants import GrantsWorkflow, Request

POLICY = parse_policy(
    'company: {name: Example, domains: [example.com]}\nsecurity_channel: "#security"\n'
    "analysts: [U0SAM]\ngrants: {enabled: true}\n"
).grants
ALICE, BOB = "alice@example.com", "bob@example.com"


class Silent:
    def __getattr__(self, name):
        return lambda *args: None


class Approvers:
    SLACK_IDS = {ALICE: "U_ALICE", "dana": "U_DANA"}

    def slack_ids_for(self, kind, owners):
        return [self.SLACK_IDS[owner] for owner in owners if owner in self.SLACK_IDS]

    def analysts(self):
        return ["U_SAM"]


@pytest.fixture
def google():
    with GoogleEmulator() as emulator:
        for email in ("admin@example.com", ALICE, BOB):
            emulator.add_user(email, admin=email.startswith("admin"))
        yield emulator


@pytest.fixture
def github():
    with GitHubEmulator() as emulator:
        for login in ("warden-bot", "dana", "octocat"):
            emulator.add_user(login)
        emulator.add_org("acme", owners=["warden-bot"])
        emulator.add_repo("acme/payments", private=True, admins=["dana"])
        yield emulator


@pytest.fixture
def grants(tmp_path, google, github):
    info = google.service_account_info()
    google.grant_delegation(info["client_id"], [DRIVE_SCOPE, DIRECTORY_SCOPE])
    appliers = {
        "drive": DriveApplier(GoogleWorkspace(info, "admin@example.com", google.url)),
        "github": GitHubApplier(GitHub(github.token_for("warden-bot"), github.url)),
    }
    store = Store(tmp_path / "w.db")
    return GrantsWorkflow(store, POLICY, ["example.com"], appliers, Silent(), Approvers())


def drive_request(file_id: str) -> Request:
    return Request("drive", file_id, "auditor@partner.com", "reader", timedelta(days=3),
                   "SOC 2 evidence", "U_BOB", BOB)  # fmt: skip


def test_drive_share_is_made_by_the_owner_and_removed_exactly(grants, google):
    """Bob asks, Alice (the owner) approves: the auditor can read; revoking removes only that."""
    plan = google.add_file(ALICE, "Launch plan")
    google.share(plan, "user", "reader", email=BOB)
    google.share(plan, "user", "writer", email="carol@partner.com")

    grant = grants.submit(drive_request(plan))
    assert grant["resource_name"] == "Launch plan"
    grant = grants.decide(grant["id"], "U_ALICE", approve=True)

    emails = {p.get("emailAddress") for p in google.permissions(plan)}
    assert "auditor@partner.com" in emails
    grants.revoke(grant["id"], "warden", "expired")
    emails = {p.get("emailAddress") for p in google.permissions(plan)}
    assert "auditor@partner.com" not in emails and "carol@partner.com" in emails


def test_access_the_grantee_already_had_is_never_taken_over(grants, google):
    """The auditor already reads the file: the grant fails rather than own that access."""
    plan = google.add_file(ALICE, "Launch plan")
    google.share(plan, "user", "reader", email=BOB)
    google.share(plan, "user", "reader", email="auditor@partner.com")
    grant = grants.submit(drive_request(plan))

    with pytest.raises(AlreadyHasAccess):
        grants.decide(grant["id"], "U_ALICE", approve=True)

    assert grants.get(grant["id"])["status"] == "failed"
    assert "auditor@partner.com" in {p.get("emailAddress") for p in google.permissions(plan)}


def test_github_invitation_is_withdrawn_if_never_accepted(grants, github):
    """A repo admin approves; octocat is invited; at expiry the pending invitation goes."""
    request = Request("github", "acme/payments", "octocat", "pull", timedelta(days=1),
                      "pairing on the fix", "U_BOB")  # fmt: skip
    grant = grants.decide(grants.submit(request)["id"], "U_DANA", approve=True)
    assert json.loads(grant["created_ref"])["kind"] == "invitation"
    assert github.invitations("acme/payments")

    ended = grants.revoke(grant["id"], "warden", "expired")

    assert ended["revoke_outcome"] == "expired; removed"
    assert github.invitations("acme/payments") == []


def test_github_collaborator_who_accepted_is_removed(grants, github):
    """octocat accepted the invitation: at expiry the collaborator is removed."""
    request = Request("github", "acme/payments", "octocat", "push", timedelta(days=1),
                      "release help", "U_BOB")  # fmt: skip
    grant = grants.decide(grants.submit(request)["id"], "U_DANA", approve=True)
    invitation = json.loads(grant["created_ref"])["invitation_id"]
    github.accept_invitation("octocat", invitation)

    grants.revoke(grant["id"], "warden", "expired")

    assert "octocat" not in github.collaborators("acme/payments")


def test_an_interrupted_github_grant_is_adopted_on_start(grants, github):
    """The invitation went out, then the process died before recording it: no second one."""
    request = Request("github", "acme/payments", "octocat", "pull", timedelta(days=1),
                      "pairing on the fix", "U_BOB")  # fmt: skip
    grant = grants.submit(request)
    with grants._store.transaction() as db:
        db.execute("UPDATE grants SET status = 'approved' WHERE id = ?", [grant["id"]])
    GitHub(github.token_for("warden-bot"), github.url).grant("acme/payments", "octocat", "pull")

    grants.settle_interrupted()

    assert len(github.invitations("acme/payments")) == 1
    assert grants.get(grant["id"])["status"] == "active"
