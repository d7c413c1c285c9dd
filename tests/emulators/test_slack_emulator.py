"""The Slack emulator answers the real slack_sdk and Bolt clients the way Slack does."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from tests.emulators.slack import SlackEmulator
from tests.emulators.slack.blocks import validate_blocks, validate_view

SKIP = object()  # a Recorder answer meaning "do not ack"


class FakeClock:
    """An injectable clock: time only moves when a test says so."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """A Socket Mode listener that keeps every request and acks as told."""

    def __init__(self, answer: Callable[[SocketModeRequest], Any] = lambda req: None) -> None:
        self.answer = answer
        self.requests: list[SocketModeRequest] = []

    def __call__(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        self.requests.append(req)
        payload = self.answer(req)
        if payload is not SKIP:
            response = SocketModeResponse(envelope_id=req.envelope_id, payload=payload)
            client.send_socket_mode_response(response)

    def of_type(self, kind: str) -> list[SocketModeRequest]:
        return [r for r in self.requests if r.type == kind]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[SlackEmulator]:
    with SlackEmulator(ack_timeout=0.3, clock=clock, seed=7) as emulator:
        yield emulator


@pytest.fixture
def web(emu: SlackEmulator) -> WebClient:
    return WebClient(token=emu.bot_token, base_url=emu.api_url)


@pytest.fixture
def alice(emu: SlackEmulator) -> str:
    return emu.add_user("alice", "alice@example.com", "Europe/London", "Alice Analyst")


@pytest.fixture
def security(emu: SlackEmulator, alice: str) -> str:
    return emu.add_channel("security", [alice])


@pytest.fixture
def connect(emu: SlackEmulator) -> Iterator[Callable[..., SocketModeClient]]:
    """Open real builtin Socket Mode clients; each is closed after the test."""
    clients: list[SocketModeClient] = []

    def open_client(recorder: Recorder | None = None, **options: Any) -> SocketModeClient:
        options.setdefault("ping_interval", 0.5)
        client = SocketModeClient(
            app_token=emu.app_token, web_client=WebClient(base_url=emu.api_url), **options
        )
        if recorder is not None:
            client.socket_mode_request_listeners.append(recorder)
        client.connect()
        clients.append(client)
        emu.wait_connected()
        return client

    yield open_client
    close_clients(emu, clients)


def close_clients(emu: SlackEmulator, clients: list[SocketModeClient]) -> None:
    """Close clients quickly: an idle builtin client blocks up to 3 s in recv otherwise."""
    for client in clients:
        client.auto_reconnect_enabled = False
    emu.close_sockets()
    for client in clients:
        client.close()


def post_form(url: str, fields: dict[str, str], token: str | None = None) -> tuple[int, Any]:
    """A raw form POST, the way older clients call Slack."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode())
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def api_error(call: Callable[[], Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id: str, value: str = "v") -> dict[str, Any]:
    text = {"type": "plain_text", "text": action_id.title()}
    return {"type": "button", "action_id": action_id, "text": text, "value": value}


def modal(callback_id: str = "request", **extra: Any) -> dict[str, Any]:
    label = {"type": "plain_text", "text": "Reason"}
    reason = {"type": "plain_text_input", "action_id": "text"}
    view = {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": "Request access"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [{"type": "input", "block_id": "reason", "label": label, "element": reason}],
    }
    return {**view, **extra}


# -- auth -------------------------------------------------------------------


def test_auth_test_describes_the_bot(emu: SlackEmulator, web: WebClient) -> None:
    """auth.test answers with the bot's ids, which Bolt needs to ignore itself."""
    answer = web.auth_test()

    assert answer["user_id"] == emu.bot_user_id
    assert answer["team_id"] == emu.team_id
    assert answer["bot_id"].startswith("B")
    assert answer["is_enterprise_install"] is False


def test_wrong_or_missing_tokens_are_refused(emu: SlackEmulator) -> None:
    """A bad token is invalid_auth, no token is not_authed, the wrong kind is refused."""
    assert api_error(WebClient(token="xoxb-nope", base_url=emu.api_url).auth_test).response[
        "error"
    ] == "invalid_auth"
    assert api_error(WebClient(base_url=emu.api_url).auth_test).response["error"] == "not_authed"
    bot = WebClient(token=emu.bot_token, base_url=emu.api_url)
    refused = api_error(lambda: bot.apps_connections_open(app_token=emu.bot_token))
    assert refused.response["error"] == "not_allowed_token_type"
    app = WebClient(token=emu.app_token, base_url=emu.api_url)
    assert api_error(app.auth_test).response["error"] == "not_allowed_token_type"


def test_token_may_come_as_a_form_field(emu: SlackEmulator) -> None:
    """Slack accepts the token in the body as well as in the Authorization header."""
    status, answer = post_form(f"{emu.api_url}auth.test", {"token": emu.bot_token})

    assert status == 200
    assert answer["ok"] is True


def test_connection_urls_are_single_use_websocket_links(emu: SlackEmulator) -> None:
    """apps.connections.open hands out a ws:// link that works exactly once."""
    app = WebClient(base_url=emu.api_url)
    url = app.apps_connections_open(app_token=emu.app_token)["url"]
    parsed = urllib.parse.urlparse(url)

    first, second = upgrade(parsed), upgrade(parsed)

    assert parsed.scheme == "ws" and parsed.path == "/link/"
    assert urllib.parse.parse_qs(parsed.query)["app_id"] == [emu.app_id]
    assert (first, second) == (101, 401)


def upgrade(url: urllib.parse.ParseResult) -> int:
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    headers = {
        "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
    }
    connection.request("GET", f"{url.path}?{url.query}", headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


# -- chat -------------------------------------------------------------------


def test_post_message_by_name_and_in_a_thread(
    emu: SlackEmulator, web: WebClient, security: str
) -> None:
    """chat.postMessage takes #name or an id and files replies under their parent."""
    parent = web.chat_postMessage(channel="#security", text="Incident 7 opened")
    reply = web.chat_postMessage(channel=security, text="enriched", thread_ts=parent["ts"])

    assert parent["channel"] == security
    assert parent["message"]["bot_id"] == emu.workspace.bot_id
    assert [m["text"] for m in emu.messages(security)] == ["Incident 7 opened"]
    assert [m["text"] for m in emu.thread(security, parent["ts"])] == [
        "Incident 7 opened", "enriched",
    ]
    assert reply["message"]["thread_ts"] == parent["ts"]


def test_post_message_refuses_unknown_and_foreign_channels(
    emu: SlackEmulator, web: WebClient, alice: str
) -> None:
    """channel_not_found for nothing there, not_in_channel where the bot is not a member."""
    emu.add_channel("general", [alice], bot_member=False)

    missing = api_error(lambda: web.chat_postMessage(channel="#nope", text="hi"))
    outside = api_error(lambda: web.chat_postMessage(channel="#general", text="hi"))

    assert missing.response["error"] == "channel_not_found"
    assert outside.response["error"] == "not_in_channel"


def test_invalid_blocks_come_back_with_pointers(web: WebClient, security: str) -> None:
    """A header over 150 characters is invalid_blocks with Slack's json-pointer message."""
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}

    refused = api_error(lambda: web.chat_postMessage(channel=security, text="t", blocks=[header]))

    assert refused.response["error"] == "invalid_blocks"
    assert refused.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_message_body_limits(web: WebClient, security: str) -> None:
    """No text and no blocks is no_text; over 40,000 characters is msg_too_long."""
    empty = api_error(lambda: web.chat_postMessage(channel=security, text=""))
    huge = api_error(lambda: web.chat_postMessage(channel=security, text="x" * 40_001))
    many = api_error(
        lambda: web.chat_postMessage(channel=security, text="t", blocks=[section("s")] * 51)
    )

    assert empty.response["error"] == "no_text"
    assert huge.response["error"] == "msg_too_long"
    assert many.response["error"] == "invalid_blocks"


def test_form_bodies_carry_blocks_as_json_strings(emu: SlackEmulator, security: str) -> None:
    """A form-encoded chat.postMessage sends blocks as a JSON string, as slack_sdk may."""
    fields = {"channel": security, "text": "t", "blocks": json.dumps([section("*hi*")])}

    status, answer = post_form(f"{emu.api_url}chat.postMessage", fields, emu.bot_token)

    assert status == 200 and answer["ok"] is True
    assert emu.messages(security)[0]["blocks"][0]["text"]["text"] == "*hi*"


def test_update_edits_only_the_bots_messages(
    emu: SlackEmulator, web: WebClient, alice: str, security: str
) -> None:
    """chat.update edits the bot's message; a person's is cant_update_message."""
    posted = web.chat_postMessage(channel=security, text="open")
    theirs = emu.say(alice, security, "look at this")

    web.chat_update(channel=security, ts=posted["ts"], text="resolved")
    foreign = api_error(lambda: web.chat_update(channel=security, ts=theirs, text="x"))
    missing = api_error(lambda: web.chat_update(channel=security, ts="1.000001", text="x"))

    assert emu.messages(security)[0]["text"] == "resolved"
    assert foreign.response["error"] == "cant_update_message"
    assert missing.response["error"] == "message_not_found"


def test_ephemeral_messages_reach_only_members(
    emu: SlackEmulator, web: WebClient, alice: str, security: str
) -> None:
    """chat.postEphemeral shows the message to one member; outsiders are refused."""
    bob = emu.add_user("bob", "bob@example.com")

    answer = web.chat_postEphemeral(channel=security, user=alice, text="only you")
    refused = api_error(lambda: web.chat_postEphemeral(channel=security, user=bob, text="x"))

    assert [m["text"] for m in emu.ephemerals(alice)] == ["only you"]
    assert emu.ephemerals(alice)[0]["ts"] == answer["message_ts"]
    assert emu.messages(security) == []
    assert refused.response["error"] == "user_not_in_channel"


def test_permalinks(web: WebClient, security: str) -> None:
    """chat.getPermalink links a message; a reply's link names its thread."""
    parent = web.chat_postMessage(channel=security, text="p")
    reply = web.chat_postMessage(channel=security, text="r", thread_ts=parent["ts"])

    top = web.chat_getPermalink(channel=security, message_ts=parent["ts"])["permalink"]
    threaded = web.chat_getPermalink(channel=security, message_ts=reply["ts"])["permalink"]
    missing = api_error(lambda: web.chat_getPermalink(channel=security, message_ts="1.2"))

    assert top.endswith(f"/archives/{security}/p{parent['ts'].replace('.', '')}")
    assert f"thread_ts={parent['ts']}" in threaded
    assert missing.response["error"] == "message_not_found"


# -- conversations and users -------------------------------------------------


def test_conversations_open_returns_the_same_im(
    emu: SlackEmulator, web: WebClient, alice: str
) -> None:
    """conversations.open gives one D… channel per person, every time."""
    first = web.conversations_open(users=alice)["channel"]["id"]
    again = web.conversations_open(users=[alice])

    assert first.startswith("D")
    assert again["channel"]["id"] == first and again["already_open"] is True
    assert api_error(lambda: web.conversations_open(users="U0NOBODY")).response[
        "error"
    ] == "user_not_found"


def test_conversations_info(web: WebClient, security: str) -> None:
    """conversations.info describes a channel; an unknown id is channel_not_found."""
    channel = web.conversations_info(channel=security)["channel"]

    assert (channel["name"], channel["is_member"], channel["is_private"]) == (
        "security", True, False,
    )
    assert api_error(lambda: web.conversations_info(channel="C0NOPE")).response[
        "error"
    ] == "channel_not_found"


def test_users_info_and_lookup_by_email(emu: SlackEmulator, web: WebClient) -> None:
    """users.info and users.lookupByEmail return the profile with tz and offset."""
    kenji = emu.add_user("kenji", "kenji@example.com", tz="Asia/Tokyo")

    by_id = web.users_info(user=kenji)["user"]
    by_email = web.users_lookupByEmail(email="KENJI@example.com")["user"]

    assert by_id["tz"] == "Asia/Tokyo" and by_id["tz_offset"] == 9 * 3600
    assert by_id["profile"]["email"] == "kenji@example.com"
    assert by_email["id"] == kenji
    assert api_error(lambda: web.users_info(user="U0NOPE")).response["error"] == "user_not_found"
    assert api_error(lambda: web.users_lookupByEmail(email="x@y.z")).response[
        "error"
    ] == "users_not_found"


# -- views ------------------------------------------------------------------


def test_trigger_ids_are_single_use(emu: SlackEmulator, web: WebClient, alice: str) -> None:
    """views.open consumes its trigger_id; a second use is exchanged_trigger_id."""
    trigger = emu.workspace.issue_trigger(alice)

    opened = web.views_open(trigger_id=trigger, view=modal())["view"]
    again = api_error(lambda: web.views_open(trigger_id=trigger, view=modal()))
    unknown = api_error(lambda: web.views_open(trigger_id="1.2.3", view=modal()))

    assert emu.top_view(alice)["id"] == opened["id"]
    assert again.response["error"] == "exchanged_trigger_id"
    assert unknown.response["error"] == "invalid_trigger_id"


def test_trigger_ids_expire_after_three_seconds(
    emu: SlackEmulator, web: WebClient, alice: str, clock: FakeClock
) -> None:
    """A trigger_id used more than 3 s after the interaction is expired_trigger_id."""
    trigger = emu.workspace.issue_trigger(alice)
    clock.advance(3.01)

    refused = api_error(lambda: web.views_open(trigger_id=trigger, view=modal()))

    assert refused.response["error"] == "expired_trigger_id"


def test_invalid_views_are_invalid_arguments(
    emu: SlackEmulator, web: WebClient, alice: str
) -> None:
    """A modal title over 24 characters is refused with a pointer into the view."""
    view = modal(title={"type": "plain_text", "text": "A title that is far too long"})

    refused = api_error(
        lambda: web.views_open(trigger_id=emu.workspace.issue_trigger(alice), view=view)
    )

    assert refused.response["error"] == "invalid_arguments"
    assert refused.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


def test_views_update_by_id_or_external_id_with_hash(
    emu: SlackEmulator, web: WebClient, alice: str
) -> None:
    """views.update finds a view by id or external_id; a stale hash is hash_conflict."""
    trigger = emu.workspace.issue_trigger(alice)
    opened = web.views_open(trigger_id=trigger, view=modal(external_id="grant-1"))["view"]

    second = modal("v2", external_id="grant-1")
    updated = web.views_update(view_id=opened["id"], view=second, hash=opened["hash"])
    web.views_update(external_id="grant-1", view=modal("v3", external_id="grant-1"))
    stale = api_error(
        lambda: web.views_update(view_id=opened["id"], view=modal(), hash=opened["hash"])
    )

    assert updated["view"]["callback_id"] == "v2"
    assert emu.top_view(alice)["callback_id"] == "v3"
    assert stale.response["error"] == "hash_conflict"


def test_views_push_stops_at_three(emu: SlackEmulator, web: WebClient, alice: str) -> None:
    """A modal stack holds three views; a fourth push is push_limit_reached."""
    issue = emu.workspace.issue_trigger
    web.views_open(trigger_id=issue(alice), view=modal("one"))
    web.views_push(trigger_id=issue(alice), view=modal("two"))
    web.views_push(trigger_id=issue(alice), view=modal("three"))

    refused = api_error(lambda: web.views_push(trigger_id=issue(alice), view=modal("four")))

    assert refused.response["error"] == "push_limit_reached"
    assert emu.top_view(alice)["callback_id"] == "three"


def test_views_publish_sets_the_home_tab(emu: SlackEmulator, web: WebClient, alice: str) -> None:
    """views.publish stores a person's Home tab; a modal there is refused."""
    home = {"type": "home", "blocks": [section("Your findings: none")]}

    web.views_publish(user_id=alice, view=home)
    refused = api_error(lambda: web.views_publish(user_id=alice, view=modal()))

    assert emu.home(alice)["blocks"][0]["text"]["text"] == "Your findings: none"
    assert refused.response["error"] == "invalid_arguments"


# -- faults and records --------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(
    emu: SlackEmulator, web: WebClient, security: str
) -> None:
    """rate_limit makes the next call HTTP 429 with Retry-After, then lifts."""
    emu.rate_limit("chat.postMessage", times=1, retry_after=7)

    limited = api_error(lambda: web.chat_postMessage(channel=security, text="hi"))
    web.chat_postMessage(channel=security, text="hi")

    assert limited.response.status_code == 429
    assert limited.response.headers["Retry-After"] == "7"
    assert limited.response["error"] == "ratelimited"


