"""The findings workflow in-process: a real store and outbox, stand-ins for Slack's
directory and for the Drive fix (narrow fakes: the end-to-end tests use emulators)."""

import json
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from bot.findings_notifier import SlackFindingsNotifier
from bot.policy import parse_policy
from state import Store, findings
from state.findings import Seen
from workflows.findings import FindingsWorkflow, NotAllowed, ReminderPolicy
from workflows.people import People

POLICY = parse_policy(
    'company: {name: Example, domains: [example.com]}\nsecurity_channel: "#security"\n'
    "analysts: [sam@example.com]\n"
)
PEOPLE = {
    "U_ALICE": {"email": "alice@example.com", "tz": "Europe/Berlin"},
    "U_SAM": {"email": "sam@example.com", "tz": "America/New_York"},
    "U_EVE": {"email": "eve@example.com", "tz": "UTC"},
}
MONDAY_10_BERLIN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Directory:
    def person(self, slack_user_id):
        found = PEOPLE.get(slack_user_id)
        return found and self._shape(slack_user_id, found)

    def person_by_email(self, email):
        for user_id, found in PEOPLE.items():
            if found["email"] == email:
                return self._shape(user_id, found)
        return None

    def _shape(self, user_id, found):
        return {"slack_user_id": user_id, "email": found["email"], "display_name": user_id,
                "real_name": user_id, "tz": found["tz"], "tz_offset": 0}  # fmt: skip


class Remediator:
    def __init__(self):
        self.fixed = []

    def fix(self, finding):
        self.fixed.append(finding["id"])
        return "removed the link"


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "w.db")


@pytest.fixture
def remediator():
    return Remediator()


@pytest.fixture
def people_workflow_with(store):
    def build(remediator):
        reminders = ReminderPolicy(
            cadence=[timedelta(days=1), timedelta(days=3)], escalate=True,
            start=time(9), end=time(18), days=["mon", "tue", "wed", "thu", "fri"],
        )  # fmt: skip
        people = People(store, Directory(), POLICY)
        return FindingsWorkflow(
            store, people, SlackFindingsNotifier(POLICY), {"drive": remediator}, reminders,
            max_exception=timedelta(days=90),
        )  # fmt: skip

    return build


@pytest.fixture
def workflow(people_workflow_with, remediator):
    return people_workflow_with(remediator)


def scan(store, *items):
    with store.transaction() as db:
        run_id = findings.start_run(db, "drive", "full")
        new, _ = findings.record_seen(db, run_id, items)
    return run_id, new


def seen(file_id, owner="alice@example.com", severity="high"):
    return Seen(
        fingerprint=f"fp-{file_id}", scanner="drive", rule="anyone_with_link",
        severity=severity, scope=f"user:{owner}", subject_id=file_id,
        subject_name=f"Doc {file_id}", owner=owner,
        details={"permission_id": "p1", "shared_with": "anyone", "role": "reader",
                 "link": f"https://docs.example/{file_id}"},
    )  # fmt: skip


def queued(store, method=None):
    rows = store.db.query("SELECT method, payload, dedup_key FROM outbox ORDER BY id")
    return [
        {"method": r["method"], "key": r["dedup_key"], **json.loads(r["payload"])}
        for r in rows
        if method is None or r["method"] == method
    ]


def deliver_dms(store, channel="D_ALICE", ts="100.1"):
    """What the outbox sender's hook does once Slack accepted the DM."""
    notifier = SlackFindingsNotifier(POLICY)
    with store.transaction() as db:
        for item in queued(store, "chat.postMessage"):
            if item["key"] and item["key"].startswith("finding-dm:"):
                notifier.hooks()["finding-dm"](db, item["key"], {"channel": channel, "ts": ts})


def test_one_dm_per_owner_and_the_channel_for_owners_outside_slack(store, workflow):
    """Two findings of Alice's make one DM; a stranger's file goes to the security channel."""
    run_id, new = scan(store, seen("a"), seen("b", severity="critical"), seen("c", "x@example.com"))

    workflow.notify_new(run_id, new)

    posts = queued(store, "chat.postMessage")
    dms = [p for p in posts if p.get("dm_user") == "U_ALICE"]
    assert len(dms) == 1
    text = json.dumps(dms[0]["blocks"])
    assert text.index("Doc b") < text.index("Doc a")  # most severe first
    assert [p["channel"] for p in posts if "channel" in p] == ["#security"]


