"""The Drive scanner and scan runs, through the real Google client against the emulator."""

import pytest

from bot.policy import parse_policy
from integrations.google import DIRECTORY_SCOPE, DRIVE_SCOPE, GoogleWorkspace
from scanners.drive import DriveScan, Page, ScopeFailed
from state import Store, findings
from tests.emulators.google import GoogleEmulator
from workflows.drive_scan import DriveScanRun

POLICY = parse_policy(
    'company: {name: Example, domains: [example.com]}\nsecurity_channel: "#security"\n'
    "analysts: [U0123]\nscanners:\n  drive: {enabled: true}\n"
)
ADMIN, ALICE, BOB = "admin@example.com", "alice@example.com", "bob@example.com"


@pytest.fixture
def google():
    with GoogleEmulator() as emulator:
        emulator.add_user(ADMIN, admin=True)
        emulator.add_user(ALICE)
        emulator.add_user(BOB)
        yield emulator


@pytest.fixture
def ws(google) -> GoogleWorkspace:
    info = google.service_account_info()
    google.grant_delegation(info["client_id"], [DRIVE_SCOPE, DIRECTORY_SCOPE])
    return GoogleWorkspace(info, ADMIN, google.url)


def scanner(ws) -> DriveScan:
    return DriveScan(ws, POLICY.scanners.drive, ["example.com"])


def found(events) -> list:
    return [f for event in events if isinstance(event, Page) for f in event.findings]


def test_full_scan_finds_each_kind_of_exposure(google, ws):
    """Public link, outside user, personal account; a share inside the company is fine."""
    plan = google.add_file(ALICE, "Plan")
    google.share(plan, "anyone", "reader")
    budget = google.add_file(BOB, "Budget")
    google.share(budget, "user", "writer", email="cfo@rival.com")
    google.share(budget, "user", "reader", email="bob.private@gmail.com")
    google.share(budget, "user", "reader", email=ALICE)

    results = found(scanner(ws).full())

    assert sorted((f.file_name, f.rule, f.owner) for f in results) == [
        ("Budget", "outside_user", BOB),
        ("Budget", "personal_account", BOB),
        ("Plan", "anyone_with_link", ALICE),
    ]


def test_shared_drive_items_are_read_as_a_member(google, ws):
    """A shared drive's items are listed as its organizer; the drive's own outside
    member is reported once against the drive, not per file."""
    drive_id = google.add_shared_drive("Finance", {BOB: "organizer", "ext@rival.com": "reader"})
    item = google.add_drive_file(drive_id, "Forecast", BOB)
    google.share(item, "anyone", "reader")
    google.add_drive_file(drive_id, "Quiet", BOB)

    results = found(scanner(ws).full())

    assert sorted((f.file_id, f.rule) for f in results) == sorted(
        [(drive_id, "outside_user"), (item, "anyone_with_link")]
    )


def test_one_listing_request_per_thousand_files(google, ws):
    """Permissions come inside the listing: 2,500 files cost 3 files.list calls."""
    google.bulk_add_files(ALICE, 2500, share_every=100)

    results = found(scanner(ws).full())

    assert len(results) == 25
    assert ws.requests["drive.files.list"] == 3 + 2  # Alice's 3 pages, one each for the others
    assert "drive.permissions.list" not in ws.requests


def test_rate_limits_are_waited_out_and_the_scan_completes(google, ws):
    """403 rateLimitExceeded and 429 are retried; the scan still sees everything."""
    google.share(google.add_file(ALICE, "Plan"), "anyone", "reader")
    google.fail_next("drive.files.list", status=403, reason="rateLimitExceeded")
    google.fail_next("drive.files.list", status=429, retry_after=1)

    events = list(scanner(ws).full())

    assert [f.file_name for f in found(events)] == ["Plan"]
    assert not [e for e in events if isinstance(e, ScopeFailed)]
    assert ws.requests["drive.files.list"] == 3 + 2


def test_a_drive_that_cannot_be_read_resolves_nothing(google, ws, tmp_path):
    """Bob's Drive answers 403: his open finding stays open, Alice's scan goes on."""
    store = Store(tmp_path / "w.db")
    google.share(google.add_file(BOB, "Budget"), "anyone", "reader")
    DriveScanRun(store, scanner(ws), ws.requests).full()
    google.deny_user(BOB)

    outcome = DriveScanRun(store, scanner(ws), ws.requests).full()

    assert outcome.failed_scopes == [f"user:{BOB}"]
    assert outcome.resolved_ids == []
    assert [f["subject_name"] for f in findings.open_findings(store.db)] == ["Budget"]
    assert findings.get_run(store.db, outcome.run_id)["status"] == "partial"


def test_incremental_scan_reads_only_the_changes(google, ws, tmp_path):
    """After a full scan, a new public share and a removed one are all the next scan reads."""
    store = Store(tmp_path / "w.db")
    google.bulk_add_files(ALICE, 1500)
    old = google.add_file(BOB, "Old")
    old_link = google.share(old, "anyone", "reader")
    first = DriveScanRun(store, scanner(ws), ws.requests).full()
    google.share(google.add_file(ALICE, "New"), "anyone", "reader")
    google.unshare(old, old_link)
    ws.requests.clear()

    outcome = DriveScanRun(store, scanner(ws), ws.requests).incremental()

    assert [findings.get_finding(store.db, i)["subject_name"] for i in outcome.new_ids] == ["New"]
    assert outcome.resolved_ids == first.new_ids
    assert "drive.files.list" not in ws.requests
    assert ws.requests["drive.changes.list"] == 3  # one per scope