def test_per_minute_limit_frees_a_slot_as_time_passes(
    emu: SlackEmulator, web: WebClient, security: str, clock: FakeClock
) -> None:
    """set_rate_limit allows N calls in any minute and says when the next slot frees."""
    emu.set_rate_limit("chat.postMessage", per_minute=2)
    web.chat_postMessage(channel=security, text="1")
    clock.advance(20)
    web.chat_postMessage(channel=security, text="2")

    limited = api_error(lambda: web.chat_postMessage(channel=security, text="3"))
    clock.advance(40)
    web.chat_postMessage(channel=security, text="3")

    assert limited.response.headers["Retry-After"] == "40"
    assert emu.call_count("chat.postMessage") == 4
    assert [c["status"] for c in emu.calls("chat.postMessage")] == [200, 200, 429, 200]


def test_outage_fails_the_web_api_but_not_open_sockets(
    emu: SlackEmulator, web: WebClient, connect: Callable[..., SocketModeClient]
) -> None:
    """web_api_down answers 503 on /api/* while a connected socket stays up."""
    connect(Recorder())

    emu.web_api_down(True)
    down = api_error(web.auth_test)
    still_connected = emu.is_connected()
    emu.web_api_down(False)

    assert down.response.status_code == 503
    assert still_connected
    assert web.auth_test()["ok"] is True


