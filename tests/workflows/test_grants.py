"""The grants workflow in-process: a real store; narrow stand-ins for Drive/GitHub and Slack.
(The end-to-end tests run it against the emulators.)"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bot.policy import parse_policy
from state import Store
from workflows.grants import GrantsWorkflow, NotAllowed, Ownership, Refused, Request

POLICY = parse_policy(
    'company: {name: Example, domains: [example.com]}\nsecurity_channel: "#security"\n'
    "analysts: [U0SAM]\n"
    "grants:\n  enabled: true\n  denied_domains: [rival.com]\n"
    "  drive: {auto_approve: {roles: [reader], max_duration: 1d}}\n"
    "  allowed_domains: [partner.com]\n"
).grants
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class FakeDrive:
    """Remembers permissions like Drive does; `created` is what apply made."""

    def __init__(self):
        self.permissions: dict[str, dict] = {}
        self.applied = 0

    def ownership(self, resource, as_user):
        return Ownership("Launch plan", ["alice@example.com"])

    def apply(self, grant, notify):
        self.applied += 1
        ref = f"perm-{grant['id']}"
        self.permissions[ref] = {"grantee": grant["grantee"], "role": grant["role"]}
        return ref

    def find(self, grant):
        ref = f"perm-{grant['id']}"
        return ref if ref in self.permissions else None

    def revoke(self, grant):
        return self.permissions.pop(grant["created_ref"], None) is not None


class Notes:
    def __init__(self):
        self.sent = []

    def __getattr__(self, name):
        return lambda db, grant, *rest: self.sent.append((name, grant["id"], grant["status"]))


class Approvers:
    def slack_ids_for(self, kind, owners):
        return ["U_ALICE"] if "alice@example.com" in owners else []

    def analysts(self):
        return ["U_SAM"]


@pytest.fixture
def drive():
    return FakeDrive()


@pytest.fixture
def notes():
    return Notes()


@pytest.fixture
def grants(tmp_path, drive, notes):
    store = Store(tmp_path / "w.db")
    return GrantsWorkflow(store, POLICY, ["example.com"], {"drive": drive}, notes, Approvers())


def ask(**changes) -> Request:
    fields = dict(kind="drive", resource="1AbCdEfGhIjK", grantee="auditor@partner.com",
                  role="writer", duration=timedelta(days=3), reason="SOC 2 evidence",
                  requester="U_BOB")  # fmt: skip
    return Request(**{**fields, **changes})


def test_owner_approves_then_expiry_removes_exactly_what_was_made(grants, drive, notes):
    """Request → the file's owner approves → permission exists → at expiry it is gone."""
    with time_machine.travel(NOON, tick=False):
        grant = grants.submit(ask())
        grant = grants.decide(grant["id"], "U_ALICE", approve=True)
    assert grant["status"] == "active" and drive.permissions

    with time_machine.travel(NOON + timedelta(days=3, minutes=1), tick=False):
        assert grants.revoke_due() == 1

    assert drive.permissions == {}
    assert grants.get(grant["id"])["revoke_outcome"] == "expired; removed"
    assert ("ended", grant["id"], "revoked") in notes.sent


def test_nobody_approves_their_own_request(grants):
    """Alice asks for access to her own file: she cannot approve it herself."""
    grant = grants.submit(ask(requester="U_ALICE"))

    with pytest.raises(NotAllowed, match="own request"):
        grants.decide(grant["id"], "U_ALICE", approve=True)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"grantee": "spy@rival.com"}, "never goes to rival.com"),
        ({"grantee": "x@elsewhere.org"}, "only to partner.com"),
        ({"role": "owner"}, "reader, commenter, writer"),
        ({"duration": timedelta(days=45)}, "at most 30 days"),
    ],
)
def test_refusals_say_why_and_show_an_example(grants, change, reason):
    """A disallowed domain, role or duration is refused with the reason and a valid example."""
    with pytest.raises(Refused) as refused:
        grants.submit(ask(**change))

    assert reason in str(refused.value) and "For example: /access" in str(refused.value)