def test_interrupted_full_scan_resumes_where_it_stopped(google, ws, tmp_path):
    """A scan that dies after Alice's first page goes on from her second, in the same run."""
    store = Store(tmp_path / "w.db")
    google.bulk_add_files(ALICE, 2500, share_every=500)

    class Crash(Exception):
        pass

    def dies_after_first_page(events):
        for event in events:
            yield event
            if isinstance(event, Page) and event.scope == f"user:{ALICE}":
                raise Crash

    run = DriveScanRun(store, scanner(ws), ws.requests)
    run_id, resume = run._start_or_resume("full")
    with pytest.raises(Crash):
        run._consume(run_id, "full", dies_after_first_page(scanner(ws).full(resume)))
    before = len(findings.open_findings(store.db))
    ws.requests.clear()

    outcome = DriveScanRun(store, scanner(ws), ws.requests).full()

    assert outcome.run_id == run_id
    assert before == 2 and len(findings.open_findings(store.db)) == 5
    assert ws.requests["drive.files.list"] == 2 + 1  # Alice's pages 2 and 3, then Bob
    assert findings.get_run(store.db, run_id)["status"] == "finished"


def test_a_user_google_will_not_act_as_is_skipped(google, ws, tmp_path):
    """Alice is suspended after the user list was read: Google refuses to act as her,
    her scope fails, and the scan finishes with Bob's finding."""
    store = Store(tmp_path / "w.db")
    google.share(google.add_file(BOB, "Budget"), "anyone", "reader")

    class SuspendedMidScan(GoogleWorkspace):
        def users(self):
            listed = list(super().users())
            google.set_suspended(ALICE)
            yield from listed

    suspending = SuspendedMidScan(ws._key_info, ADMIN, google.url)
    scan = DriveScan(suspending, POLICY.scanners.drive, ["example.com"])
    outcome = DriveScanRun(store, scan, suspending.requests).full()

    assert outcome.failed_scopes == [f"user:{ALICE}"]
    assert [findings.get_finding(store.db, i)["subject_name"] for i in outcome.new_ids] == [
        "Budget"
    ]
    assert findings.get_run(store.db, outcome.run_id)["status"] == "partial"


def test_a_sharees_feed_neither_claims_nor_resolves_the_owners_file(google, ws, tmp_path):
    """Alice's public file, shared with Bob too, is judged in Alice's scope only."""
    store = Store(tmp_path / "w.db")
    plan = google.add_file(ALICE, "Plan")
    link = google.share(plan, "anyone", "reader")
    DriveScanRun(store, scanner(ws), ws.requests).full()
    google.share(plan, "user", "reader", email=BOB)  # the change reaches Bob's feed too
    google.deny_user(ALICE)  # and Alice's own feed cannot be read this time

    outcome = DriveScanRun(store, scanner(ws), ws.requests).incremental()

    assert outcome.resolved_ids == [] and outcome.new_ids == []
    (open_finding,) = findings.open_findings(store.db)
    assert open_finding["owner"] == ALICE and open_finding["scope"] == f"user:{ALICE}"
    assert link


def test_a_shared_drive_change_is_the_drives_not_its_members(google, ws, tmp_path):
    """A drive item made public shows up in members' feeds but is reported for the drive."""
    store = Store(tmp_path / "w.db")
    drive_id = google.add_shared_drive("Finance", {BOB: "organizer", ALICE: "writer"})
    DriveScanRun(store, scanner(ws), ws.requests).full()
    item = google.add_drive_file(drive_id, "Forecast", BOB)
    google.share(item, "anyone", "reader")

    outcome = DriveScanRun(store, scanner(ws), ws.requests).incremental()

    (finding_id,) = outcome.new_ids
    finding = findings.get_finding(store.db, finding_id)
    assert finding["scope"] == f"drive:{drive_id}" and finding["owner"] == drive_id


def test_one_scan_at_a_time_but_a_dead_holder_frees_the_lease(google, ws, tmp_path):
    """A scan held by a live process refuses a second; one held by a dead process does not."""
    import json
    import socket

    from state import cursors
    from state.clock import to_iso, utcnow
    from workflows.drive_scan import LEASE_KEY, LEASE_TTL, ScanBusy

    store = Store(tmp_path / "w.db")
    until = to_iso(utcnow() + LEASE_TTL)
    live = f"{socket.gethostname()}:1:0"  # pid 1 is always alive
    with store.transaction() as db:
        cursors.put(db, LEASE_KEY, json.dumps({"holder": live, "until": until}))

    with pytest.raises(ScanBusy):
        DriveScanRun(store, scanner(ws), ws.requests).full()

    dead = f"{socket.gethostname()}:999999:0"
    with store.transaction() as db:
        cursors.put(db, LEASE_KEY, json.dumps({"holder": dead, "until": until}))
    outcome = DriveScanRun(store, scanner(ws), ws.requests).full()
    assert findings.get_run(store.db, outcome.run_id)["status"] == "finished"


def test_a_scan_that_keeps_dying_is_given_up(google, ws, tmp_path):
    """Three resumes at one checkpoint, then the run is marked failed and a fresh one starts."""
    import json

    from state import cursors
    from workflows.drive_scan import CHECKPOINT_KEY, MAX_RESUMES

    store = Store(tmp_path / "w.db")
    with store.transaction() as db:
        stuck = findings.start_run(db, "drive", "full")
        checkpoint = {"run_id": stuck, "done": [], "scope": None, "token": None,
                      "attempts": MAX_RESUMES}  # fmt: skip
        cursors.put(db, CHECKPOINT_KEY, json.dumps(checkpoint))

    outcome = DriveScanRun(store, scanner(ws), ws.requests).full()

    assert outcome.run_id != stuck
    assert findings.get_run(store.db, stuck)["status"] == "failed"