def test_calls_are_recorded_without_tokens(emu: SlackEmulator, web: WebClient) -> None:
    """Every call is recorded with its method, parameters and time."""
    web.auth_test()
    web.api_call("users.info", params={"user": emu.bot_user_id})
    post_form(f"{emu.api_url}auth.test", {"token": emu.bot_token}, emu.bot_token)

    calls = emu.calls()

    assert [c["method"] for c in calls] == ["auth.test", "users.info", "auth.test"]
    assert calls[1]["params"] == {"user": emu.bot_user_id}
    assert "token" not in json.dumps(calls)


# -- Socket Mode ------------------------------------------------------------------


def test_hello_then_envelope_and_ack(
    emu: SlackEmulator, alice: str, connect: Callable[..., SocketModeClient]
) -> None:
    """The app hears hello, then a slash command it acks with a payload."""
    frames: list[str] = []
    recorder = Recorder(lambda req: {"text": "Working on it"})
    client = connect(recorder, on_message_listeners=[frames.append])

    delivery = emu.slash_command(alice, "/securityalert", "phish from 203.0.113.9")

    hello = json.loads(frames[0])
    assert hello["type"] == "hello" and hello["num_connections"] == 1
    assert hello["connection_info"]["app_id"] == emu.app_id
    command = recorder.requests[0]
    assert command.type == "slash_commands" and command.accepts_response_payload
    assert command.payload["text"] == "phish from 203.0.113.9"
    assert command.payload["response_url"].startswith(emu.base_url)
    assert delivery.ack_payload == {"text": "Working on it"} and delivery.latency > 0
    assert [m["text"] for m in emu.ephemerals(alice)] == ["Working on it"]
    assert emu.acks()[0][0] == "slash_commands"
    assert client.is_connected()


