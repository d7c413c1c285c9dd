"""Runs the real Warden process against the Slack emulator, and lets a test
speak as the people in the workspace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.emulators.slack import SlackEmulator

REPO_ROOT = Path(__file__).resolve().parents[2]
GOOGLE_ADMIN = "admin@example.com"
CONNECT_TIMEOUT_SECONDS = 15


def policy_text(security_channel: str, analyst_email: str) -> str:
    return f"""\
company:
  name: Example Corp
  domains: [example.com]
security_channel: "{security_channel}"
analysts:
  - {analyst_email}
"""


class WardenProcess:
    """`python -m bot run` in a working folder, with the environment pointing at the emulator."""

    def __init__(self, slack: SlackEmulator, workdir: Path, extra_env: dict | None = None):
        self.slack = slack
        self.workdir = workdir
        self.log_path = workdir / "warden.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARDEN_"))},
            "PYTHONPATH": str(REPO_ROOT),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "WARDEN_POLICY": str(workdir / "warden.yaml"),
            "WARDEN_DB": str(workdir / "warden.db"),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> WardenProcess:
        connections_before = self.slack.connections_opened
        with open(self.log_path, "a") as log:
            # The child keeps its own copy of the descriptor after we close ours.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_connected(connections_before + 1)
        return self

    def wait_connected(self, connections: int) -> None:
        deadline = time.monotonic() + CONNECT_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"warden exited with {self.proc.returncode}:\n{self.logs()}")
            if self.slack.connections_opened >= connections and self.slack.is_connected():
                return
            time.sleep(0.02)
        raise AssertionError(f"warden did not connect in time:\n{self.logs()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send `sig` and wait for the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"warden ignored {sig} for {timeout}s:\n{self.logs()}") from None

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run another `warden` command with the same settings."""
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )


@dataclass
class Person:
    """Someone in the workspace, acting through the emulator."""

    slack: SlackEmulator
    user_id: str

    def runs(self, command_line: str):
        command, _, text = command_line.partition(" ")
        return self.slack.slash_command(self.user_id, command, text)

    def says_to_warden(self, text: str):
        return self.slack.dm_bot(self.user_id, text)

    def opens_home(self):
        return self.slack.open_home(self.user_id)

    def dms(self) -> list[dict]:
        return self.slack.dms_to(self.user_id)

    def ephemerals(self) -> list[dict]:
        return self.slack.ephemerals(self.user_id)

    def home(self) -> dict | None:
        return self.slack.home(self.user_id)

    def wait_for_dms(self, count: int, timeout: float = 10.0) -> list[dict]:
        return self.slack.wait_for(
            lambda: self.dms() if len(self.dms()) >= count else None,
            timeout=timeout,
            message=f"expected {count} DM(s) from Warden",
        )


def all_text(message: dict) -> str:
    """Everything a person reads in a message or view: its text and every block's text."""
    parts = [message.get("text") or ""]
    parts += [_block_text(block) for block in message.get("blocks") or []]
    return "\n".join(part for part in parts if part)


def _block_text(node) -> str:
    if isinstance(node, dict):
        own = node.get("text") if isinstance(node.get("text"), str) else ""
        return "\n".join([own] + [_block_text(value) for value in node.values()]).strip()
    if isinstance(node, list):
        return "\n".join(_block_text(item) for item in node)
    return ""


def google_env(google, workdir: Path) -> dict[str, str]:
    """Settings for Warden to reach the Google emulator: a delegated key, written once."""
    key_file = workdir / "google-key.json"
    if not key_file.exists():
        from integrations.google import DIRECTORY_SCOPE, DRIVE_SCOPE

        info = google.service_account_info()
        google.grant_delegation(info["client_id"], [DRIVE_SCOPE, DIRECTORY_SCOPE])
        key_file.write_text(json.dumps(info))
    return {
        "GOOGLE_SERVICE_ACCOUNT_FILE": str(key_file),
        "GOOGLE_ADMIN_EMAIL": GOOGLE_ADMIN,
        "GOOGLE_API_ENDPOINT": google.url,
    }


def button(message: dict, prefix: str) -> str:
    """The action id of the button starting with `prefix`, in a message or a view."""
    for block in message.get("blocks", []):
        candidates = list(block.get("elements", [])) + [block.get("accessory") or {}]
        for element in candidates:
            if element.get("action_id", "").startswith(prefix):
                return element["action_id"]
    raise AssertionError(f"no {prefix} button in {all_text(message)}")
