"""Drive exposure reminders, end to end: the real process, the Slack and Google emulators."""

import json

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
from tests.emulators.google import GoogleEmulator


@pytest.fixture
def google():
    with GoogleEmulator() as emulator:
        for email in (GOOGLE_ADMIN, "alice@example.com", "sam@example.com", "eve@example.com"):
            emulator.add_user(email, admin=email == GOOGLE_ADMIN)
        yield emulator


@pytest.fixture
def eve(slack) -> Person:
    """Someone who is neither the owner nor an analyst."""
    return Person(slack, slack.add_user("eve", "eve@example.com", tz="UTC"))


@pytest.fixture
def drive_workdir(workdir, google):
    google_env(google, workdir)
    policy = policy_text("#security", "sam@example.com")
    (workdir / "warden.yaml").write_text(policy + "scanners:\n  drive:\n    enabled: true\n")
    return workdir


def start_warden(slack, google, workdir) -> WardenProcess:
    return WardenProcess(slack, workdir, google_env(google, workdir)).start()


@pytest.fixture
def public_plan(google):
    plan = google.add_file("alice@example.com", "Launch plan")
    google.share(plan, "anyone", "writer")
    return plan


@pytest.fixture
def running(slack, google, drive_workdir, alice, sam, eve, public_plan):
    """Warden started after Alice shared her plan with anyone who has the link."""
    process = start_warden(slack, google, drive_workdir)
    yield process
    if process.proc.poll() is None:
        process.stop()




def first_dm(person: Person) -> dict:
    return person.wait_for_dms(1, timeout=20)[0]


def current(slack, message: dict) -> dict:
    """The message as it reads now (after any chat.update)."""
    return next(m for m in slack.messages(message["channel"]) if m["ts"] == message["ts"])


def test_owner_is_told_and_fixes_with_one_click(running, slack, google, alice, public_plan):
    """A public file → scan at start → Alice's DM → Fix it for me → the link is narrowed
    to the company, same role, and the DM says it is fixed."""
    dm = first_dm(alice)
    assert "Launch plan" in all_text(dm) and "anyone who has the link" in all_text(dm)

    slack.click_button(alice.user_id, dm["channel"], dm["ts"], button(dm, "finding_fix:"))

    def narrowed():
        kinds = {(p["type"], p.get("domain"), p["role"]) for p in google.permissions(public_plan)}
        return ("domain", "example.com", "writer") in kinds and not any(
            p["type"] == "anyone" for p in google.permissions(public_plan)
        )

    slack.wait_for(narrowed, timeout=10, message="the link was not narrowed")
    slack.wait_for(lambda: "Fixed" in all_text(current(slack, dm)), timeout=10,
                   message="the DM was not updated")  # fmt: skip


def test_a_stranger_cannot_press_the_owners_button(running, slack, google, alice, eve, public_plan):
    """Eve replays Alice's Fix button: refused with a reason, nothing changes in Drive."""
    dm = first_dm(alice)

    slack.forge_click(eve.user_id, dm["channel"], dm["ts"], button(dm, "finding_fix:"))

    refusal = slack.wait_for(eve.ephemerals, timeout=10, message="Eve got no answer")
    assert "Only the file's owner or a security analyst" in all_text(refusal[-1])
    assert any(p["type"] == "anyone" for p in google.permissions(public_plan))


def test_unshared_file_resolves_and_the_owner_is_thanked(running, slack, google, alice, sam,
                                                         public_plan):  # fmt: skip
    """Alice removes the link herself; the analyst's scan resolves it and her DM thanks her."""
    dm = first_dm(alice)
    link = next(p["id"] for p in google.permissions(public_plan) if p["type"] == "anyone")
    google.unshare(public_plan, link)

    sam.runs("/warden scan drive")

    slack.wait_for(lambda: "thank you" in all_text(current(slack, dm)), timeout=20,
                   message="the DM did not say thank you")  # fmt: skip
    summary = slack.wait_for(
        lambda: [e for e in sam.ephemerals() if "resolved" in all_text(e)], timeout=20,
        message="Sam got no scan summary",
    )  # fmt: skip
    assert "1 resolved" in all_text(summary[-1])


def test_exception_asked_by_the_owner_and_approved_by_an_analyst(
    running, slack, alice, sam, security_channel
):
    """Request an exception → modal → card in #security → Sam approves → Alice hears."""
    dm = first_dm(alice)
    slack.click_button(alice.user_id, dm["channel"], dm["ts"], button(dm, "finding_exception:"))
    slack.wait_for(lambda: slack.top_view(alice.user_id), message="no exception modal")

    slack.submit_view(
        alice.user_id,
        {"exception_reason": {"reason": "The agency edits it until Friday's launch."},
         "exception_days": {"days": "5"}},
    )  # fmt: skip

    card = slack.wait_for(
        lambda: [m for m in slack.messages(security_channel) if "exception" in all_text(m)],
        timeout=10, message="no exception card in #security",
    )[-1]  # fmt: skip
    slack.click_button(
        sam.user_id, security_channel, card["ts"], button(card, "finding_exception_approve:")
    )
    slack.wait_for(
        lambda: [m for m in alice.dms() if "approved" in all_text(m)], timeout=10,
        message="Alice was not told of the approval",
    )  # fmt: skip
    assert "Exception granted" in all_text(current(slack, dm))


