from state import Store, cursors, findings
from state.findings import Seen


def seen(file_id: str, scope: str = "alice@example.com", rule: str = "anyone_with_link") -> Seen:
    return Seen(
        fingerprint=f"{rule}|{file_id}",
        scanner="drive",
        rule=rule,
        severity="high",
        scope=scope,
        subject_id=file_id,
        subject_name=f"File {file_id}",
        owner=scope,
        details={"permission_id": "p1"},
    )


def run(store: Store, items: list[Seen], done_scopes=(), failed_scopes=()):
    with store.transaction() as db:
        run_id = findings.start_run(db, "drive", "full")
        new, ongoing = findings.record_seen(db, run_id, items)
        for scope in done_scopes:
            findings.record_scope(db, run_id, scope)
        for scope in failed_scopes:
            findings.record_scope(db, run_id, scope, error="403 forbidden")
        resolved = findings.resolve_unseen_in_scopes(db, run_id, "drive")
    return new, ongoing, resolved


def test_first_sighting_is_new_then_ongoing(tmp_path):
    """A finding is new the first time and ongoing while it is still seen."""
    store = Store(tmp_path / "w.db")

    first = run(store, [seen("f1")], done_scopes=["alice@example.com"])
    second = run(store, [seen("f1")], done_scopes=["alice@example.com"])

    assert len(first[0]) == 1 and first[1] == 0
    assert second[0] == [] and second[1] == 1


def test_unseen_finding_in_a_completed_scope_is_resolved(tmp_path):
    """A finding the next complete scan does not see is resolved."""
    store = Store(tmp_path / "w.db")
    (finding_id,), _, _ = run(store, [seen("f1")], done_scopes=["alice@example.com"])

    _, _, resolved = run(store, [], done_scopes=["alice@example.com"])

    assert resolved == [finding_id]
    assert findings.get_finding(store.db, finding_id)["status"] == "resolved"


def test_failed_scope_resolves_nothing(tmp_path):
    """A Drive the scan could not read proves nothing: its findings stay open."""
    store = Store(tmp_path / "w.db")
    run(store, [seen("f1")], done_scopes=["alice@example.com"])

    _, _, resolved = run(store, [], failed_scopes=["alice@example.com"])

    assert resolved == []
    assert len(findings.open_findings(store.db, "drive")) == 1


def test_resolved_finding_seen_again_opens_as_new(tmp_path):
    """Sharing a file publicly again reopens its finding so the owner hears again."""
    store = Store(tmp_path / "w.db")
    (finding_id,), _, _ = run(store, [seen("f1")], done_scopes=["alice@example.com"])
    run(store, [], done_scopes=["alice@example.com"])

    new, _, _ = run(store, [seen("f1")], done_scopes=["alice@example.com"])

    assert new == [finding_id]
    assert findings.get_finding(store.db, finding_id)["status"] == "open"


def test_incremental_resolution_touches_only_named_files(tmp_path):
    """After a changes-feed scan only the changed files' findings can resolve."""
    store = Store(tmp_path / "w.db")
    run(store, [seen("f1"), seen("f2")], done_scopes=["alice@example.com"])

    with store.transaction() as db:
        run_id = findings.start_run(db, "drive", "incremental")
        resolve = findings.resolve_unseen_subjects
        resolved = resolve(db, run_id, "drive", "alice@example.com", ["f2"])
        elsewhere = resolve(db, run_id, "drive", "bob@example.com", ["f1"])

    assert [findings.get_finding(store.db, i)["subject_id"] for i in resolved] == ["f2"]
    assert elsewhere == []  # another scope's feed cannot resolve Alice's finding


def test_run_figures_are_kept(tmp_path):
    """A finished run keeps its counts and requests by method."""
    store = Store(tmp_path / "w.db")
    with store.transaction() as db:
        run_id = findings.start_run(db, "drive", "full")
        findings.finish_run(
            db, run_id, "finished", items_seen=3, requests={"drive.files.list": 2}, new_count=1
        )

    stored = findings.get_run(store.db, run_id)

    assert stored["status"] == "finished"
    assert stored["requests"] == {"drive.files.list": 2}


def test_cursor_round_trip(tmp_path):
    """A change token survives until replaced."""
    store = Store(tmp_path / "w.db")
    with store.transaction() as db:
        cursors.put(db, "drive:changes:alice", "41")
        cursors.put(db, "drive:changes:alice", "42")

    assert cursors.get(store.db, "drive:changes:alice") == "42"
    assert cursors.get(store.db, "nothing") is None
