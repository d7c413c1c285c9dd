from __future__ import annotations

import pytest

from tests.e2e.harness import Person, WardenProcess, policy_text
from tests.emulators.slack import SlackEmulator


@pytest.fixture
def slack():
    emulator = SlackEmulator().start()
    yield emulator
    emulator.stop()
    # Anything Warden sent that real Slack would have refused fails the test.
    assert emulator.problems() == []


@pytest.fixture
def alice(slack) -> Person:
    """An employee."""
    return Person(slack, slack.add_user("alice", "alice@example.com", tz="Europe/Berlin"))


@pytest.fixture
def sam(slack) -> Person:
    """The security analyst named in the policy."""
    return Person(slack, slack.add_user("sam", "sam@example.com", tz="America/New_York"))


@pytest.fixture
def security_channel(slack, sam) -> str:
    return slack.add_channel("security", members=[sam.user_id])


@pytest.fixture
def workdir(tmp_path, security_channel):
    (tmp_path / "warden.yaml").write_text(policy_text("#security", "sam@example.com"))
    return tmp_path


@pytest.fixture
def warden(slack, workdir, alice, sam):
    """The real process, connected to the emulator."""
    process = WardenProcess(slack, workdir).start()
    yield process
    if process.proc and process.proc.poll() is None:
        process.stop()
