"""A circuit breaker around either engine's Database: when the store cannot answer, every
caller fails at once with ``StoreUnavailable`` instead of waiting on a pool or a file, and
one probe at a time finds out, in the background, when the store is back.

Closed (normal): calls go to the store. A call that fails with an outage (the engine's
``is_outage`` says which failures are: a refused or reset connection, a pool timeout, a file
that cannot be opened or read; not a lock wait, a deadlock or a full disk, which fail fast by
themselves and leave reads working) opens the circuit. Open: every call raises
``StoreUnavailable`` without touching the store, and a probe (one query) is sent every
``interval`` seconds; the first that answers closes the circuit. docs/reliability.md ("Store
outages") has the bounds and the tests that hold them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING

from emailshare.domain.errors import StoreUnavailable

if TYPE_CHECKING:
    from emailshare.storage.db import Database, Params, Row, T, Tx

log = logging.getLogger("emailshare.store")

PROBE_INTERVAL = 0.2  # seconds between probes while the circuit is open
PROBE_TIMEOUT = 1.0  # a probe that takes longer counts as failed


class Breaker:
    """The circuit's state and its prober. ``probe`` is one query that bypasses the breaker."""

    def __init__(
        self,
        probe: Callable[[], Awaitable[object]],
        *,
        interval: float = PROBE_INTERVAL,
        timeout: float = PROBE_TIMEOUT,
    ) -> None:
        self._probe = probe
        self._interval = interval
        self._timeout = timeout
        self._reason: str | None = None  # set while open: what opened it
        self._opened_at = 0.0
        self._prober: asyncio.Task[None] | None = None
        self.trips = 0  # how often the circuit opened, for tests and logs

    @property
    def is_open(self) -> bool:
        return self._reason is not None

    def check(self) -> None:
        """Raise ``StoreUnavailable`` at once while the circuit is open."""
        if self._reason is not None:
            raise StoreUnavailable(f"circuit open: {self._reason}")

    def trip(self, exc: BaseException) -> None:
        """Open the circuit (if it is not) and make sure one prober runs."""
        if self._reason is None:
            self._reason = str(exc) or type(exc).__name__
            self._opened_at = time.monotonic()
            self.trips += 1
            log.warning("store unavailable: circuit open (%s)", self._reason)
        if self._prober is None:
            self._prober = asyncio.get_running_loop().create_task(self._probing())

    async def _probing(self) -> None:
        try:
            while self._reason is not None:
                await asyncio.sleep(self._interval)
                try:
                    await asyncio.wait_for(self._probe(), self._timeout)
                except Exception:  # noqa: S112 - still down: probe again later
                    continue
                seconds = time.monotonic() - self._opened_at
                self._reason = None
                log.warning("store answers again: circuit closed after %.2f s", seconds)
        finally:
            self._prober = None

    async def close(self) -> None:
        """Stop probing (the store is being closed)."""
        prober = self._prober
        if prober is not None:
            prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await prober


class _Guard:
    """The breaker around one call (``with guard: ...``): the call is refused at once while the
    circuit is open, and its outage (``is_outage``) opens it; the exception goes on either way.
    Stateless, so one serves every concurrent call with no allocation."""

    __slots__ = ("_breaker", "_is_outage")

    def __init__(self, breaker: Breaker, is_outage: Callable[[StoreUnavailable], bool]) -> None:
        self._breaker = breaker
        self._is_outage = is_outage

    def __enter__(self) -> None:
        self._breaker.check()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, StoreUnavailable) and self._is_outage(exc):
            self._breaker.trip(exc)


class GuardedDatabase:
    """A Database whose every call passes the breaker first; the engine's outages open it.
    Anything else (``dialect``, engine-specific attributes) is the inner database's."""

    def __init__(
        self,
        inner: Database,
        is_outage: Callable[[StoreUnavailable], bool],
        probe_sql: str = "SELECT 1",
    ) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.breaker = Breaker(lambda: inner.fetchone(probe_sql))
        self._guard = _Guard(self.breaker, is_outage)

    async def version(self) -> object:
        with self._guard:
            return await self.inner.version()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        with self._guard:
            return await self.inner.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        with self._guard:
            return await self.inner.fetchall(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self, bump: bool = True) -> AsyncIterator[Tx]:
        with self._guard:
            async with self.inner.transaction(bump) as tx:
                yield tx

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]], bump: bool = True) -> T:
        with self._guard:
            return await self.inner.run_in_transaction(work, bump)

    async def close(self) -> None:
        await self.breaker.close()
        await self.inner.close()
