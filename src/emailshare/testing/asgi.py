"""What runs the in-process app: its ASGI lifespan driven as a server drives it, and, for
synchronous callers, an event loop on a thread with an httpx transport that hands requests to
it (as Starlette's TestClient does). Nothing here knows emailshare; ``inprocess.py`` uses it.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import httpx
    from starlette.types import ASGIApp, Message

T = TypeVar("T")


class Lifespan:
    """Drives an ASGI app's lifespan protocol, as a server does (cf. asgi-lifespan)."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self._app = app
        self._timeout = timeout
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        try:
            await self._app(scope, self._inbox.get, self._outbox.put)
        except Exception as exc:  # reported to whoever waits on the lifespan
            self._error = exc
        finally:
            self._outbox.put_nowait(None)

    async def _expect(self, done: str) -> None:
        message = await asyncio.wait_for(self._outbox.get(), self._timeout)
        if message is not None and message["type"] == done:
            return
        if self._task is not None:
            await asyncio.wait_for(asyncio.shield(self._task), self._timeout)
        if self._error is not None:
            raise self._error
        detail = "ended" if message is None else f"sent {message.get('message') or message}"
        raise RuntimeError(f"the app's lifespan {detail} instead of {done}")

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._main(), name="emailshare-lifespan")
        await self._inbox.put({"type": "lifespan.startup"})
        await self._expect("lifespan.startup.complete")

    async def shutdown(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._expect("lifespan.shutdown.complete")
        await asyncio.wait_for(self._task, self._timeout)


class LoopThread:
    """An asyncio event loop on a thread of its own, for driving the app from sync code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="emailshare-inprocess", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


@functools.cache
def bridge_class() -> Callable[[LoopThread, httpx.ASGITransport], httpx.BaseTransport]:
    import httpx

    class LoopBridge(httpx.BaseTransport):
        """A sync httpx transport that hands each request to the ASGI transport on the loop."""

        def __init__(self, loop: LoopThread, inner: httpx.ASGITransport) -> None:
            self._loop = loop
            self._inner = inner

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.read()  # a buffered body can be read from the other thread

            async def send() -> tuple[int, list[tuple[bytes, bytes]], bytes, dict[str, Any]]:
                response = await self._inner.handle_async_request(request)
                body = await response.aread()
                return response.status_code, response.headers.raw, body, response.extensions

            status, headers, body, extensions = self._loop.run(send())
            return httpx.Response(
                status, headers=headers, stream=httpx.ByteStream(body), extensions=extensions
            )

    return LoopBridge
