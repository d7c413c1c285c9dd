"""What every emulator shares: an aiohttp app on a loopback port, served from its
own asyncio loop in a daemon thread, so synchronous tests (and many threads at
once) can drive it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
from typing import Self

from aiohttp import web

LOOP_CALL_TIMEOUT = 10.0


class LoopServer:
    thread_name = "emulator"

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def build_app(self) -> web.Application:
        raise NotImplementedError

    async def before_shutdown(self) -> None:
        """Close what the app holds open (sockets) before the server goes."""

    def start(self) -> Self:
        """Bind 127.0.0.1 (a free port unless one was given) and serve."""
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run_loop, args=(started,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        started.result(timeout=LOOP_CALL_TIMEOUT)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(LOOP_CALL_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(LOOP_CALL_TIMEOUT)
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run_loop(self, started: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # hand the failure to start()'s caller
            started.set_exception(error)
            loop.close()
            return
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _shutdown(self) -> None:
        await self.before_shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
        # Work still waiting on a timer (an event redelivery) ends with us.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
