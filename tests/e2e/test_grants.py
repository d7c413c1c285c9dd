"""Temporary access, end to end: the real process, the Slack and Google emulators."""

import signal
import sqlite3
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
from tests.emulators.google import GoogleEmulator


@pytest.fixture
def google():
    with GoogleEmulator() as emulator:
        for email in (GOOGLE_ADMIN, "alice@example.com", "bob@example.com", "sam@example.com"):
            emulator.add_user(email, admin=email == GOOGLE_ADMIN)
        yield emulator


@pytest.fixture
def bob(slack) -> Person:
    return Person(slack, slack.add_user("bob", "bob@example.com", tz="Europe/Paris"))


@pytest.fixture
def audit_pack(google):
    file_id = google.add_file("alice@example.com", "Audit pack")
    google.share(file_id, "user", "reader", email="bob@example.com")
    return file_id


@pytest.fixture
def running(slack, google, workdir, alice, bob, sam, audit_pack):
    policy = policy_text("#security", "sam@example.com") + "grants:\n  enabled: true\n"
    (workdir / "warden.yaml").write_text(policy)
    process = WardenProcess(slack, workdir, google_env(google, workdir)).start()
    yield process
    if process.proc.poll() is None:
        process.stop()


def ask(bob: Person, file_id: str, duration: str = "3d") -> None:
    url = f"https://docs.google.com/document/d/{file_id}/edit"
    bob.runs(
        f"/access {url} to auditor@partner.com as reader for {duration} because SOC 2 evidence"
    )


def approval_request(slack, alice: Person) -> dict:
    return slack.wait_for(
        lambda: next((m for m in alice.dms() if "Access request" in all_text(m)), None),
        timeout=15, message="the owner was not asked",
    )  # fmt: skip




def auditor_can_read(google, file_id) -> bool:
    return any(p.get("emailAddress") == "auditor@partner.com" for p in google.permissions(file_id))


def test_owner_approves_and_the_share_removes_itself(
    running, slack, google, alice, bob, audit_pack
):
    """Bob asks by slash command; Alice approves; the auditor can read; at expiry the share
    is gone and both are told."""
    ask(bob, audit_pack, duration="6s")
    request = approval_request(slack, alice)

    slack.click_button(
        alice.user_id, request["channel"], request["ts"], button(request, "grant_approve:")
    )

    slack.wait_for(lambda: auditor_can_read(google, audit_pack), timeout=10,
                   message="the permission was not created")  # fmt: skip
    slack.wait_for(lambda: not auditor_can_read(google, audit_pack), timeout=20,
                   message="the permission outlived the grant")  # fmt: skip
    slack.wait_for(lambda: any("Access ended" in all_text(m) for m in bob.dms()), timeout=10,
                   message="Bob was not told")  # fmt: skip
    slack.wait_for(lambda: any("Access ended" in all_text(m) for m in alice.dms()), timeout=10,
                   message="Alice was not told")  # fmt: skip


def test_deny_with_a_reason(running, slack, google, alice, bob, audit_pack):
    """Alice denies and says why; Bob reads the reason; nothing is shared."""
    ask(bob, audit_pack)
    request = approval_request(slack, alice)

    slack.click_button(
        alice.user_id, request["channel"], request["ts"], button(request, "grant_deny:")
    )
    slack.wait_for(lambda: slack.top_view(alice.user_id), message="no deny modal")
    slack.submit_view(alice.user_id, {"deny_reason": {"reason": "Use the shared audit folder"}})

    slack.wait_for(
        lambda: any("Use the shared audit folder" in all_text(m) for m in bob.dms()),
        timeout=10, message="Bob did not get the reason",
    )  # fmt: skip
    assert not auditor_can_read(google, audit_pack)


def test_a_disallowed_role_is_refused_with_the_reason(running, slack, bob, audit_pack):
    """Owner role is not grantable: Bob is told which roles are, with an example."""
    url = f"https://docs.google.com/document/d/{audit_pack}/edit"
    bob.runs(f"/access {url} to auditor@partner.com as owner for 3d because takeover")

    answers = slack.wait_for(bob.ephemerals, message="Bob got no answer")
    assert "“owner” is not a role" in all_text(answers[-1])


def test_missing_parts_are_named(running, slack, bob, audit_pack):
    """Without a duration and reason, Bob is told exactly what is missing."""
    bob.runs(f"/access {audit_pack} to auditor@partner.com as reader")

    answers = slack.wait_for(bob.ephemerals, message="Bob got no answer")
    assert "duration, reason" in all_text(answers[-1])


def approve(slack, alice: Person) -> None:
    request = approval_request(slack, alice)
    slack.click_button(
        alice.user_id, request["channel"], request["ts"], button(request, "grant_approve:")
    )


