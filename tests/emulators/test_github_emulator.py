"""The GitHub emulator, driven by the real PyGithub as Warden drives GitHub."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from github import Auth, Github
from github.GithubException import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)

from tests.emulators.github import GitHubEmulator

REPO = "acme/payments"
COLLABORATORS = "/repos/{owner}/{repo}/collaborators"


@pytest.fixture
def emu() -> Iterator[GitHubEmulator]:
    with GitHubEmulator() as emulator:
        for login in ("alice", "bob", "carol", "dave", "mallory"):
            emulator.add_user(login, name=login.title())
        emulator.add_org("acme", owners=["alice"], members=["carol", "dave"])
        emulator.add_repo(REPO, private=True, admins=["dave"])
        emulator.set_collaborator(REPO, "mallory", "write")
        yield emulator


def github_as(emu: GitHubEmulator, login: str, **options: object) -> Github:
    """A PyGithub client acting as ``login``; no retries unless asked for.

    PyGithub spaces requests 0.25 s apart and writes 1 s apart by default;
    against a local emulator that only slows the tests down.
    """
    options.setdefault("retry", None)
    options.setdefault("seconds_between_requests", None)
    options.setdefault("seconds_between_writes", None)
    return Github(auth=Auth.Token(emu.token_for(login)), base_url=emu.url, **options)


def test_invited_user_becomes_collaborator_after_accepting(emu: GitHubEmulator) -> None:
    """PUT for a newcomer answers 201 with an invitation; accepting grants the role."""
    repo = github_as(emu, "alice").get_repo(REPO)

    invitation = repo.add_to_collaborators("bob", permission="pull")

    assert invitation.invitee.login == "bob"
    assert invitation.permissions == "read"
    assert [i.id for i in repo.get_pending_invitations()] == [invitation.id]
    assert "bob" not in emu.collaborators(REPO)

    emu.accept_invitation("bob", invitation.id)

    assert emu.collaborators(REPO)["bob"] == "read"
    assert repo.get_collaborator_permission("bob") == "read"
    assert repo.has_in_collaborators("bob")
    assert list(repo.get_pending_invitations()) == []


def test_put_for_existing_collaborator_updates_role(emu: GitHubEmulator) -> None:
    """PUT for someone already in answers 204 (PyGithub returns None) and changes the role."""
    repo = github_as(emu, "alice").get_repo(REPO)

    answer = repo.add_to_collaborators("mallory", permission="maintain")

    assert answer is None
    assert emu.collaborators(REPO)["mallory"] == "maintain"
    assert repo.get_collaborator_role_name("mallory") == "maintain"
    assert repo.get_collaborator_permission("mallory") == "write"  # the legacy name


def test_org_member_is_added_without_invitation(emu: GitHubEmulator) -> None:
    """Members of the owning org need no invitation."""
    repo = github_as(emu, "alice").get_repo(REPO)

    assert repo.add_to_collaborators("carol", permission="push") is None

    assert emu.collaborators(REPO, affiliation="direct")["carol"] == "write"
    assert emu.invitations(REPO) == []


def test_remove_collaborator(emu: GitHubEmulator) -> None:
    """DELETE answers 204 and the access is gone."""
    repo = github_as(emu, "alice").get_repo(REPO)

    repo.remove_from_collaborators("mallory")

    assert "mallory" not in emu.collaborators(REPO)
    assert not repo.has_in_collaborators("mallory")


def test_withdraw_invitation(emu: GitHubEmulator) -> None:
    """An admin withdraws a pending invitation; the invitee can no longer accept."""
    repo = github_as(emu, "dave").get_repo(REPO)
    invitation = repo.add_to_collaborators("bob", permission="triage")

    repo.remove_invitation(invitation.id)

    assert emu.invitations(REPO) == []
    with pytest.raises(KeyError):
        emu.accept_invitation("bob", invitation.id)
    with pytest.raises(UnknownObjectException):
        repo.remove_invitation(invitation.id)


def test_listing_filters_by_affiliation(emu: GitHubEmulator) -> None:
    """all includes org owners and members; outside only non-members."""
    repo = github_as(emu, "alice").get_repo(REPO)

    every = {u.login: u.role_name for u in repo.get_collaborators(affiliation="all")}
    outside = [u.login for u in repo.get_collaborators(affiliation="outside")]
    direct = [u.login for u in repo.get_collaborators(affiliation="direct")]

    assert every == {"alice": "admin", "carol": "read", "dave": "admin", "mallory": "write"}
    assert outside == ["mallory"]
    assert direct == ["dave", "mallory"]
    assert emu.is_admin(REPO, "alice") and not emu.is_admin(REPO, "mallory")


def test_writer_cannot_add_collaborators(emu: GitHubEmulator) -> None:
    """Only admins and org owners manage access: GitHub's 403 and its message."""
    repo = github_as(emu, "mallory").get_repo(REPO)

    with pytest.raises(GithubException) as raised:
        repo.add_to_collaborators("bob", permission="admin")

    assert raised.value.status == 403
    assert raised.value.data["message"] == "Must have admin rights to Repository."
    assert emu.invitations(REPO) == []


