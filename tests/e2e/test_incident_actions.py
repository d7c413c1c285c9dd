"""The card's actions on outside systems, end to end: the real process against the
Slack, Google, GitHub, PagerDuty and intel emulators and moto's WAFv2."""

import json
import os
import time

import pytest

from tests.e2e.harness import (
    GOOGLE_ADMIN,
    Person,
    WardenProcess,
    all_text,
    button,
    google_env,
    policy_text,
)
from tests.e2e.test_incidents import card_of, dm_containing, form_of, wait_thread
from tests.emulators.aws import FAKE_KEY_ID, FAKE_SECRET, REGION, MotoServer
from tests.emulators.github import GitHubEmulator
from tests.emulators.google import GoogleEmulator
from tests.emulators.intel import IntelEmulator
from tests.emulators.pagerduty import PagerDutyEmulator

ATTACKER = "185.220.101.4"
TICKETS = "example/security-incidents"


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        yield server


@pytest.fixture
def outside(moto, tmp_path):
    with GoogleEmulator() as google, GitHubEmulator() as github, \
            PagerDutyEmulator() as pagerduty, IntelEmulator() as intel:  # fmt: skip
        for email in (GOOGLE_ADMIN, "alice@example.com", "sam@example.com"):
            google.add_user(email, admin=email == GOOGLE_ADMIN)
        github.add_user("warden-bot")
        github.add_org("example", owners=["warden-bot"])
        github.add_repo(TICKETS)
        intel.report_ip(ATTACKER, confidence=100, reports=412, isp="Tor exit", country="DE")
        yield {"google": google, "github": github, "pagerduty": pagerduty, "intel": intel,
               "ip_set": moto.create_ip_set(), "moto": moto}


@pytest.fixture
def running(slack, workdir, alice, sam, outside):
    ip_set = outside["ip_set"]
    policy = policy_text("#security", "sam@example.com") + f"""\
incidents:
  enabled: true
  ticket_repository: {TICKETS}
  block_ips:
    ip_set_name: {ip_set.name}
    ip_set_id: {ip_set.id}
    region: {REGION}
    expiry: 30d
"""
    (workdir / "warden.yaml").write_text(policy)
    github, intel, pagerduty = outside["github"], outside["intel"], outside["pagerduty"]
    routing_key = pagerduty.add_service("Security on-call")
    outside["routing_key"] = routing_key
    env = {
        **google_env(outside["google"], workdir),
        "GITHUB_TOKEN": github.token_for("warden-bot"), "GITHUB_API_URL": github.url,
        "PAGERDUTY_ROUTING_KEY": routing_key, "PAGERDUTY_EVENTS_URL": pagerduty.events_url,
        "ABUSEIPDB_API_KEY": intel.abuseipdb_key, "ABUSEIPDB_API_URL": intel.abuseipdb_url,
        "VIRUSTOTAL_API_KEY": intel.virustotal_key, "VIRUSTOTAL_API_URL": intel.virustotal_url,
        "AWS_ENDPOINT_URL": outside["moto"].url, "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET, "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }  # fmt: skip
    process = WardenProcess(slack, workdir, env).start()
    yield process
    if process.proc.poll() is None:
        process.stop()


def press(slack, sam: Person, channel: str, prefix: str, containing: str = "") -> dict:
    """Click the card's button once the card (updated in place) shows it."""

    def card_with_button():
        card = card_of(slack, channel, 1, containing)
        return card if f'"action_id": "{prefix}' in json.dumps(card["blocks"]) else None

    card = slack.wait_for(card_with_button, timeout=20, message=f"a {prefix} button")
    slack.click_button(sam.user_id, channel, card["ts"], button(card, prefix))
    return card


def blocked_addresses(outside) -> list[str]:
    ip_set = outside["ip_set"]
    found = outside["moto"].client("wafv2").get_ip_set(Name=ip_set.name, Id=ip_set.id,
                                                        Scope=ip_set.scope)  # fmt: skip
    return found["IPSet"]["Addresses"]


