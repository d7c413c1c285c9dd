"""The GitHub client, through real PyGithub against the GitHub emulator."""

import pytest
import requests
from github import Auth, Github, GithubException

from integrations.github import CUT_NOTE, MAX_BODY_CHARS, GitHub, Ticket, fit_body, may_have_landed
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


# -- tickets ------------------------------------------------------------------------

ISSUES = "/repos/{owner}/{repo}/issues"
COMMENTS = ISSUES + "/{issue_number}/comments"


def test_a_ticket_is_opened_with_its_labels_in_one_request(emu):
    """The bot can push (org owner), so its labels stick; the repo is never fetched."""
    emu.reset_counts()

    ticket = client(emu).open_ticket(REPO, "Public link on payroll.xlsx", "Found by the scan",
                                     labels=["security"])

    assert ticket == Ticket(REPO, 1, f"{emu.web_url}/{REPO}/issues/1")
    [issue] = emu.issues(REPO)
    assert (issue["title"], issue["body"]) == ("Public link on payroll.xlsx", "Found by the scan")
    assert [label["name"] for label in issue["labels"]] == ["security"]
    assert issue["user"]["login"] == "warden-bot"
    assert emu.request_counts() == {f"POST {ISSUES}": 1}


def test_labels_are_dropped_silently_without_push_access(emu):
    """GitHub keeps a reader's issue and drops its labels; so does the client."""
    emu.set_collaborator(REPO, "octocat", "read")

    client(emu, "octocat").open_ticket(REPO, "Suspicious login", "", labels=["security"])

    [issue] = emu.issues(REPO)
    assert (issue["labels"], issue["body"]) == ([], None)


def test_comment_and_close_as_not_planned(emu):
    """PyGithub, as another user, sees the comment and the closed state with its reason."""
    github = client(emu)
    ticket = github.open_ticket(REPO, "Stale grant", "Access ended early")

    comment_id = github.comment_on_ticket(REPO, ticket.number, "Revoked by hand")
    github.close_ticket(REPO, ticket.number, reason="not_planned")

    issue = Github(auth=Auth.Token(emu.token_for("dana")), base_url=emu.url,
                   retry=None).get_repo(REPO).get_issue(ticket.number)
    assert (issue.state, issue.state_reason, issue.comments) == ("closed", "not_planned", 1)
    assert issue.closed_by.login == "warden-bot"
    [comment] = issue.get_comments()
    assert (comment.id, comment.body) == (comment_id, "Revoked by hand")
    assert emu.comments(REPO, ticket.number)[0]["id"] == comment_id


def test_closing_defaults_to_completed_and_refuses_other_reasons(emu):
    github = client(emu)
    ticket = github.open_ticket(REPO, "Fixed", "")
    emu.reset_counts()

    with pytest.raises(ValueError, match="completed, not_planned"):
        github.close_ticket(REPO, ticket.number, reason="duplicate")
    github.close_ticket(REPO, ticket.number)
    github.close_ticket(REPO, ticket.number)  # again: nothing changes

    assert emu.issues(REPO)[0]["state_reason"] == "completed"
    assert emu.request_counts() == {f"PATCH {ISSUES}/{{issue_number}}": 2}


def test_bodies_over_githubs_limit_are_cut_not_refused(emu):
    github = client(emu)
    long_text = "line of evidence\n" * 5000  # 85,000 characters

    ticket = github.open_ticket(REPO, "Big report", long_text)
    github.comment_on_ticket(REPO, ticket.number, long_text)

    body = emu.issues(REPO)[0]["body"]
    assert len(body) == MAX_BODY_CHARS == len(emu.comments(REPO, 1)[0]["body"])
    assert body.endswith(CUT_NOTE) and body.startswith(long_text[:1000])
    assert fit_body("short") == "short"


@pytest.mark.parametrize("status", [429, 403])
def test_a_refused_post_is_sent_again(emu, status):
    """A 429 or secondary limit means GitHub did nothing: one retry, one issue."""
    emu.fail_next("POST", ISSUES, status, retry_after=0)
    github = client(emu)

    ticket = github.open_ticket(REPO, "Retried", "")

    assert ticket.number == 1 and len(emu.issues(REPO)) == 1
    assert github.requests["issues.create"] == 2
    assert "issues.create.find" not in github.requests


def test_an_issue_created_before_a_lost_answer_is_adopted_not_duplicated(emu):
    """GitHub created the issue, then the answer became a 502: the retry finds it."""
    emu.fail_next("POST", ISSUES, 502, retry_after=0, after_effect=True)
    github = client(emu)

    ticket = github.open_ticket(REPO, "Only once", "body")

    assert [issue["number"] for issue in emu.issues(REPO)] == [ticket.number] == [1]
    assert github.requests["issues.create"] == 1
    assert github.requests["issues.create.find"] == 1


def test_a_5xx_before_anything_was_created_is_sent_again(emu):
    """The look finds nothing of ours (a twin someone else opened does not count)."""
    client(emu).open_ticket(REPO, "Twin", "body")
    emu.fail_next("POST", ISSUES, 503, retry_after=0)
    dana = client(emu, "dana")

    ticket = dana.open_ticket(REPO, "Twin", "body")

    assert ticket.number == 2
    assert [issue["user"]["login"] for issue in emu.issues(REPO)] == ["warden-bot", "dana"]
    assert dana.requests == {"issues.create": 2, "issues.create.find": 1, "users.me": 1}


def test_a_comment_posted_before_a_lost_answer_is_adopted(emu):
    github = client(emu)
    ticket = github.open_ticket(REPO, "Incident", "")
    emu.fail_next("POST", COMMENTS, 500, retry_after=0, after_effect=True)

    comment_id = github.comment_on_ticket(REPO, ticket.number, "Contained")

    assert [c["id"] for c in emu.comments(REPO, ticket.number)] == [comment_id]


def test_issues_switched_off_is_raised_at_once(emu):
    emu.add_repo("acme/mirror", admins=["warden-bot"], has_issues=False)
    github = client(emu)

    with pytest.raises(GithubException) as gone:
        github.open_ticket("acme/mirror", "x", "y")

    assert gone.value.status == 410
    assert github.requests["issues.create"] == 1


def test_dropped_connections_may_have_landed_refusals_did_not():
    """Which failures make the client look before it posts again."""
    assert may_have_landed(requests.ConnectionError("reset by peer"))
    assert may_have_landed(requests.ReadTimeout("no answer"))
    assert may_have_landed(GithubException(502, {"message": "Bad Gateway"}, {}))
    assert not may_have_landed(GithubException(429, {"message": "slow down"}, {}))
    assert not may_have_landed(GithubException(422, {"message": "Validation Failed"}, {}))