def test_a_missing_ack_is_a_clear_failure(
    emu: SlackEmulator, alice: str, connect: Callable[..., SocketModeClient]
) -> None:
    """No ack within 3 s fails the person's action, as Slack shows them an error."""
    connect(Recorder(lambda req: SKIP))

    with pytest.raises(AssertionError, match="did not ack the /access command within 3s"):
        emu.slash_command(alice, "/access")


def test_disconnect_makes_the_client_reconnect(
    emu: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    """Slack's disconnect message sends the client to a fresh connection URL."""
    connect(Recorder())

    emu.disconnect("refresh_requested")

    emu.wait_for(lambda: emu.connections_opened == 2, message="no reconnect after disconnect")
    emu.wait_for(lambda: len(emu.sockets.open_connections()) == 1, message="old socket open")
    assert emu.call_count("apps.connections.open") == 2


def test_a_dropped_socket_is_reopened(
    emu: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    """A TCP connection that dies without a close frame is noticed and replaced."""
    connect(Recorder())

    emu.drop_socket()

    emu.wait_for(lambda: emu.connections_opened == 2, timeout=10, message="no reconnect")
    emu.wait_connected()


def test_pings_are_answered(
    emu: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    """The builtin client's pings get pongs, so it never thinks the link is stale."""
    client = connect(Recorder(), ping_interval=0.2)

    emu.wait_for(lambda: client.current_session.last_ping_pong_time, message="no pong")
    time.sleep(1.5)  # > 4 ping intervals: a client without pongs would reconnect by now

    assert emu.connections_opened == 1


def test_unacked_events_are_redelivered(
    emu: SlackEmulator, alice: str, connect: Callable[..., SocketModeClient]
) -> None:
    """A lost events_api ack brings the same event_id back with retry_attempt 1."""
    recorder = Recorder()
    connect(recorder)
    emu.lose_acks(1)

    delivery = emu.dm_bot(alice, "access github read 1d")

    events = recorder.of_type("events_api")
    assert [(e.retry_attempt, e.retry_reason) for e in events] == [(0, ""), (1, "timeout")]
    assert events[0].payload["event_id"] == events[1].payload["event_id"]
    assert events[0].payload["event"]["channel_type"] == "im"
    assert delivery is not None and delivery.retry_attempt == 1


def test_events_are_retried_three_times_at_most(
    emu: SlackEmulator, alice: str, connect: Callable[..., SocketModeClient]
) -> None:
    """An event nobody acks is sent four times in all, then given up."""
    recorder = Recorder(lambda req: SKIP)
    connect(recorder)

    with pytest.raises(AssertionError, match="never acked"):
        emu.dm_bot(alice, "hello?")

    assert [e.retry_attempt for e in recorder.of_type("events_api")] == [0, 1, 2, 3]
    assert len(emu.sockets.failed_events) == 1


def test_the_bots_own_im_posts_come_back_as_events(
    emu: SlackEmulator, web: WebClient, alice: str, connect: Callable[..., SocketModeClient]
) -> None:
    """Slack sends the bot its own IM message (with bot_id); Bolt filters it."""
    recorder = Recorder()
    connect(recorder)

    web.chat_postMessage(channel=alice, text="You have 2 new findings")

    emu.wait_for(lambda: recorder.of_type("events_api"), message="no message event")
    event = recorder.of_type("events_api")[0].payload["event"]
    assert event["bot_id"] == emu.workspace.bot_id and event["channel_type"] == "im"
    assert emu.dms_to(alice)[0]["text"] == "You have 2 new findings"


def test_concurrent_clicks_are_all_acked(
    emu: SlackEmulator, web: WebClient, alice: str, security: str,
    connect: Callable[..., SocketModeClient],
) -> None:
    """Many people clicking at once each get their own envelope and ack."""
    connect(Recorder())
    card = web.chat_postMessage(
        channel=security, text="card", blocks=[{"type": "actions", "elements": [button("take")]}]
    )

    with ThreadPoolExecutor(max_workers=25) as pool:
        clicks = [
            pool.submit(emu.click_button, alice, security, card["ts"], "take")
            for _ in range(50)
        ]
        deliveries = [click.result() for click in clicks]

    assert len({d.envelope_id for d in deliveries}) == 50
    assert len(emu.acks()) == 50


def test_interaction_payloads_carry_slacks_fields(
    emu: SlackEmulator, web: WebClient, alice: str, security: str,
    connect: Callable[..., SocketModeClient],
) -> None:
    """Clicks and shortcuts arrive with container, trigger_id and response_url."""
    recorder = Recorder()
    connect(recorder)
    actions = {"type": "actions", "block_id": "card", "elements": [button("take", "inc-7")]}
    card = web.chat_postMessage(channel=security, text="card", blocks=[actions])

    emu.click_button(alice, security, card["ts"], "take", value="inc-7")
    emu.message_shortcut(alice, "report_message", security, card["ts"])
    emu.global_shortcut(alice, "request_access")

    click, shortcut, anywhere = (r.payload for r in recorder.of_type("interactive"))
    assert click["type"] == "block_actions"
    assert click["container"] == {
        "type": "message", "message_ts": card["ts"], "channel_id": security,
        "is_ephemeral": False,
    }
    assert (click["actions"][0]["block_id"], click["actions"][0]["value"]) == ("card", "inc-7")
    assert click["message"]["ts"] == card["ts"]
    assert click["response_url"].startswith(emu.base_url)
    assert shortcut["type"] == "message_action" and shortcut["message"]["text"] == "card"
    assert shortcut["channel"] == {"id": security, "name": "security"}
    assert (anywhere["type"], anywhere["callback_id"]) == ("shortcut", "request_access")
    assert all(p["trigger_id"] and p["user"]["id"] == alice for p in (click, shortcut, anywhere))


def test_submit_view_builds_state_values_per_element(
    emu: SlackEmulator, web: WebClient, alice: str, connect: Callable[..., SocketModeClient]
) -> None:
    """Each input type reports its value under Slack's key; an empty ack closes the modal."""
    recorder = Recorder()
    connect(recorder)
    options = [{"text": {"type": "plain_text", "text": t}, "value": t} for t in ("read", "write")]
    blocks = [
        field("reason", {"type": "plain_text_input"}),
        field("role", {"type": "static_select", "options": options}),
        field("approver", {"type": "users_select"}),
        field("until", {"type": "datepicker"}),
        field("flags", {"type": "checkboxes", "options": options}),
        field("scope", {"type": "radio_buttons", "options": options, "initial_option": options[0]}),
    ]
    web.views_open(trigger_id=emu.workspace.issue_trigger(alice), view=modal(blocks=blocks))

    emu.submit_view(alice, {
        "reason": {"v": "audit"}, "role": {"v": "write"}, "approver": {"v": alice},
        "until": {"v": "2025-07-01"}, "flags": {"v": ["read", "write"]},
    })

    values = recorder.of_type("interactive")[0].payload["view"]["state"]["values"]
    assert values["reason"]["v"] == {"type": "plain_text_input", "value": "audit"}
    assert values["role"]["v"]["selected_option"]["value"] == "write"
    assert values["approver"]["v"] == {"type": "users_select", "selected_user": alice}
    assert values["until"]["v"]["selected_date"] == "2025-07-01"
    assert [o["value"] for o in values["flags"]["v"]["selected_options"]] == ["read", "write"]
    assert values["scope"]["v"]["selected_option"]["value"] == "read"
    assert emu.top_view(alice) is None


def field(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
    label = {"type": "plain_text", "text": block_id.title()}
    return {"type": "input", "block_id": block_id, "label": label, "element": element | {
        "action_id": "v"}}


def test_view_buttons_are_found_in_the_modal_or_on_home(
    emu: SlackEmulator, web: WebClient, alice: str, connect: Callable[..., SocketModeClient]
) -> None:
    """click_view_button looks in the top modal first, then on the Home tab."""
    recorder = Recorder()
    connect(recorder)
    home = {"type": "home", "blocks": [{"type": "actions", "elements": [button("help")]}]}
    home_id = web.views_publish(user_id=alice, view=home)["view"]["id"]
    web.views_open(trigger_id=emu.workspace.issue_trigger(alice), view=modal())

    emu.click_view_button(alice, "help")

    click = recorder.of_type("interactive")[0].payload
    assert click["container"] == {"type": "view", "view_id": home_id}
    assert click["view"]["type"] == "home" and "response_url" not in click


def test_required_inputs_must_be_filled(
    emu: SlackEmulator, web: WebClient, alice: str
) -> None:
    """Slack's client will not submit a modal with a required input left empty."""
    web.views_open(trigger_id=emu.workspace.issue_trigger(alice), view=modal())

    with pytest.raises(AssertionError, match="'Reason' is required"):
        emu.submit_view(alice, {})


@pytest.mark.parametrize(
    ("answer", "stack"),
    [
        ({"response_action": "update", "view": modal("updated")}, ["updated"]),
        ({"response_action": "push", "view": modal("pushed")}, ["request", "pushed"]),
        ({"response_action": "clear"}, []),
        (None, []),
    ],
)
def test_view_submission_ack_steers_the_modal(
    emu: SlackEmulator, web: WebClient, alice: str, connect: Callable[..., SocketModeClient],
    answer: dict[str, Any] | None, stack: list[str],
) -> None:
    """response_action update, push and clear act on the stack; no payload closes it."""
    connect(Recorder(lambda req: answer))
    web.views_open(trigger_id=emu.workspace.issue_trigger(alice), view=modal())

    emu.submit_view(alice, {"reason": {"text": "because"}})

    shown = [emu.workspace.views[v].spec["callback_id"] for v in emu.workspace.modals[alice]]
    assert shown == stack
    assert emu.problems() == []


# -- a Bolt app end to end -------------------------------------------------------


@pytest.fixture
def bolt(emu: SlackEmulator) -> Iterator[App]:
    """A small Bolt app wired like Warden: commands, modals, buttons, Home."""
    app = App(client=WebClient(token=emu.bot_token, base_url=emu.api_url))
    register_listeners(app)
    handler = SocketModeHandler(app, emu.app_token, ping_interval=0.5)
    handler.connect()
    emu.wait_connected()
    yield app
    close_clients(emu, [handler.client])


def register_listeners(app: App) -> None:
    @app.command("/access")
    def access(ack: Any, body: dict, client: WebClient) -> None:
        ack()
        view = modal(notify_on_close=True)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view("request")
    def submitted(ack: Any, view: dict, body: dict, client: WebClient) -> None:
        reason = view["state"]["values"]["reason"]["text"]["value"]
        if len(reason) < 5:
            ack(response_action="errors", errors={"reason": "Say a bit more"})
            return
        ack()
        blocks = [section(f"Request: {reason}"), {"type": "actions", "elements": [button("ok")]}]
        client.chat_postMessage(channel=body["user"]["id"], text=reason, blocks=blocks)

    @app.view_closed("request")
    def closed(ack: Any) -> None:
        ack()

    @app.action("ok")
    def approve(ack: Any, respond: Any) -> None:
        ack()
        respond(text="Approved", replace_original=True)

    @app.shortcut("report_message")
    def report(ack: Any, respond: Any) -> None:
        ack()
        respond(text="Thanks, security will look")

    @app.event("app_home_opened")
    def home(event: dict, client: WebClient) -> None:
        blocks = [{"type": "actions", "elements": [button("refresh")]}]
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})

    @app.action("refresh")
    def refresh(ack: Any, body: dict, client: WebClient) -> None:
        ack()
        view = {"type": "home", "blocks": [section("Refreshed")]}
        client.views_publish(user_id=body["user"]["id"], view=view)


def test_modal_round_trip_through_bolt(emu: SlackEmulator, alice: str, bolt: App) -> None:
    """Command opens a modal, errors keep it open, a good submit closes it and DMs."""
    emu.slash_command(alice, "/access")
    opened = emu.wait_for(lambda: emu.top_view(alice), message="no modal opened")
    assert opened["callback_id"] == "request"

    emu.submit_view(alice, {"reason": {"text": "pls"}})
    assert emu.view_errors(alice) == {"reason": "Say a bit more"}
    assert emu.top_view(alice) is not None

    emu.submit_view(alice, {"reason": {"text": "audit of Q3"}})
    dm = emu.wait_for(lambda: emu.dms_to(alice), message="no DM after submit")
    assert emu.top_view(alice) is None
    assert dm[0]["text"] == "audit of Q3"


def test_button_click_replaces_the_original(
    emu: SlackEmulator, web: WebClient, alice: str, bolt: App
) -> None:
    """respond(replace_original=True) through the response_url rewrites the message."""
    im = web.conversations_open(users=alice)["channel"]["id"]
    posted = web.chat_postMessage(
        channel=im, text="grant?", blocks=[{"type": "actions", "elements": [button("ok")]}]
    )

    emu.click_button(alice, im, posted["ts"], "ok")

    emu.wait_for(lambda: emu.dms_to(alice)[0]["text"] == "Approved", message="not replaced")
    assert "blocks" not in emu.dms_to(alice)[0]


def test_clicking_a_missing_button_says_what_is_there(
    emu: SlackEmulator, web: WebClient, alice: str, security: str
) -> None:
    """click_button on an absent action_id lists the buttons the message has."""
    card = web.chat_postMessage(
        channel=security, text="c", blocks=[{"type": "actions", "elements": [button("take")]}]
    )

    with pytest.raises(AssertionError, match=r"no button 'resolve'.*\['take'\]"):
        emu.click_button(alice, security, card["ts"], "resolve")


def test_message_shortcut_reply_is_ephemeral(
    emu: SlackEmulator, alice: str, security: str, bolt: App
) -> None:
    """A message shortcut's respond() reaches only the person who used it."""
    ts = emu.say(alice, security, "is this phishing? http://bad.example")

    emu.message_shortcut(alice, "report_message", security, ts)

    emu.wait_for(lambda: emu.ephemerals(alice), message="no ephemeral reply")
    assert emu.ephemerals(alice)[0]["text"] == "Thanks, security will look"


def test_home_tab_and_its_buttons(emu: SlackEmulator, alice: str, bolt: App) -> None:
    """Opening Home publishes a view; a button there re-publishes it."""
    emu.open_home(alice)
    emu.wait_for(lambda: emu.home(alice), message="no Home tab published")

    emu.click_view_button(alice, "refresh")

    emu.wait_for(
        lambda: emu.home(alice)["blocks"][0].get("text", {}).get("text") == "Refreshed",
        message="Home tab not refreshed",
    )


def test_closing_a_modal_notifies_when_asked(emu: SlackEmulator, alice: str, bolt: App) -> None:
    """close_view sends view_closed for a modal opened with notify_on_close."""
    emu.slash_command(alice, "/access")
    emu.wait_for(lambda: emu.top_view(alice), message="no modal opened")

    delivery = emu.close_view(alice)

    assert delivery is not None
    assert emu.top_view(alice) is None


# -- response_url ---------------------------------------------------------------


def test_response_url_posts(
    emu: SlackEmulator, alice: str, security: str, connect: Callable[..., SocketModeClient]
) -> None:
    """A response_url replies ephemerally by default, in channel when asked."""
    recorder = Recorder()
    connect(recorder)
    emu.slash_command(alice, "/securityalert", channel_id=security)
    url = recorder.requests[0].payload["response_url"]

    quiet = post_json(url, {"text": "Got it"})
    loud = post_json(url, {"text": "Incident 9 opened", "response_type": "in_channel"})
    bad = post_json(url, {"blocks": [{"type": "nope"}]})

    assert (quiet, loud) == ((200, {"ok": True}), (200, {"ok": True}))
    assert bad[0] == 400 and bad[1]["error"] == "invalid_blocks"
    assert [m["text"] for m in emu.ephemerals(alice)] == ["Got it"]
    assert [m["text"] for m in emu.messages(security)] == ["Incident 9 opened"]


def test_response_url_deletes_the_original(
    emu: SlackEmulator, web: WebClient, alice: str, security: str,
    connect: Callable[..., SocketModeClient],
) -> None:
    """delete_original through a click's response_url removes the message."""
    recorder = Recorder()
    connect(recorder)
    card = web.chat_postMessage(
        channel=security, text="c", blocks=[{"type": "actions", "elements": [button("done")]}]
    )
    emu.click_button(alice, security, card["ts"], "done")

    answer = post_json(recorder.requests[0].payload["response_url"], {"delete_original": True})

    assert answer == (200, {"ok": True})
    assert emu.messages(security) == []


def post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# -- Block Kit rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([{"type": "sections"}], "/blocks/0/type"),
        ([{"type": "section"}], "/blocks/0"),
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
         "/blocks/0/fields"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text/type"),
        ([section("a") | {"block_id": "b"}, section("c") | {"block_id": "b"}],
         "/blocks/1/block_id"),
        ([{"type": "actions", "elements": [button("a"), button("a")]}],
         "/blocks/0/elements/1/action_id"),
        ([{"type": "actions", "elements": [button("a")]},
          {"type": "actions", "elements": [button("a")]}],
         "/blocks/1/elements/0/action_id"),
        ([{"type": "actions", "elements": [button(f"b{i}") for i in range(26)]}],
         "/blocks/0/elements"),
        ([{"type": "actions", "elements": [button("a") | {"style": "green"}]}],
         "/blocks/0/elements/0/style"),
        ([{"type": "actions", "elements": [button("a") | {"text": {"type": "plain_text",
                                                                    "text": "x" * 76}}]}],
         "/blocks/0/elements/0/text/text"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
         "/blocks/0/elements"),
        ([{"type": "input", "label": {"type": "plain_text", "text": "l"}}], "/blocks/0"),
    ],
)
def test_block_kit_limits(blocks: list[dict[str, Any]], pointer: str) -> None:
    """Each broken rule names the place it broke."""
    errors = validate_blocks(blocks)

    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors


