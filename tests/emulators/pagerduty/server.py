"""PagerDutyEmulator: PagerDuty's Events API v2 (``POST /v2/enqueue``) on a loopback port.

::

    with PagerDutyEmulator() as emu:
        key = emu.add_service("Security")
        requests.post(emu.events_url, json={"routing_key": key, ...})
        emu.alert(key, "incident-7").status  # "triggered"

Events are checked as PagerDuty checks them (see ``events.py``) and applied
to alerts by PagerDuty's de-duplication rules (see ``model.py``). Every
public method is synchronous and thread-safe.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable

from aiohttp import web

from tests.emulators.loop_server import LoopServer

from .events import MAX_EVENT_BYTES, Json, event_problems, routing_key_problems
from .faults import DEFAULT_EVENTS_PER_MINUTE, Fault, Faults, Throttle
from .model import Alert, World

ENQUEUE_PATH = "/v2/enqueue"
INVALID_EVENT = {"status": "invalid event", "message": "Event object is invalid"}
UNRECOGNIZED = {
    "status": "Unrecognized object",
    "message": "Event object format is unrecognized",
    "errors": ["JSON parse error"],
}
# aiohttp refuses bodies over its limit with its own 413; ours must be the
# larger one so an oversized event gets PagerDuty's 400 instead.
MAX_REQUEST_BYTES = 4 * MAX_EVENT_BYTES


class PagerDutyEmulator(LoopServer):
    """Services with integration keys, and the alerts their events make."""

    thread_name = "pagerduty-emulator"

    def __init__(self, *, port: int = 0, clock: Callable[[], float] = time.monotonic,
                 events_per_minute: int | None = DEFAULT_EVENTS_PER_MINUTE) -> None:
        LoopServer.__init__(self, port)
        self.world = World(clock)
        self.faults = Faults()
        self.throttle = Throttle(clock, events_per_minute)

    @property
    def events_url(self) -> str:
        """What the client takes as ``events_url``."""
        return f"http://127.0.0.1:{self.port}{ENQUEUE_PATH}"

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post(ENQUEUE_PATH, self._enqueue)
        return app

    # -- services ------------------------------------------------------------------

    def add_service(self, name: str) -> str:
        """A service with an Events API v2 integration; returns its routing key."""
        with self.world.lock:
            return self.world.add_service(name)

    def remove_service(self, routing_key: str) -> None:
        """Someone deletes the integration: its key is refused from now on."""
        with self.world.lock:
            del self.world.services[routing_key]

    # -- readers -------------------------------------------------------------------

    def alerts(self, routing_key: str) -> list[Alert]:
        """Every alert sent with this key, oldest first (copies)."""
        with self.world.lock:
            found = [alert for alert in self.world.opened if alert.routing_key == routing_key]
            return copy.deepcopy(found)

    def alert(self, routing_key: str, dedup_key: str) -> Alert | None:
        """The latest alert with this dedup_key (a copy), or None."""
        with self.world.lock:
            return copy.deepcopy(self.world.current(routing_key, dedup_key))

    def dropped_events(self, routing_key: str) -> list[Json]:
        """Acknowledges and resolves accepted with 202 that matched no open alert."""
        with self.world.lock:
            dropped = [e for e in self.world.dropped if e["routing_key"] == routing_key]
            return copy.deepcopy(dropped)

    def request_count(self) -> int:
        """Requests to /v2/enqueue so far, whatever their answer."""
        return self.faults.request_count()

    # -- faults and limits ---------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (429, 500, 503 ...)
        without applying them; ``retry_after`` adds that header."""
        self.faults.plan(Fault(status, retry_after), times)

    def stall_next(self, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` requests for ``seconds`` before handling them.

        The event still lands once the stall is over, as it may on the real
        service after the client gave up waiting.
        """
        self.faults.plan(Fault(None, stall_seconds=seconds), times)

    def set_rate_limit(self, events_per_minute: int | None) -> None:
        """Events per routing key in any 60 s (PagerDuty's is about 120); None: no limit."""
        self.throttle.set_limit(events_per_minute)

    def reset_faults(self) -> None:
        """Forget planned faults and the request count."""
        self.faults.reset()

    # -- the API -------------------------------------------------------------------

    async def _enqueue(self, request: web.Request) -> web.Response:
        fault = self.faults.take()
        # Read before stalling: the event has reached PagerDuty even if the
        # client stops waiting for the answer.
        raw = await request.read()
        if fault is not None:
            await asyncio.sleep(fault.stall_seconds)
            if fault.status is not None:
                return _injected(fault)
        if len(raw) > MAX_EVENT_BYTES:
            return _invalid(["Event is too large (maximum is 512 KB)"])
        try:
            event = json.loads(raw)
        except ValueError:
            return web.json_response(UNRECOGNIZED, status=400)
        if not isinstance(event, dict):
            return web.json_response(UNRECOGNIZED, status=400)
        return self._accept(event)

    def _accept(self, event: Json) -> web.Response:
        with self.world.lock:
            known = event.get("routing_key") in self.world.services
        problems = routing_key_problems(event, known)
        if problems:
            return _invalid(problems)
        if not self.throttle.admit(event["routing_key"]):
            return web.Response(status=429)
        problems = event_problems(event)
        if problems:
            return _invalid(problems)
        with self.world.lock:
            dedup_key = self.world.apply(event)
        body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        return web.json_response(body, status=202)


def _invalid(errors: list[str]) -> web.Response:
    return web.json_response(INVALID_EVENT | {"errors": errors}, status=400)


def _injected(fault: Fault) -> web.Response:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if fault.status == 429:
        return web.Response(status=429, headers=headers)
    body = {"status": "error", "message": "Injected failure", "errors": []}
    return web.json_response(body, status=fault.status, headers=headers)
