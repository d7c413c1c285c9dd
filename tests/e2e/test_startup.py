"""Starting and stopping the process, and what it says when set up wrongly."""

import signal
import subprocess
import sys
import time

from tests.e2e.harness import REPO_ROOT, WardenProcess


def _run_warden(args, env, cwd):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_bot_token_is_one_line_and_exit_2(tmp_path):
    """Without SLACK_BOT_TOKEN the bot names the variable and where to get it."""
    result = _run_warden([], {"SLACK_APP_TOKEN": "xapp-1-test"}, tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SLACK_BOT_TOKEN" in lines[0]
    assert "OAuth & Permissions" in lines[0]


def test_missing_app_token_is_one_line_and_exit_2(tmp_path):
    """Without SLACK_APP_TOKEN the bot names it and the connections:write scope."""
    result = _run_warden(["run"], {"SLACK_BOT_TOKEN": "xoxb-test"}, tmp_path)

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "SLACK_APP_TOKEN" in result.stderr
    assert "connections:write" in result.stderr


def test_broken_policy_stops_the_bot_with_the_line(slack, workdir):
    """A policy with an unknown key keeps the bot from starting and points at the line."""
    policy = workdir / "warden.yaml"
    policy.write_text(policy.read_text() + "analyst:\n  - bob@example.com\n")
    process = WardenProcess(slack, workdir)

    result = process.cli("run")

    assert result.returncode == 2
    assert "line 7, col 1" in result.stderr
    assert "analysts" in result.stderr
    assert slack.connections_opened == 0


def test_check_config_passes_on_a_valid_policy(slack, workdir):
    """`warden check-config` exits 0 and says ok for a valid policy."""
    result = WardenProcess(slack, workdir).cli("check-config")

    assert result.returncode == 0
    assert "ok" in result.stdout


def test_sigterm_stops_cleanly_within_ten_seconds(warden):
    """SIGTERM closes the socket, stops the scheduler and exits 0 well within 10 s."""
    code = warden.stop(signal.SIGTERM, timeout=10)

    assert code == 0
    assert '"process.stopped"' in warden.logs()
    warden.slack.wait_for(lambda: not warden.slack.is_connected(), message="socket left open")


def test_sigterm_cuts_short_a_job_waiting_out_a_rate_limit(slack, workdir, sam):
    """A job told by Slack to wait 20 s does not hold up a SIGTERM."""
    slack.rate_limit("users.lookupByEmail", times=100, retry_after=20)
    process = WardenProcess(slack, workdir).start()
    slack.wait_for(lambda: "slack.retry" in process.logs(), message="people-sync never retried")

    started = time.monotonic()
    code = process.stop(signal.SIGTERM, timeout=10)

    assert code == 0
    assert time.monotonic() - started < 10


def test_sigint_stops_cleanly_too(warden):
    """Ctrl-C in a terminal stops the bot the same way."""
    assert warden.stop(signal.SIGINT, timeout=10) == 0


def test_tokens_never_reach_the_log(slack, workdir, alice):
    """Even at DEBUG, where Slack's SDK logs requests, no token is written."""
    process = WardenProcess(slack, workdir, {"LOG_LEVEL": "DEBUG"}).start()
    alice.runs("/warden help")
    alice.says_to_warden("help")
    alice.wait_for_dms(1)
    process.stop()

    logs = process.logs()
    assert "outbox.sent" in logs
    assert slack.bot_token not in logs
    assert slack.app_token not in logs
    assert slack.bot_token.split("-")[-1] not in logs