def test_deny_with_a_reason(grants, drive, notes):
    """The owner denies; nothing is applied and the requester hears why."""
    grant = grants.submit(ask())

    denied = grants.decide(grant["id"], "U_ALICE", approve=False, note="use the shared folder")

    assert denied["status"] == "denied" and denied["decision_note"] == "use the shared folder"
    assert drive.applied == 0
    assert ("decided", grant["id"], "denied") in notes.sent


def test_a_double_click_on_approve_gives_one_permission(grants, drive):
    """The second approval finds the grant decided and changes nothing."""
    grant = grants.submit(ask())

    grants.decide(grant["id"], "U_ALICE", approve=True)
    grants.decide(grant["id"], "U_SAM", approve=True)

    assert drive.applied == 1


def test_a_crash_after_drive_made_the_permission_is_adopted_not_repeated(grants, drive):
    """Approved in the store, created in Drive, then the process died: start adopts it."""
    grant = grants.submit(ask())
    with grants._store.transaction() as db:
        db.execute("UPDATE grants SET status = 'approved' WHERE id = ?", [grant["id"]])
    drive.permissions[f"perm-{grant['id']}"] = {"grantee": "auditor@partner.com"}

    grants.settle_interrupted()

    assert drive.applied == 0
    assert grants.get(grant["id"])["status"] == "active"


def test_a_crash_before_drive_was_called_applies_on_start(grants, drive):
    """Approved in the store, nothing in Drive: start applies it once."""
    grant = grants.submit(ask())
    with grants._store.transaction() as db:
        db.execute("UPDATE grants SET status = 'approved' WHERE id = ?", [grant["id"]])

    grants.settle_interrupted()

    assert drive.applied == 1 and grants.get(grant["id"])["status"] == "active"


def test_access_removed_by_hand_ends_cleanly(grants, drive):
    """Someone removed the permission in Drive first: recorded, not an error."""
    grant = grants.decide(grants.submit(ask())["id"], "U_ALICE", approve=True)
    drive.permissions.clear()

    ended = grants.revoke(grant["id"], "warden", "expired")

    assert ended["status"] == "revoked" and ended["revoke_outcome"] == "expired; already gone"


def test_a_request_nobody_decides_expires(grants, notes):
    """After the policy's request timeout the request expires and the requester is told."""
    with time_machine.travel(NOON, tick=False):
        grant = grants.submit(ask())
    with time_machine.travel(NOON + timedelta(days=2, minutes=1), tick=False):
        assert grants.expire_requests() == 1

    assert ("decided", grant["id"], "expired") in notes.sent


def test_small_requests_inside_allowed_domains_apply_at_once(grants, drive):
    """Reader for a day to a partner: the policy approves it without waiting."""
    grant = grants.submit(ask(role="reader", duration=timedelta(hours=12)))

    assert grant["status"] == "active" and grant["approver"] == "warden"


def test_revoke_now_is_for_the_requester_or_an_analyst(grants, drive):
    """The requester may end access early; a stranger may not."""
    grant = grants.decide(grants.submit(ask())["id"], "U_ALICE", approve=True)

    with pytest.raises(NotAllowed):
        grants.revoke_now(grant["id"], "U_EVE")
    ended = grants.revoke_now(grant["id"], "U_BOB")

    assert ended["status"] == "revoked" and drive.permissions == {}


def test_extend_asks_again_and_adds_the_time_to_the_live_grant(grants, drive):
    """Bob asks for two more days; Alice approves; the same permission lives on, longer."""
    with time_machine.travel(NOON, tick=False):
        grant = grants.decide(grants.submit(ask())["id"], "U_ALICE", approve=True)
        extension = grants.extend(grant["id"], "U_BOB", timedelta(days=2), "audit overran")
        with pytest.raises(NotAllowed):
            grants.decide(extension["id"], "U_BOB", approve=True)
        grants.decide(extension["id"], "U_ALICE", approve=True)

    assert drive.applied == 1
    assert grants.get(extension["id"])["status"] == "extended"
    with time_machine.travel(NOON + timedelta(days=3, hours=1), tick=False):
        assert grants.revoke_due() == 0
    with time_machine.travel(NOON + timedelta(days=5, minutes=1), tick=False):
        assert grants.revoke_due() == 1