def test_enrich_block_ticket_page_and_resolve(running, slack, alice, sam, security_channel,
                                             outside):  # fmt: skip
    alice.runs(f"/securityalert ssh brute force from {ATTACKER} on the build box")
    card = card_of(slack, security_channel, 1, "abuse confidence 100%")
    assert "Tor exit" in all_text(card) and ":rotating_light:" in all_text(card)

    # AbuseIPDB learns more; Enrich again asks afresh instead of using the cache.
    outside["intel"].report_ip(ATTACKER, confidence=100, reports=999, isp="Tor exit", country="DE")
    press(slack, sam, security_channel, "incident_enrich:")
    card = card_of(slack, security_channel, 1, "999 reports")

    press(slack, sam, security_channel, "incident_ticket:")
    card = card_of(slack, security_channel, 1, "*Ticket*")
    issue = outside["github"].issues(TICKETS)[0]
    assert issue["title"].startswith("Incident 1: ssh brute force") and issue["state"] == "open"
    assert "Timeline so far" in issue["body"] and "Enriched" in issue["body"]

    press(slack, sam, security_channel, f"incident_block_ip:1:{ATTACKER}")
    wait_thread(slack, security_channel, card, f"blocked `{ATTACKER}` at the firewall")
    assert blocked_addresses(outside) == [f"{ATTACKER}/32"]

    press(slack, sam, security_channel, "incident_page:")
    wait_thread(slack, security_channel, card, "paged on-call")
    alert = outside["pagerduty"].alert(outside["routing_key"], "warden-incident-1")
    assert alert is not None and alert.status == "triggered"

    press(slack, sam, security_channel, "incident_resolve:")
    form_of(slack, sam, "the resolve form")
    slack.submit_view(sam.user_id, {"category": {"value": "true_positive"},
                                    "resolution": {"value": "Blocked; keys rotated."}})
    assert "true positive" in all_text(dm_containing(slack, alice, "is resolved"))
    slack.wait_for(lambda: outside["pagerduty"].alert(outside["routing_key"], "warden-incident-1")
                   .status == "resolved", timeout=10, message="the page resolved")  # fmt: skip
    issue = slack.wait_for(
        lambda: next((i for i in outside["github"].issues(TICKETS) if i["state"] == "closed"),
                     None), timeout=10, message="the ticket closed")  # fmt: skip
    assert issue["state_reason"] == "completed"
    bodies = [c["body"] for c in outside["github"].comments(TICKETS, 1)]
    assert len(bodies) == len(set(bodies)), "each step is commented once"
    for step in ("blocked", "paged on-call", "resolved it as"):
        assert sum(step in body for body in bodies) == 1


def test_quarantine_then_restore_a_drive_file(running, slack, alice, sam, security_channel,
                                             outside):  # fmt: skip
    google = outside["google"]
    file_id = google.add_file("alice@example.com", "Payroll 2026")
    google.share(file_id, "user", "writer", email="mallory@elsewhere.example",
                 expires_at=time.time() + 7 * 86400)
    google.share(file_id, "anyone", "reader")
    before = sorted((p["type"], p["role"], p.get("expirationTime") is not None)
                    for p in google.permissions(file_id))  # fmt: skip

    alice.runs(f"/securityalert I shared https://docs.google.com/spreadsheets/d/{file_id}/edit "
               "with a stranger by mistake")  # fmt: skip
    card = card_of(slack, security_channel, 1)
    press(slack, sam, security_channel, "incident_quarantine:")
    wait_thread(slack, security_channel, card, "quarantined *Payroll 2026*: removed 2 share(s)")
    assert [(p["type"], p["role"]) for p in google.permissions(file_id)] == [("user", "owner")]

    press(slack, sam, security_channel, "incident_restore:", "Restore sharing")
    wait_thread(slack, security_channel, card, "restored the sharing of *Payroll 2026*")
    after = sorted((p["type"], p["role"], p.get("expirationTime") is not None)
                   for p in google.permissions(file_id))  # fmt: skip
    assert after == before  # the writer's share keeps its expiry


def test_an_intel_provider_down_still_opens_the_incident(running, slack, alice, security_channel,
                                                         outside):  # fmt: skip
    outside["intel"].set_down("abuseipdb")

    alice.runs(f"/securityalert odd traffic to {ATTACKER}")

    card = card_of(slack, security_channel, 1, "Enrichment incomplete")
    assert "AbuseIPDB" in all_text(card)
    assert ATTACKER in all_text(card)


@pytest.fixture
def mallory(slack) -> Person:
    return Person(slack, slack.add_user("mallory", "mallory@example.com"))


def test_nobody_but_an_analyst_can_press_any_card_button(running, slack, alice, sam, mallory,
                                                         security_channel, outside):  # fmt: skip
    google = outside["google"]
    file_id = google.add_file("alice@example.com", "Board minutes")
    google.share(file_id, "anyone", "reader")
    alice.runs(f"/securityalert {ATTACKER} grabbed https://docs.google.com/document/d/{file_id}")
    card = card_of(slack, security_channel, 1, "abuse confidence")
    prefixes = ["incident_take:", "incident_enrich:", "incident_thank:", "incident_ticket:",
                "incident_page:", "incident_block_ip:", "incident_quarantine:",
                "incident_reassign:", "incident_resolve:", "incident_add_task:"]  # fmt: skip

    for prefix in prefixes:
        slack.forge_click(mallory.user_id, security_channel, card["ts"], button(card, prefix))

    slack.wait_for(lambda: sum("security analysts" in all_text(m)
                               for m in mallory.ephemerals()) == len(prefixes),
                   timeout=15, message="one refusal per button")  # fmt: skip
    assert slack.top_view(mallory.user_id) is None  # no form opened for them
    assert outside["github"].issues(TICKETS) == []
    assert outside["pagerduty"].alerts(outside["routing_key"]) == []
    assert blocked_addresses(outside) == []
    assert len(google.permissions(file_id)) == 2
    assert dm_containing(slack, sam, "You're on incident 1")
    assert not any("Thank you" in all_text(m) for m in alice.dms())
