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


# -- issues and comments ------------------------------------------------------------

ISSUES = "/repos/{owner}/{repo}/issues"


def call(emu: GitHubEmulator, login: str | None, method: str, path: str,
         body: object = None) -> requests.Response:
    """One raw REST request as ``login`` (anonymous when None)."""
    headers = {"Authorization": f"token {emu.token_for(login)}"} if login else {}
    return requests.request(method, f"{emu.url}{path}", json=body, headers=headers, timeout=5)


def test_opening_an_issue_answers_201_with_the_whole_issue(emu: GitHubEmulator) -> None:
    """201, Location, and the fields GitHub's issue object has, URLs pointing back here."""
    answer = call(emu, "carol", "POST", f"/repos/{REPO}/issues",
                  {"title": "Token in logs", "body": "Seen in build 42"})

    issue = answer.json()
    assert answer.status_code == 201
    assert answer.headers["Location"] == issue["url"] == f"{emu.url}/repos/{REPO}/issues/1"
    assert issue["html_url"] == f"{emu.web_url}/{REPO}/issues/1"
    assert issue["comments_url"] == f"{issue['url']}/comments"
    assert issue["repository_url"] == f"{emu.url}/repos/{REPO}"
    assert (issue["number"], issue["title"], issue["body"]) == (1, "Token in logs",
                                                                "Seen in build 42")
    assert (issue["state"], issue["state_reason"], issue["closed_at"]) == ("open", None, None)
    assert issue["user"]["login"] == "carol"
    assert issue["author_association"] == "MEMBER"
    assert (issue["labels"], issue["assignees"], issue["comments"]) == ([], [], 0)
    assert issue["created_at"].endswith("Z") and issue["node_id"]
    assert emu.issues(REPO) == [issue]


def test_issue_numbers_are_sequential_per_repository(emu: GitHubEmulator) -> None:
    emu.add_repo("acme/website", private=False)
    repo = github_as(emu, "alice").get_repo(REPO)
    other = github_as(emu, "alice").get_repo("acme/website")

    numbers = [repo.create_issue("one").number, repo.create_issue("two").number,
               other.create_issue("elsewhere").number, repo.create_issue("three").number]

    assert numbers == [1, 2, 1, 3]
    assert emu.issues(REPO)[0]["body"] is None  # no body is null, as on GitHub


def test_labels_and_assignees_need_push_access(emu: GitHubEmulator) -> None:
    """A reader's labels and assignees are dropped silently; a writer's are kept,
    and labels that do not exist yet are created."""
    wish = {"labels": ["security", "P1"], "assignees": ["dave"]}

    from_reader = call(emu, "carol", "POST", f"/repos/{REPO}/issues", {"title": "a", **wish})
    from_writer = call(emu, "mallory", "POST", f"/repos/{REPO}/issues", {"title": "b", **wish})

    assert from_reader.status_code == from_writer.status_code == 201
    assert (from_reader.json()["labels"], from_reader.json()["assignees"]) == ([], [])
    labels = from_writer.json()["labels"]
    assert [(label["name"], label["color"]) for label in labels] == [
        ("security", "ededed"), ("P1", "ededed")]
    assert labels[0]["url"] == f"{emu.url}/repos/{REPO}/labels/security"
    assert [user["login"] for user in from_writer.json()["assignees"]] == ["dave"]
    assert from_writer.json()["assignee"]["login"] == "dave"


def test_assigning_someone_without_access_is_a_validation_error(emu: GitHubEmulator) -> None:
    answer = call(emu, "mallory", "POST", f"/repos/{REPO}/issues",
                  {"title": "x", "assignees": ["bob"]})

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"resource": "Issue", "code": "invalid", "field": "assignees", "value": "bob"}]
    assert emu.issues(REPO) == []


@pytest.mark.parametrize("body", [{}, {"title": ""}, {"title": None, "body": "b"}])
def test_an_issue_needs_a_title(emu: GitHubEmulator, body: dict) -> None:
    """GitHub's 422 shape: Validation Failed, one error naming the field."""
    answer = call(emu, "carol", "POST", f"/repos/{REPO}/issues", body)

    assert answer.status_code == 422
    assert answer.json()["message"] == "Validation Failed"
    assert answer.json()["errors"] == [
        {"resource": "Issue", "code": "missing_field", "field": "title"}]
    assert answer.json()["documentation_url"].startswith("https://docs.github.com/rest/issues")


