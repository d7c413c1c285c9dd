"""Socket Mode over a real WebSocket: tickets, hello, envelopes, acks, retries.

The app opens ``ws://…/link/?ticket=…`` from apps.connections.open. Each URL
works once. Slack sends envelopes and waits for ``{"envelope_id": …}`` acks;
an events_api envelope that is not acked in time is sent again with the same
event_id and a higher ``retry_attempt`` (up to three retries), as Slack does.
Everything here runs on the emulator's event loop thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

Json = dict[str, Any]
AckHandler = Callable[[Json | None], None]
Ack = tuple[Json | None, float]  # the ack's payload and when it arrived
MAX_EVENT_RETRIES = 3
CONNECT_WAIT_STEP = 0.02


class NoAck(Exception):
    """No ack came back in time (or there was no connection to send on)."""


@dataclass
class Delivery:
    """What became of one envelope: its ack and how long the app took."""

    envelope_id: str
    ack_payload: Json | None
    latency: float
    retry_attempt: int = 0


@dataclass
class Connection:
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    opened_at: float
    draining: bool = False  # told to reconnect; no new envelopes go here
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def is_open(self) -> bool:
        return not self.ws.closed and self.transport is not None and not self.transport.is_closing()

    async def send(self, message: Json) -> float:
        """Write one frame; returns the perf_counter time it left (after any queueing)."""
        text = json.dumps(message)
        async with self.send_lock:
            sent_at = time.perf_counter()
            await self.ws.send_str(text)
        return sent_at


@dataclass
class _Waiting:
    type: str
    future: asyncio.Future[Ack]
    on_ack: AckHandler | None


class SocketMode:
    """The Socket Mode side of the emulator: one per app."""

    def __init__(self, app_id: str, ack_timeout: float) -> None:
        self.app_id = app_id
        self.ack_timeout = ack_timeout
        self.tickets: set[str] = set()
        self.connections: list[Connection] = []
        self.connections_opened = 0
        self.acks: list[tuple[str, float]] = []
        self.sent: list[Json] = []  # every envelope, in order, for tests to inspect
        self.failed_events: list[Json] = []  # events Slack gave up on after retries
        self.acks_to_lose = 0
        self._waiting: dict[str, _Waiting] = {}
        self._host = f"applink-{uuid.uuid4().hex[:10]}"

    # -- connections -------------------------------------------------------

    def new_ticket(self) -> str:
        ticket = str(uuid.uuid4())
        self.tickets.add(ticket)
        return ticket

    def open_connections(self) -> list[Connection]:
        self.connections = [c for c in self.connections if c.is_open]
        return list(self.connections)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket endpoint; a used or unknown ticket is refused before upgrade."""
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.Response(status=401, text="invalid or already used ticket")
        self.tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)  # autoping answers the client's pings
        await ws.prepare(request)
        connection = Connection(ws, request.transport, time.monotonic())  # type: ignore[arg-type]
        self.connections.append(connection)
        self.connections_opened += 1
        await connection.send(self._hello())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_text(message.data)
        finally:
            if connection in self.connections:
                self.connections.remove(connection)
        return ws

    def _hello(self) -> Json:
        return {
            "type": "hello",
            "num_connections": len(self.open_connections()),
            "debug_info": {
                "host": self._host,
                "build_number": 118,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    async def disconnect(self, reason: str, close_after: float) -> None:
        """Ask every connection to reconnect, then close them a moment later."""
        notice = {"type": "disconnect", "reason": reason, "debug_info": {"host": self._host}}
        connections = self.open_connections()
        for connection in connections:
            connection.draining = True
            await connection.send(notice)
        await asyncio.sleep(close_after)
        for connection in connections:
            await connection.ws.close()

    def drop(self) -> int:
        """Kill every TCP connection with a reset: no close frame, like a dead link."""
        dropped = 0
        for connection in self.open_connections():
            transport = connection.transport
            sock = transport.get_extra_info("socket") if transport else None
            if sock is not None:
                # Linger 0 makes close() send RST, so the client sees a reset at once.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if transport is not None:
                transport.abort()
                dropped += 1
        return dropped

    async def close_all(self) -> None:
        for connection in self.open_connections():
            await connection.ws.close()

    # -- envelopes ---------------------------------------------------------

    async def request(
        self, kind: str, payload: Json, timeout: float, *, on_ack: AckHandler | None = None,
        retry_attempt: int | None = None, retry_reason: str = "",
    ) -> Delivery:
        """Send one envelope and wait for its ack; NoAck after ``timeout`` seconds."""
        connection = await self._connection(timeout)
        envelope = self._envelope(kind, payload, retry_attempt, retry_reason)
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._waiting[envelope["envelope_id"]] = _Waiting(kind, future, on_ack)
        self.sent.append(envelope)
        try:
            sent_at = await connection.send(envelope)
            ack_payload, acked_at = await asyncio.wait_for(future, timeout)
        except (TimeoutError, ConnectionError) as error:
            raise NoAck(f"no ack for {kind} envelope within {timeout:g}s") from error
        finally:
            self._waiting.pop(envelope["envelope_id"], None)
        latency = acked_at - sent_at
        self.acks.append((kind, latency))
        return Delivery(envelope["envelope_id"], ack_payload, latency, retry_attempt or 0)

    async def deliver_event(self, payload: Json) -> Delivery | None:
        """Deliver an event_callback, retrying unacked envelopes like Slack."""
        for attempt in range(MAX_EVENT_RETRIES + 1):
            reason = "timeout" if attempt else ""
            try:
                return await self.request(
                    "events_api", payload, self.ack_timeout,
                    retry_attempt=attempt, retry_reason=reason,
                )
            except NoAck:
                log.info("event %s not acked (attempt %d)", payload.get("event_id"), attempt)
        self.failed_events.append(payload)
        return None

    def _envelope(
        self, kind: str, payload: Json, retry_attempt: int | None, retry_reason: str
    ) -> Json:
        envelope: Json = {"envelope_id": str(uuid.uuid4()), "payload": payload, "type": kind}
        # Slack lets the ack carry a response for commands and view submissions only.
        accepts = kind == "slash_commands" or payload.get("type") == "view_submission"
        envelope["accepts_response_payload"] = accepts
        if retry_attempt is not None:
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        return envelope

    async def _connection(self, timeout: float) -> Connection:
        """The newest live connection, waiting a little for the app to reconnect."""
        deadline = time.monotonic() + timeout
        while True:
            live = [c for c in self.open_connections() if not c.draining]
            if live:
                return live[-1]
            if time.monotonic() >= deadline:
                raise NoAck("the app has no Socket Mode connection open")
            await asyncio.sleep(CONNECT_WAIT_STEP)

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            log.warning("ignored a frame that is not JSON: %.80s", data)
            return
        waiting = self._waiting.get(message.get("envelope_id", ""))
        if waiting is None or waiting.future.done():
            return  # a late or unknown ack: Slack ignores it too
        if waiting.type == "events_api" and self.acks_to_lose > 0:
            self.acks_to_lose -= 1
            return
        payload = message.get("payload")
        acked_at = time.perf_counter()
        if waiting.on_ack is not None:
            try:
                waiting.on_ack(payload)
            except Exception:  # a bad ack must not kill the connection's reader
                log.exception("failed to apply an ack payload")
        waiting.future.set_result((payload, acked_at))
