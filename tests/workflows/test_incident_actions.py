"""Block IP against moto's WAFv2 in-process: expiry lifts, a cut-off call is settled,
and only the incident's own public addresses can be blocked."""

from datetime import timedelta

import pytest

from integrations.waf import IpSetRef, WafBlocklist
from state import Store
from state import incidents as rows
from state.clock import utcnow
from tests.emulators.aws import REGION, MotoServer, offline_session
from tests.workflows.test_incidents import Recorder
from workflows.incident_actions import Effects, IncidentActions
from workflows.incidents import IncidentPolicy, IncidentsWorkflow, Invalid, NotAllowed, Report

ATTACKER = "185.220.101.4"


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        yield server


@pytest.fixture
def setup(tmp_path, moto):
    created = moto.create_ip_set()
    blocklist = WafBlocklist(IpSetRef(created.name, created.id, created.scope), region=REGION,
                             endpoint_url=moto.url, session=offline_session())  # fmt: skip
    with Store(tmp_path / "w.db") as store:
        rules = IncidentPolicy(["other"], timedelta(hours=1), 2, [timedelta(days=1)])
        incidents = IncidentsWorkflow(store, Recorder(), rules, lambda: ["USAM"])
        effects = Effects(blocklist=blocklist, block_expiry=timedelta(days=30))
        incident = incidents.report(Report("other", f"scans from {ATTACKER} and 10.0.0.8",
                                           "UALICE", "command"))  # fmt: skip
        yield IncidentActions(store, incidents, effects), incident, blocklist, store


def test_a_block_is_lifted_at_its_expiry(setup):
    actions, incident, blocklist, store = setup

    actions.block_ip(incident["id"], "USAM", ATTACKER)
    assert blocklist.blocked() == {f"{ATTACKER}/32"}
    assert actions.lift_expired_blocks(utcnow() + timedelta(days=29)) == 0
    assert actions.lift_expired_blocks(utcnow() + timedelta(days=31)) == 1

    assert blocklist.blocked() == set()
    actions_seen = [e["action"] for e in rows.events(store.db, incident["id"])]
    assert actions_seen[-2:] == ["ip_blocked", "ip_unblocked"]


def test_only_public_addresses_of_the_incident_and_only_analysts(setup):
    actions, incident, blocklist, _ = setup

    with pytest.raises(Invalid, match="not a public address of this incident"):
        actions.block_ip(incident["id"], "USAM", "10.0.0.8")
    with pytest.raises(Invalid):
        actions.block_ip(incident["id"], "USAM", "8.8.8.8")
    with pytest.raises(NotAllowed):
        actions.block_ip(incident["id"], "UALICE", ATTACKER)
    actions.block_ip(incident["id"], "USAM", ATTACKER)
    with pytest.raises(Invalid, match="already blocked"):
        actions.block_ip(incident["id"], "USAM", ATTACKER)
    assert blocklist.blocked() == {f"{ATTACKER}/32"}


def test_a_block_cut_off_by_a_crash_is_finished_by_the_sweep(setup):
    actions, incident, blocklist, store = setup
    with store.transaction() as db:  # as a crash between the record and the call leaves it
        block_id = rows.insert(db, "ip_blocks", incident_id=incident["id"], address=ATTACKER,
                               status="blocking", blocked_by="USAM")  # fmt: skip

    actions.sweep(utcnow() + timedelta(minutes=5))

    assert blocklist.blocked() == {f"{ATTACKER}/32"}
    assert rows.rows(store.db, "ip_blocks", "id = ?", [block_id])[0]["status"] == "blocked"