def test_an_issue_body_over_65536_characters_is_refused(emu: GitHubEmulator) -> None:
    answer = call(emu, "carol", "POST", f"/repos/{REPO}/issues",
                  {"title": "long", "body": "x" * 65537})

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["message"] == (
        "body is too long (maximum is 65536 characters)")
    fits = call(emu, "carol", "POST", f"/repos/{REPO}/issues",
                {"title": "long", "body": "x" * 65536})
    assert fits.status_code == 201


def test_issues_switched_off_answer_410(emu: GitHubEmulator) -> None:
    """Opening, reading and commenting all answer 410 Gone."""
    emu.add_repo("acme/mirror", has_issues=False, admins=["dave"])

    answers = [call(emu, "dave", "POST", "/repos/acme/mirror/issues", {"title": "x"}),
               call(emu, "dave", "GET", "/repos/acme/mirror/issues/1"),
               call(emu, "dave", "POST", "/repos/acme/mirror/issues/1/comments", {"body": "x"})]

    assert [a.status_code for a in answers] == [410, 410, 410]
    assert answers[0].json()["message"] == "Issues are disabled for this repo"
    assert github_as(emu, "dave").get_repo("acme/mirror").has_issues is False


def test_issues_of_hidden_repos_and_missing_issues_are_not_found(emu: GitHubEmulator) -> None:
    """404 before 410 and before validation: the token must not learn the repo exists."""
    emu.add_repo("acme/secret", has_issues=False)

    hidden = call(emu, "bob", "POST", f"/repos/{REPO}/issues", {"title": "x"})
    hidden_off = call(emu, "bob", "POST", "/repos/acme/secret/issues", {})
    missing = call(emu, "alice", "GET", f"/repos/{REPO}/issues/7")
    not_a_number = call(emu, "alice", "GET", f"/repos/{REPO}/issues/seven")

    assert [a.status_code for a in (hidden, hidden_off, missing, not_a_number)] == [404] * 4
    assert emu.issues(REPO) == []


def test_anyone_signed_in_may_open_an_issue_on_a_public_repo(emu: GitHubEmulator) -> None:
    emu.add_repo("acme/website", private=False)

    answer = call(emu, "bob", "POST", "/repos/acme/website/issues", {"title": "Typo"})
    anonymous = call(emu, None, "POST", "/repos/acme/website/issues", {"title": "Typo"})

    assert answer.status_code == 201
    assert answer.json()["author_association"] == "NONE"
    assert anonymous.status_code == 401


def test_a_reader_comments_on_someone_elses_issue(emu: GitHubEmulator) -> None:
    """201 with the comment object; the issue counts it."""
    issue = github_as(emu, "mallory").get_repo(REPO).create_issue("Leaked key")

    answer = call(emu, "carol", "POST", f"/repos/{REPO}/issues/1/comments", {"body": "Me too"})

    comment = answer.json()
    assert answer.status_code == 201
    assert answer.headers["Location"] == comment["url"]
    assert comment["url"] == f"{emu.url}/repos/{REPO}/issues/comments/{comment['id']}"
    assert comment["html_url"] == f"{issue.html_url}#issuecomment-{comment['id']}"
    assert comment["issue_url"] == issue.url
    assert (comment["body"], comment["user"]["login"]) == ("Me too", "carol")
    assert comment["author_association"] == "MEMBER"
    assert emu.comments(REPO, 1) == [comment]
    assert github_as(emu, "alice").get_repo(REPO).get_issue(1).comments == 1


@pytest.mark.parametrize("body", [{}, {"body": ""}])
def test_a_comment_needs_a_body(emu: GitHubEmulator, body: dict) -> None:
    github_as(emu, "alice").get_repo(REPO).create_issue("x")

    answer = call(emu, "carol", "POST", f"/repos/{REPO}/issues/1/comments", body)

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"resource": "IssueComment", "code": "missing_field", "field": "body"}]


def test_closing_someone_elses_issue_needs_triage(emu: GitHubEmulator) -> None:
    """The author may close their own issue; a reader may not close another's;
    triage and above may."""
    emu.add_user("tess")
    emu.set_collaborator(REPO, "tess", "triage")
    github_as(emu, "mallory").get_repo(REPO).create_issue("by mallory")
    github_as(emu, "carol").get_repo(REPO).create_issue("by carol")

    refused = call(emu, "carol", "PATCH", f"/repos/{REPO}/issues/1", {"state": "closed"})
    own = call(emu, "carol", "PATCH", f"/repos/{REPO}/issues/2", {"state": "closed"})
    triager = call(emu, "tess", "PATCH", f"/repos/{REPO}/issues/1", {"state": "closed"})

    assert refused.status_code == 403
    assert (own.status_code, triager.status_code) == (200, 200)
    assert [i["state"] for i in emu.issues(REPO)] == ["closed", "closed"]
    assert triager.json()["closed_by"]["login"] == "tess"


