"""The ASGI app in this process, its lifespan run, behind an httpx client."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
from collections.abc import (
    AsyncIterator,
    Coroutine,
    Iterator,
    Sequence,
)
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from emailshare.config import Settings
    from emailshare.service.admin import LoadSummary
    from emailshare.storage.repo import Store
from emailshare.testing.asgi import Lifespan, LoopThread, bridge_class
from emailshare.testing.journal import AsyncJournalReads, JournalReads
from emailshare.testing.store import (
    DEFAULT_SCOPES,
    FixtureSource,
    _load_orgs,
    fixture_orgs,
    load_into,
    mint_into,
)

T = TypeVar("T")
#: The base URL of the in-process app (as Starlette's TestClient names it).
INPROCESS_URL = "http://testserver"


async def _seed_new_sqlite(settings: Settings) -> None:
    """Make each SQLite file the app is about to open, if it does not exist yet, from the
    migrated image of an empty store (``storage.migrate.seed_sqlite``): the same schema and
    rows the lifespan's migrations would make, without running them one by one."""
    from emailshare.bootstrap import journal_url
    from emailshare.storage.db import sqlite_path
    from emailshare.storage.migrate import seed_sqlite

    urls = [settings.db_url, journal_url(settings.db_url) if settings.admin_key else None]
    for url in urls:
        if url is not None and url.startswith("sqlite:") and sqlite_path(url) != ":memory:":
            await seed_sqlite(sqlite_path(url))


# --- the app in this process -----------------------------------------------------------------