def test_reader_cannot_list_collaborators(emu: GitHubEmulator) -> None:
    """Listing collaborators needs push access."""
    repo = github_as(emu, "carol").get_repo(REPO)

    with pytest.raises(GithubException) as raised:
        list(repo.get_collaborators())

    assert raised.value.status == 403


def test_unknown_and_hidden_repos_are_not_found(emu: GitHubEmulator) -> None:
    """A missing repo and a private repo the token cannot see both answer 404."""
    with pytest.raises(UnknownObjectException) as missing:
        github_as(emu, "alice").get_repo("acme/nothing")
    with pytest.raises(UnknownObjectException):
        github_as(emu, "bob").get_repo(REPO)

    assert missing.value.data["message"] == "Not Found"
    assert missing.value.data["status"] == "404"
    assert missing.value.data["documentation_url"].startswith("https://docs.github.com/")


def test_bad_permission_is_a_validation_error(emu: GitHubEmulator) -> None:
    """An unknown permission answers 422 Validation Failed with an errors list."""
    repo = github_as(emu, "alice").get_repo(REPO)

    with pytest.raises(GithubException) as raised:
        repo.add_to_collaborators("bob", permission="owner")

    assert raised.value.status == 422
    assert raised.value.data["message"] == "Validation Failed"
    assert raised.value.data["errors"][0]["field"] == "permission"


def test_inviting_unknown_user_is_a_validation_error(emu: GitHubEmulator) -> None:
    repo = github_as(emu, "alice").get_repo(REPO)

    with pytest.raises(GithubException) as raised:
        repo.add_to_collaborators("nobody-here", permission="pull")

    assert raised.value.status == 422


def test_unknown_token_is_bad_credentials(emu: GitHubEmulator) -> None:
    g = Github(auth=Auth.Token("ghp_" + "x" * 36), base_url=emu.url, retry=None)

    with pytest.raises(BadCredentialsException) as raised:
        g.get_repo(REPO)

    assert raised.value.status == 401


def test_pagination_walks_link_headers(emu: GitHubEmulator) -> None:
    """250 collaborators arrive over three pages of 100, following rel="next"."""
    for number in range(250):
        emu.add_user(f"contractor-{number:03}")
        emu.set_collaborator(REPO, f"contractor-{number:03}", "read")
    repo = github_as(emu, "alice", per_page=100).get_repo(REPO)
    emu.reset_counts()

    logins = [user.login for user in repo.get_collaborators(affiliation="outside")]

    assert len(logins) == 251  # and mallory
    assert len(set(logins)) == 251
    assert emu.request_counts() == {f"GET {COLLABORATORS}": 3}