def test_a_good_card_passes() -> None:
    """A realistic incident card has no errors."""
    confirm = {
        "title": {"type": "plain_text", "text": "Block IP?"},
        "text": {"type": "mrkdwn", "text": "This blocks *203.0.113.9*"},
        "confirm": {"type": "plain_text", "text": "Block"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Incident 12"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Severity* high"}]},
        {"type": "divider"},
        {"type": "actions", "elements": [button("take"), button("block") | {
            "style": "danger", "confirm": confirm}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "reported by <@U1>"}]},
    ]

    assert validate_blocks(blocks) == []


def test_view_rules() -> None:
    """Views need a known type and short chrome; action_ids may repeat across blocks."""
    no_submit = modal()
    del no_submit["submit"]

    assert validate_view(modal()) == []
    assert validate_view(modal(blocks=[field("a", {"type": "plain_text_input"}),
                                       field("b", {"type": "plain_text_input"})])) == []
    assert validate_view({"type": "sheet"})[0].endswith("[json-pointer:/view/type]")
    assert validate_view(no_submit)[0].endswith("[json-pointer:/view/submit]")
    assert validate_view(modal(private_metadata="x" * 3001))[0].endswith(
        "[json-pointer:/view/private_metadata]"
    )


def test_emulator_runs_in_plain_threads() -> None:
    """start() and stop() work from synchronous code, without pytest fixtures."""
    emulator = SlackEmulator().start()
    thread_names = {t.name for t in threading.enumerate()}

    emulator.stop()

    assert "slack-emulator" in thread_names
    assert "slack-emulator" not in {t.name for t in threading.enumerate()}


def test_views_must_carry_blocks() -> None:
    """A modal or home view without a blocks array is refused, as Slack refuses it."""
    errors = validate_view({"type": "home"})

    assert any("blocks" in error for error in errors), errors
