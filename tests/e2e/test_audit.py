"""The audit log is append-only and tamper-evident, from the command line."""

import json
import sqlite3


def test_audit_verify_finds_an_edited_row(warden, workdir):
    """Someone edits an audit row behind Warden's back; `audit verify` names the row."""
    warden.stop()
    warden.start()
    warden.stop()
    assert warden.cli("audit", "verify").returncode == 0

    with sqlite3.connect(workdir / "warden.db") as db:
        db.execute("drop trigger if exists audit_log_no_update")
        for (name,) in db.execute("select name from sqlite_master where type='trigger'"):
            db.execute(f"drop trigger {name}")
        db.execute("update audit_log set actor = 'mallory' where id = 2")

    result = warden.cli("audit", "verify")

    assert result.returncode == 1
    assert "row 2" in result.stdout


def test_audit_export_prints_json_lines(warden, sam):
    """`audit export` prints one JSON object per row: the start, the analyst found, the stop."""
    warden.slack.wait_for(lambda: '"job": "people-sync"' in warden.logs(), message="no sync")
    warden.stop()

    result = warden.cli("audit", "export")

    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["action"] == "process.started"
    recognised = [row for row in rows if row["action"] == "analyst.recognised"]
    assert [row["subject"] for row in recognised] == [f"person:{sam.user_id}"]
    assert rows[-1]["action"] == "process.stopped"
