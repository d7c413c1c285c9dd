from datetime import timedelta

import pytest

from bot.access_text import parse_access

DOC = "https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz012345/edit"


def test_the_documented_order_reads_every_part():
    """resource to grantee as role for duration because reason."""
    request = parse_access(f"{DOC} to auditor@partner.com as reader for 3 days because SOC 2")

    assert (request.kind, request.resource) == ("drive", "1AbCdEfGhIjKlMnOpQrStUvWxYz012345")
    assert request.grantee == "auditor@partner.com"
    assert request.role == "reader"
    assert request.duration == timedelta(days=3)
    assert request.reason == "SOC 2"
    assert request.missing == []


def test_any_order_and_a_github_repo():
    """Words may come in any order; @login and owner/repo are understood."""
    request = parse_access("for 2w acme/web as push to @hubot because the release")

    assert (request.kind, request.resource, request.grantee) == ("github", "acme/web", "hubot")
    assert (request.role, request.duration) == ("push", timedelta(weeks=2))


def test_slack_formatted_links_and_a_dm_phrasing():
    """Slack's <url|label> and <mailto:…> wrappers, and "share … with …" from a DM."""
    request = parse_access(
        "share <https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUvWxYz01/view|doc> "
        "with <mailto:a@partner.com|a@partner.com> for 3 days"
    )

    assert request.resource == "1AbCdEfGhIjKlMnOpQrStUvWxYz01"
    assert request.grantee == "a@partner.com"
    assert request.missing == ["role", "reason"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("acme/web to bob for soon", "“soon”"),
        ("acme/web to bob as owner", "“owner” is not a role"),
    ],
)
def test_what_cannot_be_read_is_said(text, problem):
    """A duration or role that cannot be understood is named, not silently dropped."""
    assert any(problem in p for p in parse_access(text).problems)


def test_the_reason_keeps_every_word():
    """Everything after "because" is the reason, even words that look like parts."""
    request = parse_access("acme/web to bob as pull for 1d because bob must read it as admin")

    assert request.reason == "bob must read it as admin"
    assert request.role == "pull"