def test_cli_lists_and_revokes_a_grant(running, slack, google, alice, bob, audit_pack):
    """An operator sees the active grant and ends it from the command line; Bob is told."""
    ask(bob, audit_pack)
    approve(slack, alice)
    slack.wait_for(lambda: auditor_can_read(google, audit_pack), timeout=10,
                   message="the permission was not created")  # fmt: skip

    listing = running.cli("grants", "list")
    revoked = running.cli("grants", "revoke", "1")

    assert "active" in listing.stdout and "auditor@partner.com" in listing.stdout
    assert revoked.returncode == 0 and "removed" in revoked.stdout
    assert not auditor_can_read(google, audit_pack)
    slack.wait_for(lambda: any("Access ended" in all_text(m) for m in bob.dms()), timeout=10,
                   message="Bob was not told")  # fmt: skip


def test_a_grant_that_expired_while_warden_was_down_goes_right_after_start(
    running, slack, google, alice, bob, audit_pack
):
    """Warden is stopped before the grant ends; started after, it removes the share at once."""
    ask(bob, audit_pack, duration="4s")
    approve(slack, alice)
    slack.wait_for(lambda: auditor_can_read(google, audit_pack), timeout=10,
                   message="the permission was not created")  # fmt: skip
    assert running.stop() == 0

    time.sleep(5)  # the grant ends while Warden is down
    assert auditor_can_read(google, audit_pack)
    running.start()

    slack.wait_for(lambda: not auditor_can_read(google, audit_pack), timeout=10,
                   message="the overdue grant was not revoked after start")  # fmt: skip


def test_app_home_shows_time_left_and_revokes(running, slack, google, alice, bob, audit_pack):
    """Bob sees his live grant with the time left on his Home tab, and ends it from there."""
    ask(bob, audit_pack)
    approve(slack, alice)
    slack.wait_for(lambda: auditor_can_read(google, audit_pack), timeout=10,
                   message="the permission was not created")  # fmt: skip

    bob.opens_home()
    home = slack.wait_for(
        lambda: (h := bob.home()) and "left" in all_text(h) and h, timeout=10,
        message="the grant is not on the Home tab",
    )  # fmt: skip
    assert "2d 23h left" in all_text(home)
    slack.click_view_button(bob.user_id, button(home, "grant_revoke_now:"))

    slack.wait_for(lambda: not auditor_can_read(google, audit_pack), timeout=10,
                   message="Revoke now did nothing")  # fmt: skip



def modal_fields(view: dict) -> dict:
    found = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        chosen = (element.get("initial_option") or {}).get("value")
        found[block.get("block_id")] = element.get("initial_value") or chosen
    return found


def test_missing_parts_are_asked_in_a_prefilled_form(running, slack, alice, bob, audit_pack):
    """`/access` without duration and reason opens the form with the rest filled in."""
    bob.runs(f"/access {audit_pack} to auditor@partner.com as reader")
    form = slack.wait_for(lambda: slack.top_view(bob.user_id), message="no form opened")
    assert modal_fields(form)["access_grantee"] == "auditor@partner.com"
    assert modal_fields(form)["access_role"] == "reader"

    slack.submit_view(bob.user_id, {"access_duration": {"value": "2d"},
                                    "access_reason": {"value": "SOC 2 evidence"}})  # fmt: skip

    request = approval_request(slack, alice)
    assert "2 day(s)" in all_text(request)


def test_a_bad_duration_in_the_form_is_shown_beside_it(running, slack, bob, audit_pack):
    """The form answers "soon" with the forms a duration may take."""
    bob.runs(f"/access {audit_pack} to auditor@partner.com as reader")
    slack.wait_for(lambda: slack.top_view(bob.user_id), message="no form opened")

    slack.submit_view(bob.user_id, {"access_duration": {"value": "soon"},
                                    "access_reason": {"value": "SOC 2 evidence"}})  # fmt: skip

    assert "3d, 12h or 30m" in slack.view_errors(bob.user_id)["access_duration"]


def test_a_dm_leads_to_the_same_form(running, slack, alice, bob, audit_pack):
    """ "share <url> with … for 3 days" in a DM gets a button that opens the prefilled form."""
    url = f"https://docs.google.com/document/d/{audit_pack}/edit"
    bob.says_to_warden(f"share {url} with auditor@partner.com for 3 days")
    reply = bob.wait_for_dms(1)[0]

    slack.click_button(bob.user_id, reply["channel"], reply["ts"], "access_open_form")
    form = slack.wait_for(lambda: slack.top_view(bob.user_id), message="no form opened")
    assert modal_fields(form)["access_duration"] == "3d"
    slack.submit_view(bob.user_id, {"access_role": {"value": "reader"},
                                    "access_reason": {"value": "SOC 2 evidence"}})  # fmt: skip

    approval_request(slack, alice)


