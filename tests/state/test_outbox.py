import json
from datetime import timedelta

import pytest
from sqlite_utils import Database

from state import NotFound, Store, outbox
from state.clock import utcnow


def post(db: Database, text: str, dedup_key: str | None = None) -> int | None:
    return outbox.enqueue(db, "chat.postMessage", {"channel": "C1", "text": text}, dedup_key)


def test_enqueue_commits_with_the_transaction(memory_store: Store) -> None:
    """A message queued inside a transaction is due once it commits."""
    with memory_store.transaction() as db:
        item_id = post(db, "hello")

    items = outbox.due(memory_store.db)

    assert [item.id for item in items] == [item_id]
    assert items[0].payload == {"channel": "C1", "text": "hello"}
    assert items[0].attempts == 0


def test_enqueue_in_rolled_back_transaction_leaves_nothing(store: Store) -> None:
    """If the state change rolls back, so does its message."""
    with pytest.raises(RuntimeError), store.transaction() as db:
        post(db, "your access was granted")
        raise RuntimeError("granting failed")

    assert outbox.pending_count(store.db) == 0
    assert store.db.table("outbox").count == 0


def test_repeated_dedup_key_is_ignored(db: Database) -> None:
    """The same dedup_key twice queues one message; the second call returns None."""
    first = post(db, "reminder", dedup_key="reminder:finding:9:2024-05-01")

    second = post(db, "reminder again", dedup_key="reminder:finding:9:2024-05-01")

    assert first is not None
    assert second is None
    assert [item.payload["text"] for item in outbox.due(db)] == ["reminder"]


def test_messages_without_dedup_key_never_clash(db: Database) -> None:
    """A NULL dedup_key is never a duplicate."""
    post(db, "one")

    post(db, "two")

    assert outbox.pending_count(db) == 2


def test_due_is_oldest_first_and_respects_next_attempt_at(db: Database) -> None:
    """Items wait for their next attempt and come out in the order they were queued."""
    first, second, third = (post(db, text) for text in ("a", "b", "c"))
    now = utcnow()
    assert first is not None
    outbox.mark_retry(db, first, "ratelimited", now + timedelta(minutes=5))

    due_now = outbox.due(db, now=now)
    due_later = outbox.due(db, now=now + timedelta(minutes=6))

    assert [item.id for item in due_now] == [second, third]
    assert [item.id for item in due_later] == [first, second, third]
    assert due_later[0].attempts == 1


def test_due_honours_limit(db: Database) -> None:
    """due(limit=n) returns at most n items, the oldest."""
    ids = [post(db, str(n)) for n in range(5)]

    items = outbox.due(db, limit=2)

    assert [item.id for item in items] == ids[:2]


def test_mark_sent_keeps_the_response(db: Database) -> None:
    """A sent item stores Slack's answer and is no longer due."""
    item_id = post(db, "hello")
    assert item_id is not None

    outbox.mark_sent(db, item_id, {"channel": "C1", "ts": "1714555800.000100"})

    row = db.table("outbox").get(item_id)
    assert row["status"] == "sent"
    assert json.loads(row["response"]) == {"channel": "C1", "ts": "1714555800.000100"}
    assert row["sent_at"] is not None
    assert row["attempts"] == 1
    assert outbox.due(db) == []
    assert outbox.pending_count(db) == 0


def test_mark_failed_stops_retries(db: Database) -> None:
    """A permanent error marks the item failed with the reason, never due again."""
    item_id = post(db, "hello")
    assert item_id is not None

    outbox.mark_failed(db, item_id, "channel_not_found")

    row = db.table("outbox").get(item_id)
    assert (row["status"], row["last_error"]) == ("failed", "channel_not_found")
    assert outbox.due(db, now=utcnow() + timedelta(days=1)) == []


def test_marking_an_item_that_is_not_pending_is_an_error(db: Database) -> None:
    """Marking a sent or unknown item raises NotFound instead of rewriting history."""
    item_id = post(db, "hello")
    assert item_id is not None
    outbox.mark_sent(db, item_id, {"ok": True})

    with pytest.raises(NotFound, match="no longer pending"):
        outbox.mark_failed(db, item_id, "too late")
    with pytest.raises(NotFound):
        outbox.mark_sent(db, 999, {})


def test_enqueue_refuses_something_that_is_not_a_method(db: Database) -> None:
    """The method must look like a Slack Web API method."""
    with pytest.raises(ValueError, match="like chat.postMessage"):
        outbox.enqueue(db, "post message", {"text": "hi"})
