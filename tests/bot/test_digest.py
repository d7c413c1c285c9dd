"""The weekly digest: due on the policy's day from the start of working hours, once a week."""

from datetime import UTC, datetime

import pytest

from bot.digest import post_weekly_digest
from bot.policy import parse_policy
from state import Store

POLICY = parse_policy(
    'company: {name: Example, domains: [example.com]}\nsecurity_channel: "#security"\n'
    "analysts: [U0SAM]\nworking_hours: {start: '09:00', end: '18:00'}\n"
    "incidents: {enabled: true, digest_day: mon}\n"
)
MONDAY_EARLY = datetime(2026, 11, 30, 8, 59, tzinfo=UTC)
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NEXT_MONDAY = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "w.db") as store:
        yield store


def digests(store) -> list[str]:
    rows = store.db.execute("SELECT dedup_key FROM outbox WHERE dedup_key LIKE 'weekly-digest:%'")
    return [row[0] for row in rows]


def test_posted_once_a_week_on_its_day_after_the_start_of_work(store):
    assert not post_weekly_digest(store, POLICY, MONDAY_EARLY)
    assert post_weekly_digest(store, POLICY, MONDAY)
    assert not post_weekly_digest(store, POLICY, MONDAY.replace(hour=15))
    assert not post_weekly_digest(store, POLICY, TUESDAY)
    assert post_weekly_digest(store, POLICY, NEXT_MONDAY)

    assert digests(store) == ["weekly-digest:2026-W49", "weekly-digest:2026-W50"]
    payload = store.db.execute("SELECT payload FROM outbox LIMIT 1").fetchone()[0]
    assert "Security this week" in payload and '"channel": "#security"' in payload