def test_owner_fixes_once_even_when_clicking_twice(store, workflow, remediator):
    """Fix it for me applies the fix once and re-renders the DM saying so."""
    run_id, (fid,) = scan(store, seen("a"))
    workflow.notify_new(run_id, [fid])
    deliver_dms(store)

    workflow.fix(fid, "U_ALICE")
    workflow.fix(fid, "U_ALICE")

    assert remediator.fixed == [fid]
    assert findings.get_finding(store.db, fid)["status"] == "fixed"
    updates = queued(store, "chat.update")
    assert updates[-1]["ts"] == "100.1" and "Fixed" in json.dumps(updates[-1]["blocks"])


def test_a_stranger_cannot_press_the_owners_button(store, workflow, remediator):
    """Eve is neither the owner nor an analyst: refused, and the refusal is audited."""
    _, (fid,) = scan(store, seen("a"))

    with pytest.raises(NotAllowed):
        workflow.fix(fid, "U_EVE")

    assert remediator.fixed == []
    actions = [row["action"] for row in store.db["audit_log"].rows]
    assert "finding.refused" in actions


def test_an_analyst_may_fix_anyones_finding(store, workflow, remediator):
    """Security analysts can press any finding's buttons."""
    _, (fid,) = scan(store, seen("a"))

    workflow.fix(fid, "U_SAM")

    assert remediator.fixed == [fid]


def test_reminders_wait_for_the_owners_working_hours(store, workflow):
    """A reminder due on Saturday waits until Monday morning in Berlin."""
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), tick=False):
        run_id, new = scan(store, seen("a"))
        workflow.notify_new(run_id, new)

    with time_machine.travel(datetime(2026, 12, 5, 12, 0, tzinfo=UTC), tick=False):
        assert workflow.send_due_reminders() == 0

    with time_machine.travel(MONDAY_10_BERLIN, tick=False):
        assert workflow.send_due_reminders() == 1
    assert any((p["key"] or "").startswith(f"reminder:{new[0]}:1:") for p in queued(store))


def test_after_the_last_reminder_security_hears_of_it(store, workflow):
    """Reminders on the cadence, then one escalation naming the owner."""
    with time_machine.travel(MONDAY_10_BERLIN, tick=False):
        run_id, (fid,) = scan(store, seen("a"))
        workflow.notify_new(run_id, [fid])
    for days in (1, 3, 4, 5):
        with time_machine.travel(MONDAY_10_BERLIN + timedelta(days=days), tick=False):
            workflow.send_due_reminders()

    keys = [p["key"] for p in queued(store) if p["key"]]
    assert any(k.startswith(f"reminder:{fid}:1:") for k in keys)
    assert any(k.startswith(f"reminder:{fid}:2:") for k in keys)
    escalations = [p for p in queued(store) if (p["key"] or "").startswith("escalation:")]
    assert len(escalations) == 1
    assert "<@U_ALICE>" in json.dumps(escalations[0]["blocks"])


def test_exception_approved_by_an_analyst_silences_until_it_expires(store, workflow):
    """Owner asks, the analyst approves, reminders stop, and come back at expiry."""
    with time_machine.travel(MONDAY_10_BERLIN, tick=False):
        run_id, (fid,) = scan(store, seen("a"))
        workflow.notify_new(run_id, [fid])
        request = workflow.request_exception(fid, "U_ALICE", "Shared with the auditor", 7)
        with pytest.raises(NotAllowed):
            workflow.decide_exception(request["id"], "U_ALICE", approve=True)
        workflow.decide_exception(request["id"], "U_SAM", approve=True)

    with time_machine.travel(MONDAY_10_BERLIN + timedelta(days=3), tick=False):
        assert workflow.send_due_reminders() == 0
    with time_machine.travel(MONDAY_10_BERLIN + timedelta(days=7, hours=1), tick=False):
        assert workflow.send_due_reminders() == 1


def test_exception_longer_than_policy_allows_is_refused(store, workflow):
    """The policy's maximum is enforced on the server, not just in the modal."""
    _, (fid,) = scan(store, seen("a"))

    with pytest.raises(ValueError, match="1 to 90 days"):
        workflow.request_exception(fid, "U_ALICE", "forever please", 365)


