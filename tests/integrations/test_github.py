"""The GitHub client, through real PyGithub against the GitHub emulator."""

import pytest
from github import GithubException

from integrations.github import GitHub
from tests.emulators.github import GitHubEmulator

REPO = "acme/payments"


@pytest.fixture
def emu():
    with GitHubEmulator() as emulator:
        for login in ("warden-bot", "dana", "octocat", "mallory"):
            emulator.add_user(login)
        emulator.add_org("acme", owners=["warden-bot"])
        emulator.add_repo(REPO, private=True, admins=["dana"])
        yield emulator


def client(emu, login="warden-bot") -> GitHub:
    return GitHub(emu.token_for(login), emu.url)


def test_repo_admins_are_listed(emu):
    """The approvers of a GitHub request: the repository's admins."""
    assert "dana" in client(emu).admins(REPO)


def test_a_newcomer_is_invited_and_the_invitation_can_be_withdrawn(emu):
    """Granting to an outsider creates an invitation; revoking withdraws exactly it."""
    access = client(emu).grant(REPO, "octocat", "pull")

    assert access.kind == "invitation"
    assert [i["id"] for i in emu.invitations(REPO)] == [access.invitation_id]

    assert client(emu).revoke(REPO, "octocat", access) is True
    assert emu.invitations(REPO) == []


def test_an_accepted_invitation_is_revoked_by_removing_the_collaborator(emu):
    """Once octocat accepted, revoking removes the collaborator."""
    access = client(emu).grant(REPO, "octocat", "push")
    emu.accept_invitation("octocat", access.invitation_id)

    assert client(emu).revoke(REPO, "octocat", access) is True

    assert "octocat" not in emu.collaborators(REPO)


def test_access_someone_already_removed_is_reported_not_raised(emu):
    """If a person removed the access by hand, revoking says so and does not fail."""
    access = client(emu).grant(REPO, "octocat", "pull")
    emu.accept_invitation("octocat", access.invitation_id)
    emu.remove_collaborator(REPO, "octocat")

    assert client(emu).revoke(REPO, "octocat", access) is False


def test_rate_limits_are_waited_out(emu):
    """A secondary rate limit (429 with Retry-After) is retried once it has passed."""
    emu.fail_next("PUT", "/repos/{owner}/{repo}/collaborators/{username}", 429, retry_after=1)

    access = client(emu).grant(REPO, "octocat", "pull")

    assert access.kind == "invitation"


def test_without_admin_rights_the_refusal_is_raised(emu):
    """A token without admin rights gets GitHub's 403, at once."""
    with pytest.raises(GithubException) as refused:
        client(emu, "mallory").grant(REPO, "octocat", "pull")

    assert refused.value.status in (403, 404)