def test_the_request_access_shortcut_opens_the_form(running, slack, bob):
    """The global shortcut opens an empty request form."""
    slack.global_shortcut(bob.user_id, "request_access")

    form = slack.wait_for(lambda: slack.top_view(bob.user_id), message="no form opened")
    assert form["title"]["text"] == "Request access"


def test_extend_from_the_reminder_goes_through_approval_again(
    running, slack, google, alice, bob, audit_pack
):
    """Bob's 12-hour grant is within a day of its end: the reminder offers Extend; Alice
    approves the extension and the same share stays, longer."""
    ask(bob, audit_pack, duration="12h")
    approve(slack, alice)
    slack.wait_for(lambda: auditor_can_read(google, audit_pack), timeout=10,
                   message="the permission was not created")  # fmt: skip
    running.stop()
    running.start()  # the first sweep after start sends due reminders

    reminder = slack.wait_for(
        lambda: next((m for m in bob.dms() if "Access ends" in all_text(m)), None),
        timeout=15, message="no reminder before expiry",
    )  # fmt: skip
    slack.click_button(
        bob.user_id, reminder["channel"], reminder["ts"], button(reminder, "grant_extend:")
    )
    slack.wait_for(lambda: slack.top_view(bob.user_id), message="no extend form")
    slack.submit_view(bob.user_id, {"extend_duration": {"value": "2d"},
                                    "extend_reason": {"value": "the audit overran"}})  # fmt: skip

    extension = slack.wait_for(
        lambda: next((m for m in alice.dms() if "Extension of access 1" in all_text(m)), None),
        timeout=15, message="Alice was not asked to approve the extension",
    )  # fmt: skip
    slack.click_button(
        alice.user_id, extension["channel"], extension["ts"], button(extension, "grant_approve:")
    )

    listing = slack.wait_for(
        lambda: "extended" in (out := running.cli("grants", "list", "--all").stdout) and out,
        timeout=15, message="the extension was not recorded",
    )  # fmt: skip
    assert "active" in listing
    assert [
        p for p in google.permissions(audit_pack) if p.get("emailAddress") == "auditor@partner.com"
    ]


@pytest.fixture
def github():
    from tests.emulators.github import GitHubEmulator

    with GitHubEmulator() as emulator:
        for login in ("warden-bot", "dana", "octocat"):
            emulator.add_user(login)
        emulator.add_org("acme", owners=["warden-bot"])
        emulator.add_repo("acme/payments", private=True, admins=["dana"])
        yield emulator


def test_github_collaborator_invited_on_a_repo_admins_approval_and_withdrawn(
    slack, github, workdir, bob
):
    """Dana, a repository admin named in the policy, approves; octocat is invited; when the
    day is over (here: seconds) the unanswered invitation is withdrawn."""
    dana = Person(slack, slack.add_user("dana", "dana@example.com", tz="UTC"))
    policy = policy_text("#security", "sam@example.com") + (
        "people:\n  - {email: dana@example.com, github: dana}\ngrants:\n  enabled: true\n"
    )
    (workdir / "warden.yaml").write_text(policy)
    env = {"GITHUB_TOKEN": github.token_for("warden-bot"), "GITHUB_API_URL": github.url}
    process = WardenProcess(slack, workdir, env).start()
    try:
        bob.runs("/access acme/payments to octocat as pull for 6s because pairing on the fix")
        request = approval_request(slack, dana)
        slack.click_button(dana.user_id, request["channel"], request["ts"],
                           button(request, "grant_approve:"))  # fmt: skip

        slack.wait_for(lambda: github.invitations("acme/payments"), timeout=10,
                       message="octocat was not invited")  # fmt: skip
        slack.wait_for(lambda: not github.invitations("acme/payments"), timeout=20,
                       message="the invitation outlived the grant")  # fmt: skip
    finally:
        process.stop()


def test_a_grant_cut_off_between_drive_and_the_store_is_settled_on_start(
    running, slack, google, workdir, alice, bob, audit_pack
):
    """Drive made the permission but the process died before recording it (the store says
    `approved`, nothing created): on start Warden adopts that permission, no second one."""
    ask(bob, audit_pack)
    approve(slack, alice)
    slack.wait_for(lambda: auditor_can_read(google, audit_pack), timeout=10,
                   message="the permission was not created")  # fmt: skip
    assert running.stop(signal.SIGKILL) != 0
    with sqlite3.connect(workdir / "warden.db") as db:
        db.execute("UPDATE grants SET status = 'approved', created_ref = NULL, expires_at = NULL")

    running.start()

    listing = slack.wait_for(
        lambda: "active" in (out := running.cli("grants", "list").stdout) and out,
        timeout=15, message="the interrupted grant was not settled",
    )  # fmt: skip
    assert "auditor@partner.com" in listing
    auditor = [
        p for p in google.permissions(audit_pack) if p.get("emailAddress") == "auditor@partner.com"
    ]
    assert len(auditor) == 1
