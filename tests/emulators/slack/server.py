"""SlackEmulator: Slack's Web API and Socket Mode on one loopback port.

The real slack_sdk WebClient (``base_url=emu.api_url``) and the real Bolt
SocketModeHandler talk to it. It runs its own asyncio loop in a daemon thread;
every public method is synchronous and thread-safe, so plain test code (or two
hundred threads of a benchmark) can act as people in the workspace.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from aiohttp import web

from tests.emulators.loop_server import LOOP_CALL_TIMEOUT, LoopServer

from . import payloads
from .faults import Faults
from .people import PersonActions
from .responses import Responder
from .socket_mode import MAX_EVENT_RETRIES, Delivery, SocketMode
from .web_api import WebApi
from .workspace import Message, Workspace

T = TypeVar("T")
Json = dict[str, Any]
EVENT_NAMES = {"im": "message.im", "channel": "message.channels", "group": "message.groups"}


class SlackEmulator(LoopServer, PersonActions):
    thread_name = "slack-emulator"

    """A stateful Slack workspace with Warden installed; see tests/emulators/slack."""

    def __init__(
        self, ack_timeout: float = 3.0, clock: Callable[[], float] = time.time, *,
        port: int = 0, seed: int | None = None, disconnect_grace: float = 1.0,
    ) -> None:
        self.workspace = Workspace(clock, seed=seed)
        ws = self.workspace
        self.ack_timeout = ack_timeout
        self.disconnect_grace = disconnect_grace
        self.team_id, self.app_id = ws.team_id, ws.app_id
        self.bot_user_id = ws.bot_user_id
        self.bot_token = f"xoxb-{ws.new_id('', 12)}-{ws.new_id('', 13)}-{ws.new_hex(24)}"
        self.app_token = f"xapp-1-{ws.app_id}-{ws.new_id('', 13)}-{ws.new_hex(64)}"
        # Events the app is subscribed to, by Slack's names; others are not sent.
        self.subscriptions: set[str] = {"message.im", "app_home_opened"}
        LoopServer.__init__(self, port)
        self.faults = Faults(clock)
        self.sockets = SocketMode(ws.app_id, ack_timeout)
        self.responder = Responder(ws, self._message_posted)
        self.web_api = WebApi(
            ws, self.faults, bot_token=self.bot_token, app_token=self.app_token,
            socket_url=self._socket_url, on_posted=self._message_posted,
        )

    # -- lifecycle ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        """What slack_sdk wants as base_url: with the trailing slash."""
        return f"{self.base_url}api/"

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.web_api.handle)
        app.router.add_post("/response/{token}", self._response_url)
        app.router.add_get("/link/", self.sockets.handle)
        return app

    async def before_shutdown(self) -> None:
        await self.sockets.close_all()

    async def _response_url(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        status, answer = self.responder.post(request.match_info["token"], body)
        return web.json_response(answer, status=status)

    def _socket_url(self) -> str:
        ticket = self.sockets.new_ticket()
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- running things on the loop ----------------------------------------

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the Slack emulator is not running; call start() first")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _on_loop(self, fn: Callable[[], T]) -> T:
        """Run a small synchronous function on the loop thread and return its result."""

        async def call() -> T:
            return fn()

        return self._submit(call()).result(LOOP_CALL_TIMEOUT)

    def _send_event(self, event: Json) -> concurrent.futures.Future[Delivery | None]:
        """Deliver an event in the background (retrying like Slack); safe from any thread."""
        callback = payloads.event_callback(self.workspace, event)
        return self._submit(self.sockets.deliver_event(callback))

    def _wait_event(self, future: concurrent.futures.Future[Delivery | None]) -> Delivery:
        # Each attempt may wait ack_timeout for a connection and again for the ack.
        timeout = (MAX_EVENT_RETRIES + 1) * 2 * self.ack_timeout + 1
        delivery = future.result(timeout)
        if delivery is None:
            raise AssertionError(
                f"Warden never acked the event, even after {MAX_EVENT_RETRIES} retries"
            )
        return delivery

    def _message_posted(self, message: Message) -> None:
        """Send the message event Slack sends for a new message the app can see."""
        channel = self.workspace.conversation(message.channel)
        name = EVENT_NAMES[channel.channel_type]
        if name in self.subscriptions and self.bot_user_id in channel.members:
            self._send_event(payloads.message_event(self.workspace, message, channel))

    # -- workspace setup ---------------------------------------------------

    def add_user(
        self, name: str, email: str, tz: str = "Europe/London", real_name: str | None = None
    ) -> str:
        return self.workspace.add_user(name, email, tz, real_name).id

    def add_channel(
        self, name: str, members: Iterable[str] = (), bot_member: bool = True,
        private: bool = False,
    ) -> str:
        return self.workspace.add_channel(
            name, members, bot_member=bot_member, private=private
        ).id

    # -- faults and records ------------------------------------------------

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        self.faults.rate_limit(method, times, retry_after)

    def set_rate_limit(self, method: str, per_minute: int | None) -> None:
        self.faults.set_rate_limit(method, per_minute)

    def web_api_down(self, down: bool = True) -> None:
        """Every /api/* answers 503 while down; open sockets stay up."""
        self.faults.down = down

    def calls(self, method: str | None = None) -> list[Json]:
        return self.web_api.recorded(method)

    def call_count(self, method: str) -> int:
        return len(self.web_api.recorded(method))

    def acks(self) -> list[tuple[str, float]]:
        return list(self.sockets.acks)

    def deliveries(self) -> list[Json]:
        """Every envelope sent to the app, in order; a redelivery has retry_attempt >= 1."""
        return list(self.sockets.sent)

    def problems(self) -> list[str]:
        """Ack payloads and response_url posts Slack would have refused."""
        return list(self.responder.problems)

    # -- Socket Mode controls ----------------------------------------------

    @property
    def connections_opened(self) -> int:
        return self.sockets.connections_opened

    def is_connected(self) -> bool:
        return self._on_loop(lambda: bool(self.sockets.open_connections()))

    def wait_connected(self, timeout: float = 5.0) -> None:
        self.wait_for(self.is_connected, timeout, "the app never opened a Socket Mode connection")

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's disconnect message; close the sockets a moment later."""
        self._submit(self.sockets.disconnect(reason, self.disconnect_grace))

    def drop_socket(self) -> None:
        """Abort every Socket Mode TCP connection, with no close frame."""
        self._on_loop(self.sockets.drop)

    def close_sockets(self) -> None:
        """Close every Socket Mode connection cleanly (a close frame, no disconnect message)."""
        self._submit(self.sockets.close_all()).result(LOOP_CALL_TIMEOUT)

    def lose_acks(self, n: int = 1) -> None:
        """Ignore the next ``n`` events_api acks, so Slack redelivers those events."""

        def lose() -> None:
            self.sockets.acks_to_lose += n

        self._on_loop(lose)

    # -- readers -----------------------------------------------------------

    def messages(self, channel_id: str) -> list[Json]:
        """Top-level messages in a channel, oldest first."""
        ws = self.workspace
        with ws.lock:
            channel = ws.conversation(channel_id)
            return [self._shown(m) for m in ws.history(channel.id)]

    def thread(self, channel_id: str, ts: str) -> list[Json]:
        ws = self.workspace
        with ws.lock:
            channel = ws.conversation(channel_id)
            return [self._shown(m) for m in ws.thread(channel.id, ts)]

    def dms_to(self, user_id: str) -> list[Json]:
        """What the bot has posted in its IM with this person (threads included)."""
        ws = self.workspace
        with ws.lock:
            im = ws.find_im(user_id)
            posted = ws.messages[im.id] if im else []
            return [self._shown(m) for m in posted if m.user == self.bot_user_id]

    def ephemerals(self, user_id: str) -> list[Json]:
        ws = self.workspace
        with ws.lock:
            return [self._shown(m) for m in ws.ephemerals if m.visible_to == user_id]

    def home(self, user_id: str) -> Json | None:
        return self._view_dict(self.workspace.home(user_id))

    def top_view(self, user_id: str) -> Json | None:
        return self._view_dict(self.workspace.top_modal(user_id))

    def view_errors(self, user_id: str) -> dict[str, str]:
        return dict(self.responder.view_errors.get(user_id, {}))

    def wait_for(
        self, fn: Callable[[], T], timeout: float = 5.0, message: str = "condition not met"
    ) -> T:
        """Poll ``fn`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while True:
            result = fn()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"{message} (waited {timeout:g}s)")
            time.sleep(0.02)

    def _shown(self, message: Message) -> Json:
        shown = message.to_slack(self.team_id)
        shown["channel"] = message.channel
        return shown

    def _view_dict(self, view: Any) -> Json | None:
        ws = self.workspace
        with ws.lock:
            return view.to_slack(ws.team_id, ws.app_id, ws.bot_id) if view else None
