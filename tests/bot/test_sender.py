"""The outbox sender, with a stand-in for Slack's Web API client."""

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.sender import OutboxSender, next_attempt_delay
from state import Store, outbox
from state.clock import utcnow


class FakeSlack:
    """Answers api_call from a script of results; records what was sent."""

    def __init__(self, *results):
        self.results = list(results)
        self.sent: list[tuple[str, dict]] = []

    def conversations_open(self, users: str):
        self.sent.append(("conversations.open", {"users": users}))
        return {"channel": {"id": f"D-{users}"}}

    def api_call(self, method: str, json: dict):
        self.sent.append((method, json))
        result = self.results.pop(0) if self.results else {"ok": True, "channel": "D1", "ts": "1.0"}
        if isinstance(result, Exception):
            raise result
        return _response(200, result)


def _response(status: int, data: dict) -> SlackResponse:
    return SlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://slack.test/api/x",
        req_args={},
        data=data,
        headers={},
        status_code=status,
    )


def _error(status: int, error: str) -> SlackApiError:
    return SlackApiError(error, _response(status, {"ok": False, "error": error}))


def _queue(store: Store, *channels: str) -> None:
    with store.transaction() as db:
        for channel in channels:
            outbox.enqueue(db, "chat.postMessage", {"channel": channel, "text": "hi"})


def test_sent_message_records_the_ts(tmp_path):
    """A delivered message is marked sent with the channel and ts Slack returned."""
    store = Store(tmp_path / "w.db")
    _queue(store, "D1")

    sent = OutboxSender(store, FakeSlack()).drain()

    assert sent == 1
    row = next(store.db["outbox"].rows)
    assert row["status"] == "sent"
    assert '"ts": "1.0"' in row["response"]


def test_permanent_error_fails_that_message_and_sends_the_next(tmp_path):
    """channel_not_found will never succeed: it is marked failed and the queue moves on."""
    store = Store(tmp_path / "w.db")
    _queue(store, "C-gone", "D1")
    slack = FakeSlack(_error(200, "channel_not_found"))

    OutboxSender(store, slack).drain()

    statuses = [row["status"] for row in store.db["outbox"].rows]
    assert statuses == ["failed", "sent"]


def test_outage_postpones_and_keeps_the_order(tmp_path):
    """While Slack answers 503 the first message waits and the second is not sent past it."""
    store = Store(tmp_path / "w.db")
    _queue(store, "D1", "D2")
    slack = FakeSlack(*[_error(503, "service_unavailable")] * 2)

    sent = OutboxSender(store, slack, attempts_per_pass=2).drain()

    assert sent == 0
    assert [call[1]["channel"] for call in slack.sent] == ["D1", "D1"]
    assert outbox.pending_count(store.db) == 2
    first = next(store.db["outbox"].rows)
    assert first["attempts"] == 1 and first["next_attempt_at"] > first["created_at"]


def test_backoff_grows_and_is_capped_at_a_minute():
    """Passes are spaced 2, 4, 8 … seconds apart, never more than 60."""
    delays = [next_attempt_delay(n).total_seconds() for n in (1, 2, 3, 10)]

    assert delays == [2, 4, 8, 60]


def test_dm_to_a_user_opens_the_conversation_and_tells_the_hook(tmp_path):
    """A DM queued by user id goes to the bot's DM with them; the hook learns where."""
    store = Store(tmp_path / "w.db")
    with store.transaction() as db:
        outbox.enqueue(db, "chat.postMessage", {"dm_user": "U7", "text": "hi"}, "note:42")
    landed = []
    slack = FakeSlack()

    OutboxSender(
        store, slack, on_sent={"note": lambda db, key, sent: landed.append((key, sent))}
    ).drain()

    assert slack.sent[0] == ("conversations.open", {"users": "U7"})
    assert slack.sent[1][1] == {"channel": "D-U7", "text": "hi"}
    assert landed == [("note:42", {"channel": "D1", "ts": "1.0"})]


def test_an_update_refreshed_while_in_flight_goes_out_again_with_the_newer_payload(tmp_path):
    store = Store(tmp_path / "w.db")
    with store.transaction() as db:
        outbox.enqueue(db, "chat.update", {"channel": "C1", "ts": "1.0", "text": "v1"}, "card:1:a")

    class RefreshingSlack(FakeSlack):
        def api_call(self, method: str, json: dict):
            if json["text"] == "v1":  # a newer render arrives while v1 is on the wire
                with store.transaction() as db:
                    outbox.refresh_pending(db, "card:1:", {**json, "text": "v2"})
            return super().api_call(method, json)

    slack = RefreshingSlack()
    sender = OutboxSender(store, slack)
    sender.drain()
    assert sender.drain() == 0  # the newer render waits a moment: updates are spaced
    row = next(store.db["outbox"].rows)
    assert row["status"] == "pending" and row["next_attempt_at"] > row["created_at"]
    with store.transaction() as db:
        outbox.defer(db, row["id"], utcnow())
    sender.drain()

    assert [payload["text"] for _, payload in slack.sent] == ["v1", "v2"]
    assert next(store.db["outbox"].rows)["status"] == "sent"


def test_a_failing_hook_does_not_send_the_message_twice(tmp_path):
    store = Store(tmp_path / "w.db")
    with store.transaction() as db:
        outbox.enqueue(db, "chat.postMessage", {"channel": "C1", "text": "card"}, "card:7")

    def broken_hook(db, dedup_key, sent):
        db.execute("UPDATE outbox SET attempts = 99")  # undone with the savepoint
        raise RuntimeError("a bug in the hook")

    slack = FakeSlack()
    sender = OutboxSender(store, slack, on_sent={"card": broken_hook})
    sender.drain()
    sender.drain()

    assert len(slack.sent) == 1
    row = next(store.db["outbox"].rows)
    assert row["status"] == "sent" and row["attempts"] == 1


def test_a_refused_token_keeps_every_message_for_later(tmp_path):
    store = Store(tmp_path / "w.db")
    _queue(store, "D1", "D2", "D3")

    sent = OutboxSender(store, FakeSlack(_error(200, "token_revoked"))).drain()

    assert sent == 0
    statuses = [row["status"] for row in store.db["outbox"].rows]
    assert statuses == ["pending", "pending", "pending"]
    first = next(store.db["outbox"].rows)
    assert first["last_error"] == "token_revoked" and first["next_attempt_at"] > first["created_at"]