def test_resolved_finding_thanks_the_owner_in_the_same_dm(store, workflow):
    """A finding the next scan no longer sees updates the DM once with thanks."""
    run_id, (fid,) = scan(store, seen("a"))
    workflow.notify_new(run_id, [fid])
    deliver_dms(store)
    with store.transaction() as db:
        db.execute("UPDATE findings SET status = 'resolved' WHERE id = ?", [fid])

    workflow.thank_resolved([fid])

    updates = queued(store, "chat.update")
    assert len(updates) == 1 and "thank you" in json.dumps(updates[0]["blocks"])


def test_working_hours_are_the_owners_own(store, workflow):
    """At 08:30 UTC it is 09:30 in Berlin: Alice is reminded; at 07:30 UTC she is not."""
    with time_machine.travel(datetime(2026, 12, 4, 7, 0, tzinfo=UTC), tick=False):
        run_id, new = scan(store, seen("a"))
        workflow.notify_new(run_id, new)

    with time_machine.travel(datetime(2026, 12, 7, 7, 30, tzinfo=UTC), tick=False):
        assert workflow.send_due_reminders() == 0
    with time_machine.travel(datetime(2026, 12, 7, 8, 30, tzinfo=UTC), tick=False):
        assert workflow.send_due_reminders() == 1


def test_an_expired_exception_starts_the_reminders_again(store, workflow):
    """Escalated, then excepted: when the exception ends the owner is reminded, not re-escalated."""
    with time_machine.travel(MONDAY_10_BERLIN, tick=False):
        run_id, (fid,) = scan(store, seen("a"))
        workflow.notify_new(run_id, [fid])
    for days in (1, 3, 4):
        with time_machine.travel(MONDAY_10_BERLIN + timedelta(days=days), tick=False):
            workflow.send_due_reminders()
    with time_machine.travel(MONDAY_10_BERLIN + timedelta(days=4), tick=False):
        request = workflow.request_exception(fid, "U_ALICE", "Needed for the audit", 3)
        workflow.decide_exception(request["id"], "U_SAM", approve=True)

    with time_machine.travel(MONDAY_10_BERLIN + timedelta(days=7, hours=1), tick=False):
        assert workflow.send_due_reminders() == 1

    reminders = [p for p in queued(store) if (p["key"] or "").startswith(f"reminder:{fid}:1:")]
    assert len(reminders) == 2  # the first cycle's, and the new cycle's
    assert len([p for p in queued(store) if (p["key"] or "").startswith("escalation:")]) == 1


def test_two_clicks_at_once_fix_once(store, workflow, remediator):
    """Two people (or two clicks) racing: the claim in the store lets one through."""
    import threading

    _, (fid,) = scan(store, seen("a"))
    start = threading.Barrier(2)

    def click(actor):
        start.wait()
        workflow.fix(fid, actor)

    threads = [threading.Thread(target=click, args=(actor,)) for actor in ("U_ALICE", "U_SAM")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert remediator.fixed == [fid]


def test_a_fix_drive_refuses_leaves_the_finding_open(store, people_workflow_with):
    """Drive says no: the finding is open as before, the failure is audited, the person told."""
    from workflows.findings import FixFailed

    class Refusing:
        def fix(self, finding):
            raise RuntimeError("403 insufficientFilePermissions")

    workflow = people_workflow_with(Refusing())
    _, (fid,) = scan(store, seen("a"))

    with pytest.raises(FixFailed, match="nothing changed"):
        workflow.fix(fid, "U_ALICE")

    assert findings.get_finding(store.db, fid)["status"] == "open"
    assert "finding.fix_failed" in [row["action"] for row in store.db["audit_log"].rows]


def test_findings_of_a_running_scan_wait_for_it_and_nobody_is_told_twice(store, workflow):
    """The sweep leaves a running scan's findings alone; after the scan, one DM."""
    run_id, new = scan(store, seen("a"))

    assert workflow.notify_pending() == 0  # the scan is still running
    with store.transaction() as db:
        findings.finish_run(db, run_id, "finished")
    workflow.notify_new(run_id, new)
    workflow.notify_pending()
    workflow.notify_new(run_id, new)

    dms = [p for p in queued(store, "chat.postMessage") if p.get("dm_user") == "U_ALICE"]
    assert len(dms) == 1
