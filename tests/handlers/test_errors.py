"""The global error handler answers where the person is."""

import json
import logging

from slack_bolt import BoltResponse

from bot.errors import BadInput
from handlers.errors import handle_error


class RecordingClient:
    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, method):
        def call(**kwargs):
            self.calls.append((method, kwargs))
            return {"channel": {"id": "D1"}}

        return call


def test_known_error_before_ack_becomes_the_slash_command_answer():
    """A refused command answers in its own ack, seen only by the person."""
    body = {"command": "/access", "user_id": "U1", "response_url": "http://x"}

    response = handle_error(
        BadInput("roles are reader or writer"), body, RecordingClient(), BoltResponse(status=500)
    )

    payload = json.loads(response.body)
    assert payload["response_type"] == "ephemeral"
    assert "roles are reader or writer" in payload["text"]


def test_error_in_a_modal_submission_updates_the_modal():
    """A failed submission replaces the modal with the explanation instead of hanging."""
    body = {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1"}}

    response = handle_error(
        BadInput("pick a date"), body, RecordingClient(), BoltResponse(status=500)
    )

    payload = json.loads(response.body)
    assert payload["response_action"] == "update"
    assert "pick a date" in json.dumps(payload["view"])


def test_unknown_error_in_a_dm_replies_in_thread_with_an_id(caplog):
    """A bug shows the person a short id; the log line carries the same id."""
    body = {
        "type": "event_callback",
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": "D1",
            "user": "U1",
            "ts": "5.0",
        },
    }
    client = RecordingClient()

    with caplog.at_level(logging.ERROR):
        response = handle_error(KeyError("boom"), body, client, None)

    assert response is None
    method, kwargs = client.calls[0]
    assert method == "chat_postMessage" and kwargs["thread_ts"] == "5.0"
    error_id = caplog.records[0].error_id
    assert error_id in kwargs["text"]


def test_button_in_a_modal_gets_the_answer_in_the_modal():
    """After a button in a modal is acked, the modal itself shows the error."""
    body = {"type": "block_actions", "user": {"id": "U1"}, "view": {"id": "V9", "type": "modal"}}
    client = RecordingClient()

    handle_error(BadInput("only analysts may do that"), body, client, None)

    method, kwargs = client.calls[0]
    assert method == "views_update" and kwargs["view_id"] == "V9"