def test_a_quarantine_cut_off_by_a_crash_can_still_be_restored(tmp_path):
    from integrations.google import DIRECTORY_SCOPE, DRIVE_SCOPE, GoogleWorkspace
    from tests.e2e.harness import GOOGLE_ADMIN
    from tests.emulators.google import GoogleEmulator

    with GoogleEmulator() as google, Store(tmp_path / "w.db") as store:
        for email in (GOOGLE_ADMIN, "alice@example.com"):
            google.add_user(email, admin=email == GOOGLE_ADMIN)
        info = google.service_account_info()
        google.grant_delegation(info["client_id"], [DRIVE_SCOPE, DIRECTORY_SCOPE])
        workspace = GoogleWorkspace(info, GOOGLE_ADMIN, google.url)
        file_id = google.add_file("alice@example.com", "Payroll")
        google.share(file_id, "user", "writer", email="bob@partner.example")
        google.share(file_id, "anyone", "reader")
        rules = IncidentPolicy(["other"], timedelta(hours=1), 2, [timedelta(days=1)])
        incidents = IncidentsWorkflow(store, Recorder(), rules, lambda: ["USAM"])
        actions = IncidentActions(store, incidents, Effects(drive=workspace,
                                                            admin_email=GOOGLE_ADMIN))
        incident = incidents.report(Report(
            "other", f"see https://drive.google.com/file/d/{file_id}/view", "UALICE", "command"))
        permissions = [p for p in google.permissions(file_id) if p["role"] != "owner"]
        with store.transaction() as db:  # the crash: recorded, one share already removed
            quarantine_id = rows.insert(
                db, "quarantines", incident_id=incident["id"], file_id=file_id,
                file_name="Payroll", owner="alice@example.com", status="quarantining",
                removed=[{k: p[k] for k in ("type", "role", "emailAddress") if k in p}
                         for p in permissions], quarantined_by="USAM",
            )  # fmt: skip
        google.unshare(file_id, permissions[0]["id"])

        with pytest.raises(Invalid, match="already in quarantine"):
            actions.quarantine(incident["id"], "USAM", file_id)
        actions.sweep(utcnow() + timedelta(minutes=5))
        actions.restore(quarantine_id, "USAM")

        assert len(google.permissions(file_id)) == 3


def test_two_presses_of_create_ticket_open_one_issue(tmp_path):
    import threading
    import time

    from workflows.incident_tickets import TicketDesk

    class SlowTickets:
        """Takes its time, like GitHub under load; counts what it was asked to open."""

        def __init__(self):
            self.opened = []

        def open_ticket(self, repo, title, body, labels=()):
            time.sleep(0.2)
            self.opened.append(title)
            return type("Ticket", (), {"number": len(self.opened), "url": "https://t/1"})()

    with Store(tmp_path / "w.db") as store:
        rules = IncidentPolicy(["other"], timedelta(hours=1), 2, [timedelta(days=1)])
        incidents = IncidentsWorkflow(store, Recorder(), rules, lambda: ["USAM"])
        incident = incidents.report(Report("other", "odd", "UALICE", "command"))
        tickets = SlowTickets()
        desk = TicketDesk(store, incidents, tickets, "example/sec", None)
        outcomes = []

        def press():
            try:
                outcomes.append(desk.create_ticket(incident["id"], "USAM")["ticket_number"])
            except Invalid as refusal:
                outcomes.append(str(refusal))

        presses = [threading.Thread(target=press) for _ in range(2)]
        for thread in presses:
            thread.start()
        for thread in presses:
            thread.join()

        assert len(tickets.opened) == 1
        assert sorted(map(str, outcomes)) == ["1", "Incident 1 already has ticket #1."]


def test_a_page_cut_off_between_request_and_send_goes_out_with_the_sweep(tmp_path):
    from integrations.pagerduty import PagerDuty
    from tests.emulators.pagerduty import PagerDutyEmulator

    with PagerDutyEmulator() as pagerduty, Store(tmp_path / "w.db") as store:
        routing_key = pagerduty.add_service("on-call")
        rules = IncidentPolicy(["other"], timedelta(hours=1), 2, [timedelta(days=1)])
        incidents = IncidentsWorkflow(store, Recorder(), rules, lambda: ["USAM"])
        actions = IncidentActions(store, incidents, Effects(
            pager=PagerDuty(routing_key, pagerduty.events_url)))
        incident = incidents.report(Report("other", "ransom note on a laptop", "UALICE",
                                           "command"))  # fmt: skip
        with store.transaction() as db:  # the crash: requested, never sent
            rows.update(db, incident["id"], page_requested_at="2026-01-01T00:00:00+00:00")

        with pytest.raises(Invalid, match="already paged"):
            actions.page(incident["id"], "USAM")
        actions.sweep()

        assert pagerduty.alert(routing_key, "warden-incident-1").status == "triggered"
        assert rows.get(store.db, incident["id"])["paged_at"] is not None
        actions.sweep()
        assert len(pagerduty.alerts(routing_key)) == 1