def test_only_analysts_approve_exceptions(running, slack, alice, eve, security_channel):
    """Eve, who is no analyst, replays the Approve button: refused."""
    dm = first_dm(alice)
    slack.click_button(alice.user_id, dm["channel"], dm["ts"], button(dm, "finding_exception:"))
    slack.wait_for(lambda: slack.top_view(alice.user_id), message="no exception modal")
    slack.submit_view(
        alice.user_id,
        {"exception_reason": {"reason": "Needed for the partner audit."},
         "exception_days": {"days": "3"}},
    )  # fmt: skip
    card = slack.wait_for(
        lambda: [m for m in slack.messages(security_channel) if "exception" in all_text(m)],
        timeout=10, message="no exception card",
    )[-1]  # fmt: skip

    slack.forge_click(
        eve.user_id, security_channel, card["ts"], button(card, "finding_exception_approve:")
    )

    refusal = slack.wait_for(eve.ephemerals, timeout=10, message="Eve got no answer")
    assert "Only the security analysts" in all_text(refusal[-1])


def test_exception_longer_than_the_policy_allows_is_refused_in_the_modal(running, slack, alice):
    """The modal answers a 400-day exception with the allowed range, next to the field."""
    dm = first_dm(alice)
    slack.click_button(alice.user_id, dm["channel"], dm["ts"], button(dm, "finding_exception:"))
    slack.wait_for(lambda: slack.top_view(alice.user_id), message="no exception modal")

    slack.submit_view(
        alice.user_id,
        {"exception_reason": {"reason": "Forever, it is a public brochure."},
         "exception_days": {"days": "400"}},
    )  # fmt: skip

    assert "from 1 to 90" in slack.view_errors(alice.user_id)["exception_days"]


def test_invalid_rule_in_the_policy_points_at_its_line(drive_workdir, slack):
    """A misspelt severity is reported with the line and the allowed values."""
    policy = drive_workdir / "warden.yaml"
    policy.write_text(
        policy.read_text() + "    rules:\n      anyone_with_link: {severity: urgent}\n"
    )

    result = WardenProcess(slack, drive_workdir).cli("check-config")

    assert result.returncode == 2
    assert "line 11" in result.stderr and "critical" in result.stderr


def test_snooze_hides_the_buttons_until_the_day_after(running, slack, alice):
    """Snooze 1 day: the DM says until when, and the finding waits."""
    dm = first_dm(alice)

    slack.click_button(alice.user_id, dm["channel"], dm["ts"], button(dm, "finding_snooze_1d:"))

    slack.wait_for(lambda: "Snoozed until" in all_text(current(slack, dm)), timeout=10,
                   message="the DM does not say it is snoozed")  # fmt: skip
    assert "finding_fix:" not in json.dumps(current(slack, dm)["blocks"])


def test_app_home_lists_my_findings_with_their_buttons(running, slack, alice, google, public_plan):
    """The Home tab shows Alice's open finding; its Fix button works from there too."""
    first_dm(alice)
    alice.opens_home()
    home = slack.wait_for(
        lambda: (h := alice.home()) and "Launch plan" in all_text(h) and h, timeout=10,
        message="the Home tab does not list the finding",
    )  # fmt: skip
    assert "You have 1 open" in all_text(home)

    slack.click_view_button(alice.user_id, button(home, "finding_fix:"))

    slack.wait_for(
        lambda: not any(p["type"] == "anyone" for p in google.permissions(public_plan)),
        timeout=10, message="the fix from the Home tab did nothing",
    )  # fmt: skip


def test_dry_run_prints_the_findings_and_exits_1(slack, google, drive_workdir, public_plan):
    """`warden scan drive --dry-run` lists what it would report, without Slack."""
    env = google_env(google, drive_workdir)

    result = WardenProcess(slack, drive_workdir, env).cli("scan", "drive", "--dry-run")

    assert result.returncode == 1
    assert "anyone_with_link" in result.stdout and "Launch plan" in result.stdout
    assert slack.call_count("chat.postMessage") == 0


def test_only_analysts_start_a_scan(running, slack, eve):
    """Eve's `/warden scan drive` is refused; nothing is scanned on her word."""
    eve.runs("/warden scan drive")

    refusal = slack.wait_for(
        lambda: [e for e in eve.ephemerals() if "Only the security analysts" in all_text(e)],
        timeout=10, message="Eve was not told why",
    )  # fmt: skip
    assert refusal