def test_link_header_has_next_and_last(emu: GitHubEmulator) -> None:
    for number in range(70):
        emu.add_user(f"temp-{number}")
        emu.set_collaborator(REPO, f"temp-{number}", "read")
    token = emu.token_for("alice")

    answer = requests.get(f"{emu.url}/repos/{REPO}/collaborators",
                          headers={"Authorization": f"token {token}"}, timeout=5)

    assert len(answer.json()) == 30
    assert answer.links["next"]["url"] == f"{emu.url}/repos/{REPO}/collaborators?page=2"
    assert answer.links["last"]["url"].endswith("?page=3")


def test_every_answer_carries_rate_limit_headers(emu: GitHubEmulator) -> None:
    token = emu.token_for("alice")

    answer = requests.get(f"{emu.url}/repos/{REPO}/collaborators/bob",
                          headers={"Authorization": f"token {token}"}, timeout=5)

    assert answer.status_code == 404
    assert answer.headers["X-RateLimit-Limit"] == "5000"
    assert answer.headers["X-RateLimit-Used"] == "1"
    assert answer.headers["X-RateLimit-Remaining"] == "4999"
    assert int(answer.headers["X-RateLimit-Reset"]) > time.time()
    assert answer.headers["X-RateLimit-Resource"] == "core"


def test_exhausted_primary_limit(emu: GitHubEmulator) -> None:
    """Past the hourly budget GitHub answers 403 and PyGithub raises RateLimitExceeded."""
    emu.set_rate_limit(3)
    g = github_as(emu, "alice")
    repo = g.get_repo(REPO)
    repo.get_collaborator_permission("dave")
    repo.get_collaborator_permission("mallory")

    with pytest.raises(RateLimitExceededException) as raised:
        repo.get_collaborator_permission("carol")

    assert raised.value.status == 403
    assert raised.value.data["message"].startswith("API rate limit exceeded for user ID ")
    assert raised.value.headers["x-ratelimit-remaining"] == "0"
    assert g.rate_limiting[0] == 0


def test_secondary_limit_answers_429_with_retry_after(emu: GitHubEmulator) -> None:
    """A planned 429 carries Retry-After; without retries PyGithub surfaces it."""
    emu.fail_next("PUT", COLLABORATORS + "/{username}", 429, retry_after=7)
    repo = github_as(emu, "alice").get_repo(REPO)

    with pytest.raises(GithubException) as raised:
        repo.add_to_collaborators("bob", permission="pull")

    assert raised.value.status == 429
    assert raised.value.headers["retry-after"] == "7"
    assert "secondary rate limit" in raised.value.data["message"]
    assert emu.invitations(REPO) == []


def test_pygithub_default_retry_honours_retry_after(emu: GitHubEmulator) -> None:
    """PyGithub's own retry waits Retry-After and then succeeds."""
    emu.fail_next("GET", f"/repos/{REPO}", 429, retry_after=1)
    g = github_as(emu, "alice", retry=Github.default_retry)

    assert g.get_repo(REPO).full_name == REPO
    assert emu.request_counts()["GET /repos/{owner}/{repo}"] == 2


def test_objects_carry_absolute_urls(emu: GitHubEmulator) -> None:
    """URLs point back at the emulator the way GitHub Enterprise builds them."""
    g = github_as(emu, "alice")
    repo = g.get_repo(REPO)
    invitation = repo.add_to_collaborators("bob", permission="pull")

    assert repo.url == f"{emu.url}/repos/{REPO}"
    assert repo.html_url == f"{emu.web_url}/{REPO}"
    assert invitation.url == f"{emu.url}/user/repository_invitations/{invitation.id}"
    assert invitation.html_url == f"{emu.web_url}/{REPO}/invitations"
    assert g.get_user("bob").url == f"{emu.url}/users/bob"


def test_users_and_org_repositories(emu: GitHubEmulator) -> None:
    emu.add_repo("acme/website", private=False)
    g = github_as(emu, "bob")

    org = g.get_organization("acme")
    names = [repo.full_name for repo in org.get_repos()]

    assert names == ["acme/website"]  # the private repo stays hidden from bob
    assert g.get_user("carol").name == "Carol"
    with pytest.raises(UnknownObjectException):
        g.get_user("ghost")
