"""`warden ids replay`: tune the policy against a recorded Suricata log."""

from pathlib import Path

from bot.cli import main
from state import Store
from tests.e2e.harness import policy_text

RECORDED = Path(__file__).parents[1] / "fixtures" / "eve" / "suricata-recorded.json"


def use_policy(tmp_path, monkeypatch, incidents: str) -> None:
    policy = tmp_path / "warden.yaml"
    policy.write_text(policy_text("#security", "UANALYST1") + incidents)
    monkeypatch.setenv("WARDEN_POLICY", str(policy))
    monkeypatch.setenv("WARDEN_DB", str(tmp_path / "warden.db"))


def test_dry_run_lists_what_the_log_would_open_and_writes_nothing(tmp_path, monkeypatch, capsys):
    use_policy(tmp_path, monkeypatch, "incidents:\n  suricata:\n    min_severity: 1\n")

    assert main(["ids", "replay", str(RECORDED), "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "49 lines" in out and "28 alerts" in out and "1 incident(s) at severity 1" in out
    assert "2024833 ET POLICY Observed IP Lookup Domain" in out
    assert not (tmp_path / "warden.db").exists()


def test_replay_opens_the_incidents_for_the_bot_to_post(tmp_path, monkeypatch, capsys):
    use_policy(tmp_path, monkeypatch, "incidents:\n  enabled: true\n")

    assert main(["ids", "replay", str(RECORDED)]) == 0

    assert "opened 4 incident(s)" in capsys.readouterr().out
    with Store(tmp_path / "warden.db") as store:
        cards = store.db.execute(
            "SELECT count(*) FROM outbox WHERE dedup_key LIKE 'incident-card:%'").fetchone()[0]
        assert cards == 4
        assignees = {row[0] for row in store.db.execute("SELECT assignee FROM incidents")}
        assert assignees == {"UANALYST1"}


def test_a_missing_file_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    use_policy(tmp_path, monkeypatch, "")

    assert main(["ids", "replay", str(tmp_path / "nope.json")]) == 2

    assert capsys.readouterr().err.strip() == f"warden: no EVE file at {tmp_path / 'nope.json'}"