def test_close_with_a_reason_and_reopen(emu: GitHubEmulator) -> None:
    """state_reason is kept on close, ignored without a state change, and
    becomes reopened when the issue opens again."""
    issue = github_as(emu, "alice").get_repo(REPO).create_issue("Stale grant")

    issue.edit(state="closed", state_reason="not_planned")
    assert (issue.state, issue.state_reason) == ("closed", "not_planned")
    assert issue.closed_by.login == "alice" and issue.closed_at is not None

    issue.edit(state_reason="completed")
    assert issue.state_reason == "not_planned"

    issue.edit(state="open")
    assert (issue.state, issue.state_reason, issue.closed_at) == ("open", "reopened", None)

    issue.edit(state="closed")
    assert issue.state_reason == "completed"  # GitHub's default reason


@pytest.mark.parametrize(("change", "field"), [
    ({"state": "done"}, "state"),
    ({"state": "closed", "state_reason": "wontfix"}, "state_reason"),
])
def test_bad_state_changes_are_validation_errors(emu: GitHubEmulator, change: dict,
                                                 field: str) -> None:
    github_as(emu, "alice").get_repo(REPO).create_issue("x")

    answer = call(emu, "alice", "PATCH", f"/repos/{REPO}/issues/1", change)

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == field
    assert emu.issues(REPO)[0]["state"] == "open"


def test_editing_title_and_body(emu: GitHubEmulator) -> None:
    issue = github_as(emu, "carol").get_repo(REPO).create_issue("Tpyo", body="old")

    issue.edit(title="Typo", body="new")

    assert (emu.issues(REPO)[0]["title"], emu.issues(REPO)[0]["body"]) == ("Typo", "new")


def test_comments_are_paginated_oldest_first(emu: GitHubEmulator) -> None:
    """45 comments over three pages of 20, following rel="next"."""
    issue = github_as(emu, "alice").get_repo(REPO).create_issue("Chatty")
    for number in range(45):
        issue.create_comment(f"comment {number}")
    emu.reset_counts()

    reader = github_as(emu, "carol", per_page=20).get_repo(REPO).get_issue(1)
    bodies = [comment.body for comment in reader.get_comments()]

    assert bodies == [f"comment {number}" for number in range(45)]
    assert emu.request_counts()[f"GET {ISSUES}/{{issue_number}}/comments"] == 3


def test_listing_issues_filters_and_sorts(emu: GitHubEmulator) -> None:
    """Open only by default, newest first; state, creator and labels filter."""
    repo = github_as(emu, "alice").get_repo(REPO)
    repo.create_issue("first", labels=["security"])
    repo.create_issue("second").edit(state="closed")
    github_as(emu, "carol").get_repo(REPO).create_issue("third")

    def titles(**query: object) -> list[str]:
        return [issue.title for issue in repo.get_issues(**query)]

    assert titles() == ["third", "first"]
    assert titles(state="all", direction="asc") == ["first", "second", "third"]
    assert titles(state="closed") == ["second"]
    assert titles(state="all", creator=github_as(emu, "alice").get_user("carol")) == ["third"]
    assert titles(labels=["security"]) == ["first"]


def test_faults_and_rate_limits_cover_issue_endpoints(emu: GitHubEmulator) -> None:
    """A planned 429 refuses before acting; an after-effect 502 acts, then loses the answer."""
    emu.fail_next("POST", ISSUES, 429, retry_after=3)
    emu.fail_next("POST", ISSUES, 502, after_effect=True)

    limited = call(emu, "alice", "POST", f"/repos/{REPO}/issues", {"title": "a"})
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert emu.issues(REPO) == []

    lost = call(emu, "alice", "POST", f"/repos/{REPO}/issues", {"title": "a"})
    assert lost.status_code == 502
    assert [issue["title"] for issue in emu.issues(REPO)] == ["a"]
    assert lost.headers["X-RateLimit-Resource"] == "core"
    assert emu.request_counts()[f"POST {ISSUES}"] == 2