class AsyncInProcess(AsyncJournalReads):
    """The emailshare app running in the caller's event loop (asyncio), no socket, no thread.

    ``async with AsyncInProcess(fixture=doc) as app:`` runs the app's lifespan (the store
    opens, migrations run), loads ``fixture``, and offers ``app.client``, an
    ``httpx.AsyncClient`` over ``httpx.ASGITransport`` with ``base_url`` :data:`INPROCESS_URL`.
    The store is a fresh temporary SQLite file unless ``db_url`` (or ``settings.db_url``, when
    not the default) names one; a store named so is used as it is, not emptied. A SQLite file
    that does not exist yet is made from the image of an empty migrated store
    (``storage.migrate.seed_sqlite``), which is what the lifespan's migrations would make.
    ``raise_app_exceptions`` makes a crash raise in the test (after the app answered 500, as
    a server would have answered).
    """

    def __init__(
        self,
        *,
        fixture: FixtureSource | None = None,
        db_url: str | None = None,
        settings: Settings | None = None,
        base_url: str = INPROCESS_URL,
        raise_app_exceptions: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self._fixture = fixture
        self._db_url = db_url
        self._settings = settings
        self._base_url = base_url
        self._raise = raise_app_exceptions
        self._timeout = timeout
        self._tmpdir: str | None = None
        self._lifespan: Lifespan | None = None
        self._app: Starlette | None = None
        self._transport: httpx.ASGITransport | None = None
        self._client: httpx.AsyncClient | None = None

    def _resolve_settings(self) -> Settings:
        from emailshare.config import DEFAULT_DB, Settings

        settings = self._settings or Settings()
        db_url = self._db_url
        if db_url is None and settings.db_url != DEFAULT_DB:
            db_url = settings.db_url
        if db_url is None:
            self._tmpdir = tempfile.mkdtemp(prefix="emailshare-app-")
            db_url = f"sqlite:///{Path(self._tmpdir) / 'emailshare.db'}"
        return dataclasses.replace(settings, db_url=db_url)

    async def start(self) -> None:
        """Open the store through the app's lifespan, load the fixture, open the client."""
        import httpx

        from emailshare.api.app import create_app

        if self._app is not None:
            raise RuntimeError("already started")
        orgs = None if self._fixture is None else fixture_orgs(self._fixture)
        settings = self._resolve_settings()
        self._app = create_app(settings, raise_app_exceptions=self._raise)
        self._lifespan = Lifespan(self._app, self._timeout)
        try:
            await _seed_new_sqlite(settings)
            await self._lifespan.startup()
            if orgs is not None:
                await _load_orgs(self.store, orgs, self._now(), reset=False)
            self._transport = httpx.ASGITransport(app=self._app, raise_app_exceptions=self._raise)
            self._client = httpx.AsyncClient(transport=self._transport, base_url=self._base_url)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Close the client, run the lifespan's shutdown (the store closes), remove temp files."""
        try:
            if self._client is not None:
                await self._client.aclose()
            if self._lifespan is not None:
                await self._lifespan.shutdown()
        finally:
            self._client = self._transport = self._lifespan = None
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None

    async def __aenter__(self) -> AsyncInProcess:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _now(self) -> int:
        return int(self.settings.clock())

    def _started(self) -> Starlette:
        if self._app is None or self._lifespan is None:
            raise RuntimeError("the in-process app is not running (use it inside `async with`)")
        return self._app

    @property
    def app(self) -> Starlette:
        """The Starlette application."""
        return self._started()

    @property
    def settings(self) -> Settings:
        """The settings the app runs with (``db_url`` resolved)."""
        settings: Settings = self._started().state.settings
        return settings

    @property
    def store(self) -> Store:
        """The app's own store (opened by its lifespan)."""
        store: Store = self._started().state.store
        return store

    @property
    def url(self) -> str:
        """The base URL the client sends to (nothing listens there)."""
        return self._base_url

    @property
    def db_url(self) -> str:
        return self.settings.db_url

    @property
    def transport(self) -> httpx.ASGITransport:
        """The ``httpx.ASGITransport`` into the app, for clients of your own."""
        if self._transport is None:
            raise RuntimeError("the in-process app is not running")
        return self._transport

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the in-process app is not running")
        return self._client

    async def load(self, source: FixtureSource, *, reset: bool = False) -> LoadSummary:
        """Validate a fixture document wholly, then load it into the app's store (emptied
        first with ``reset``)."""
        return await load_into(self.store, source, self._now(), reset=reset)

    async def reset(self) -> None:
        """Empty the app's store: every org (and all in it) and every OAuth client."""
        await self.store.delete_everything()

    async def token(
        self,
        user_id: int | str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        *,
        expires_in: int = 3600,
        org_id: int | str | None = None,
    ) -> str:
        """A new access token for a user of the app's store."""
        return await mint_into(
            self.store, user_id, scopes, expires_in=expires_in, org_id=org_id, now=self._now()
        )

    def _journal_target(self) -> tuple[httpx.AsyncClient, str | None]:
        return self.client, self.settings.admin_key


class InProcess(JournalReads):
    """The emailshare app in this process for synchronous code: ``with InProcess(...) as app``.

    The app, its lifespan and its store run on an event loop in a background thread (as
    Starlette's TestClient does); ``app.client`` is an ``httpx.Client`` whose transport hands
    each request to ``httpx.ASGITransport`` on that loop. No socket, no child process. The
    arguments are :class:`AsyncInProcess`'s.
    """

    def __init__(
        self,
        *,
        fixture: FixtureSource | None = None,
        db_url: str | None = None,
        settings: Settings | None = None,
        base_url: str = INPROCESS_URL,
        raise_app_exceptions: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self._inner = AsyncInProcess(
            fixture=fixture,
            db_url=db_url,
            settings=settings,
            base_url=base_url,
            raise_app_exceptions=raise_app_exceptions,
            timeout=timeout,
        )
        self._loop: LoopThread | None = None
        self._transport: httpx.BaseTransport | None = None
        self._client: httpx.Client | None = None

    def start(self) -> None:
        """Start the loop thread and the app (lifespan, fixture); open the client."""
        import httpx

        if self._loop is not None:
            raise RuntimeError("already started")
        self._loop = LoopThread()
        try:
            self._loop.run(self._inner.start())
        except BaseException:
            self._loop.close()
            self._loop = None
            raise
        self._transport = bridge_class()(self._loop, self._inner.transport)
        self._client = httpx.Client(transport=self._transport, base_url=self._inner.url)

    def stop(self) -> None:
        """Close the client, shut the app down, stop the loop thread."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self._transport = None
        if self._loop is not None:
            try:
                self._loop.run(self._inner.stop())
            finally:
                self._loop.close()
                self._loop = None

    def __enter__(self) -> InProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the in-process app is not running (use it inside `with`)")
        return self._loop.run(coro)

    @property
    def client(self) -> httpx.Client:
        """An ``httpx.Client`` into the app, ``base_url`` :data:`INPROCESS_URL`."""
        if self._client is None:
            raise RuntimeError("the in-process app is not running")
        return self._client

    @property
    def transport(self) -> httpx.BaseTransport:
        """The sync transport ``client`` sends through, for clients of your own:
        ``httpx.Client(transport=app.transport, base_url=app.url, timeout=...)``."""
        if self._transport is None:
            raise RuntimeError("the in-process app is not running")
        return self._transport

    @property
    def app(self) -> Starlette:
        """The Starlette application (it runs on the background loop: do not await it here)."""
        return self._inner.app

    @property
    def settings(self) -> Settings:
        return self._inner.settings

    @property
    def url(self) -> str:
        return self._inner.url

    @property
    def db_url(self) -> str:
        return self._inner.db_url

    def load(self, source: FixtureSource, *, reset: bool = False) -> LoadSummary:
        """Validate a fixture document wholly, then load it into the app's store (emptied
        first with ``reset``)."""
        return self._run(self._inner.load(source, reset=reset))

    def reset(self) -> None:
        """Empty the app's store: every org (and all in it) and every OAuth client."""
        self._run(self._inner.reset())

    def token(
        self,
        user_id: int | str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        *,
        expires_in: int = 3600,
        org_id: int | str | None = None,
    ) -> str:
        """A new access token for a user of the app's store."""
        return self._run(self._inner.token(user_id, scopes, expires_in=expires_in, org_id=org_id))

    def _journal_target(self) -> tuple[httpx.Client, str | None]:
        return self.client, self.settings.admin_key


@contextlib.contextmanager
def running_app(
    *,
    fixture: FixtureSource | None = None,
    db_url: str | None = None,
    settings: Settings | None = None,
    raise_app_exceptions: bool = False,
) -> Iterator[InProcess]:
    """``with running_app(fixture=doc) as app: app.client.get(...)``: see :class:`InProcess`."""
    with InProcess(
        fixture=fixture,
        db_url=db_url,
        settings=settings,
        raise_app_exceptions=raise_app_exceptions,
    ) as app:
        yield app


@contextlib.asynccontextmanager
async def running_app_async(
    *,
    fixture: FixtureSource | None = None,
    db_url: str | None = None,
    settings: Settings | None = None,
    raise_app_exceptions: bool = False,
) -> AsyncIterator[AsyncInProcess]:
    """``async with running_app_async(fixture=doc) as app``: see :class:`AsyncInProcess`."""
    async with AsyncInProcess(
        fixture=fixture,
        db_url=db_url,
        settings=settings,
        raise_app_exceptions=raise_app_exceptions,
    ) as app:
        yield app
