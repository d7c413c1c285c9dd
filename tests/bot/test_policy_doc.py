"""`warden policy`: the policy as a readable document."""

from pathlib import Path

from bot.policy import load_policy, parse_policy
from bot.policy_doc import render_markdown

REPO = Path(__file__).parents[2]
POLICIES = Path(__file__).parent / "policies"


def test_document_of_the_example_policy() -> None:
    """The document names analysts, channel, hours, cadence and scanner schedules."""
    policy = load_policy(POLICIES / "everything_on.yaml")

    document = render_markdown(policy)

    assert document.startswith("# Warden policy for Example Inc\n")
    assert "- U0123ABCDE\n- alice@example.com\n" in document
    assert "Alerts and escalations go to #security." in document
    assert "09:00–18:00, Monday to Friday" in document
    assert "sent again after 1d, 3d and 7d" in document
    assert "escalated to #security" in document
    assert "Google Drive is scanned every 4h, with a full scan every 7d." in document
    assert "`example` is scanned every 4h" in document


def test_document_states_grant_limits_and_incidents() -> None:
    """Grant limits per kind, incident kinds and the Suricata threshold are spelled out."""
    policy = load_policy(POLICIES / "everything_on.yaml")

    document = render_markdown(policy)

    assert "- Google Drive: at most 30d, as reader, commenter or writer." in document
    assert "- GitHub: at most 7d, as pull, triage or push." in document
    assert "- phishing email\n" in document
    assert "of severity 1 or 2 (1 is the most severe)" in document
    assert "same hosts within 30m count on one incident" in document
    assert "Tickets are GitHub issues in `example/security-incidents`." in document
    assert "WAF IP set `warden-blocklist` for 30d." in document
    assert "A weekly digest is posted on fri." in document
    assert "## Turned off" not in document


def test_disabled_workflows_are_listed_as_off() -> None:
    """With nothing turned on, each workflow is listed briefly as off and not described."""
    policy = load_policy(POLICIES / "minimal.yaml")

    document = render_markdown(policy)

    assert "## Turned off" in document
    for name in ("Google Drive scanner", "GitHub scanner", "Temporary access", "Incidents"):
        assert f"- {name}: off" in document
    assert "## Exposure reminders" not in document
    assert "## Temporary access" not in document


def test_document_follows_policy_choices() -> None:
    """Custom days, domains and no escalation show up as written."""
    policy = parse_policy(
        (POLICIES / "minimal.yaml").read_text()
        + "working_hours: {days: [mon, wed]}\n"
        + "reminders: {escalate_after_last: false}\n"
        + "scanners: {drive: {enabled: true}}\n"
        + "grants: {enabled: true, allowed_domains: [partner.com]}\n"
    )

    document = render_markdown(policy)

    assert "Monday and Wednesday" in document
    assert "After the last reminder they are not escalated." in document
    assert "Access may only go to partner.com." in document
    assert "- GitHub scanner: off" in document
