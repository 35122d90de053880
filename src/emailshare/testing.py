"""Helpers for running emailshare in tests: a real server on a real socket, or the app in-process.

Usable outside pytest (the pytest plugin, :mod:`emailshare.pytest_plugin`, is built on them):

- ``with running_server(fixture=path) as srv: srv.client.get(...)``: ``emailshare serve`` as a
  child process on a free port;
- ``with running_app(fixture=doc) as app: app.client.get(...)``: the ASGI app in this process,
  its lifespan run, an ``httpx.Client`` over ``httpx.ASGITransport`` (``running_app_async`` for
  an ``httpx.AsyncClient`` in the caller's event loop);
- ``load_fixture(db_url, doc)``, ``reset_store(db_url)``, ``mint_token(db_url, user, scopes)``:
  change any store directly, whether a server runs on it or not.

A fixture document may be a path, a mapping, or JSON/YAML text (:data:`FixtureSource`).
Nothing here imports httpx, Starlette or the database layer until it is used.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette
    from starlette.types import Message

    from emailshare.config import Settings
    from emailshare.domain.model import Org
    from emailshare.service.admin import LoadSummary
    from emailshare.storage.repo import Store

T = TypeVar("T")

#: A fixture document: a path to a JSON/YAML file, the parsed document, or its JSON/YAML text.
FixtureSource: TypeAlias = Mapping[str, Any] | str | bytes | os.PathLike[str]

#: Scopes of tokens minted by the helpers: the endpoint, and what the official SDKs call first.
DEFAULT_SCOPES: tuple[str, ...] = ("ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ")

#: The base URL of the in-process app (as Starlette's TestClient names it).
INPROCESS_URL = "http://testserver"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    host: str, port: int, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until something accepts TCP connections on host:port, or raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


# --- fixture documents and direct store access ---------------------------------------------


def _is_text(source: str) -> bool:
    # Paths hold no newline and do not open like a document; fixture text nearly always does.
    return "\n" in source or source.lstrip().startswith(("{", "orgs:", "---"))


def read_fixture(source: FixtureSource, base_dirs: Sequence[Path] = ()) -> object:
    """The document ``source`` denotes, parsed but not yet validated.

    A mapping is the document itself. ``bytes``, and a ``str`` holding a newline or opening
    with ``{``, ``orgs:`` or ``---``, are JSON or YAML text. Anything else is a file path; a
    relative one is looked up in ``base_dirs`` in order, then in the working directory.
    Raises :class:`~emailshare.domain.errors.FixtureError` for unreadable or malformed input.
    """
    from emailshare.service.fixtures import parse_text, read_document

    if isinstance(source, Mapping):
        return source
    if isinstance(source, bytes):
        return parse_text(source.decode("utf-8"))
    if isinstance(source, str) and _is_text(source):
        return parse_text(source)
    path = Path(source)
    if not path.is_absolute():
        path = next((d / path for d in base_dirs if (d / path).is_file()), path)
    return read_document(path)


def fixture_orgs(source: FixtureSource, base_dirs: Sequence[Path] = ()) -> list[Org]:
    """Read and validate a fixture document wholly (nothing is written anywhere)."""
    from emailshare.service.fixtures import parse_fixture

    return parse_fixture(read_fixture(source, base_dirs))


def _user(value: int | str, what: str) -> int:
    from emailshare.service.fixtures import parse_id

    parsed = value if isinstance(value, int) else parse_id(value)
    if parsed is None or parsed <= 0:
        raise ValueError(f"{what} {value!r} is not a Zoho id (1 to 19 digits)")
    return parsed


async def load_into(
    store: Store, source: FixtureSource, now: int | None = None, *, reset: bool = False
) -> LoadSummary:
    """Validate ``source`` wholly, then load it into an open store (emptied first with
    ``reset``); each org replaces the org of the same id in one transaction."""
    return await _load_orgs(store, fixture_orgs(source), now, reset)


async def _load_orgs(store: Store, orgs: list[Org], now: int | None, reset: bool) -> LoadSummary:
    from emailshare.service.admin import summarise

    if reset:
        await store.delete_everything()
    await store.replace_orgs(orgs, int(time.time()) if now is None else now)
    return summarise(orgs)


async def mint_into(
    store: Store,
    user_id: int | str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    expires_in: int = 3600,
    org_id: int | str | None = None,
    now: int | None = None,
) -> str:
    """A new access token for a user of an open store (``org_id`` when the id is in several)."""
    from emailshare.service.admin import issue_token

    return await issue_token(
        store,
        _user(user_id, "user"),
        list(scopes),
        expires_in,
        int(time.time()) if now is None else now,
        None if org_id is None else _user(org_id, "org"),
    )


def _run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to its end from synchronous code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # Called from an async test: its loop is busy running us, so use a loop of our own.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="emailshare") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _with_store(db_url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        from emailshare.storage import migrate
        from emailshare.storage.db import connect
        from emailshare.storage.repo import Store

        db = await connect(db_url, pool_size=1)
        try:
            await migrate.upgrade(db)
            return await work(Store(db))
        finally:
            await db.close()

    return _run_sync(run)


def load_fixture(db_url: str, source: FixtureSource, *, reset: bool = False) -> LoadSummary:
    """Load a fixture document into the store at ``db_url`` (each org replaces its namesake;
    with ``reset``, the store is emptied first, as by :func:`reset_store`).

    Works while a server runs on that store: its caches notice every write.
    """
    orgs = fixture_orgs(source)  # fail before touching the store

    async def work(store: Store) -> LoadSummary:
        return await _load_orgs(store, orgs, None, reset)

    return _with_store(db_url, work)


def reset_store(db_url: str) -> None:
    """Empty the store at ``db_url``: every org (and all in it) and every OAuth client."""

    async def work(store: Store) -> None:
        await store.delete_everything()

    _with_store(db_url, work)


def mint_token(
    db_url: str,
    user_id: int | str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    expires_in: int = 3600,
    org_id: int | str | None = None,
) -> str:
    """A new access token for a user already in the store at ``db_url``."""

    async def work(store: Store) -> str:
        return await mint_into(store, user_id, scopes, expires_in=expires_in, org_id=org_id)

    return _with_store(db_url, work)


class Emailshare(Protocol):
    """What both a live server and the in-process app offer a test (for code that takes either)."""

    @property
    def url(self) -> str: ...
    @property
    def db_url(self) -> str: ...
    @property
    def client(self) -> httpx.Client: ...
    def load(self, source: FixtureSource, *, reset: bool = False) -> LoadSummary: ...
    def reset(self) -> None: ...
    def token(
        self,
        user_id: int | str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        *,
        expires_in: int = 3600,
        org_id: int | str | None = None,
    ) -> str: ...


# --- a real server on a real socket ----------------------------------------------------------


@dataclass
class ServerProcess:
    """A running ``emailshare serve`` child process."""

    url: str
    db_url: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    _client: httpx.Client | None = field(default=None, init=False, repr=False, compare=False)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Stop the server and its workers (the whole process group)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)

    def log(self) -> str:
        """What the server printed so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")

    @property
    def client(self) -> httpx.Client:
        """An ``httpx.Client`` with ``base_url`` set to this server; closed by :meth:`stop`."""
        if self._client is None:
            import httpx

            # trust_env off: a proxy from the environment must not carry calls to 127.0.0.1.
            self._client = httpx.Client(base_url=self.url, trust_env=False)
        return self._client

    def load(self, source: FixtureSource, *, reset: bool = False) -> LoadSummary:
        """Load a fixture document into this server's store (see :func:`load_fixture`)."""
        return load_fixture(self.db_url, source, reset=reset)

    def reset(self) -> None:
        """Empty this server's store (see :func:`reset_store`)."""
        reset_store(self.db_url)

    def token(
        self,
        user_id: int | str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        *,
        expires_in: int = 3600,
        org_id: int | str | None = None,
    ) -> str:
        """A new access token for a user of this server's store (see :func:`mint_token`)."""
        return mint_token(self.db_url, user_id, scopes, expires_in=expires_in, org_id=org_id)


def _fixture_file(source: FixtureSource, workdir: Path) -> str:
    """A file ``emailshare serve --load`` can read holding ``source``."""
    if isinstance(source, Mapping):
        path = workdir / "fixture.json"
        path.write_text(json.dumps(source), encoding="utf-8")
        return os.fspath(path)
    if isinstance(source, bytes | str) and (isinstance(source, bytes) or _is_text(source)):
        path = workdir / "fixture.yaml"  # read as JSON first, then YAML
        path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8"))
        return os.fspath(path)
    return os.fspath(source)


def start_server(
    *,
    db_url: str | None = None,
    fixture: FixtureSource | None = None,
    workers: int = 1,
    port: int | None = None,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    workdir: str | os.PathLike[str] | None = None,
) -> ServerProcess:
    """Start ``emailshare serve`` on 127.0.0.1 in a process group of its own; wait for it.

    ``fixture`` (a path, a mapping or JSON/YAML text) is loaded before the server listens.
    ``workdir`` holds the log (and the default SQLite store); a new temporary directory when
    not given.
    """
    if workdir is None:
        workdir = tempfile.mkdtemp(prefix="emailshare-")
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    if db_url is None:
        db_url = f"sqlite:///{work / 'emailshare.db'}"
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "emailshare",
        "serve",
        "--db",
        db_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if fixture is not None:
        cmd += ["--load", _fixture_file(fixture, work)]
    cmd += args or []
    log_path = work / "server.log"
    child_env = {**os.environ, **(env or {})}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env, start_new_session=True
        )
    server = ServerProcess(
        url=f"http://127.0.0.1:{port}",
        db_url=db_url,
        port=port,
        proc=proc,
        log_path=log_path,
        extra_env=env or {},
    )
    try:
        wait_for_port("127.0.0.1", port, timeout, proc)
    except Exception as exc:
        server.stop()
        raise RuntimeError(f"emailshare did not start: {exc}\n{server.log()}") from exc
    return server


@contextlib.contextmanager
def running_server(**kwargs: object) -> Iterator[ServerProcess]:
    """Context-manager form of :func:`start_server`; stops the server on exit."""
    server = start_server(**kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


# --- the app in this process -----------------------------------------------------------------


class _Lifespan:
    """Drives an ASGI app's lifespan protocol, as a server does (cf. asgi-lifespan)."""

    def __init__(self, app: Starlette, timeout: float) -> None:
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


class AsyncInProcess:
    """The emailshare app running in the caller's event loop (asyncio), no socket, no thread.

    ``async with AsyncInProcess(fixture=doc) as app:`` runs the app's lifespan (the store
    opens, migrations run), loads ``fixture``, and offers ``app.client``, an
    ``httpx.AsyncClient`` over ``httpx.ASGITransport`` with ``base_url`` :data:`INPROCESS_URL`.
    The store is a fresh temporary SQLite file unless ``db_url`` (or ``settings.db_url``, when
    not the default) names one; a store named so is used as it is, not emptied.
    ``raise_app_exceptions`` makes a crash raise in the test instead of answering 500 as a
    server does.
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
        self._lifespan: _Lifespan | None = None
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
        self._app = create_app(self._resolve_settings())
        self._lifespan = _Lifespan(self._app, self._timeout)
        try:
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


class _LoopThread:
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
def _bridge_class() -> Callable[[_LoopThread, httpx.ASGITransport], httpx.BaseTransport]:
    import httpx

    class LoopBridge(httpx.BaseTransport):
        """A sync httpx transport that hands each request to the ASGI transport on the loop."""

        def __init__(self, loop: _LoopThread, inner: httpx.ASGITransport) -> None:
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


class InProcess:
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
        self._loop: _LoopThread | None = None
        self._client: httpx.Client | None = None

    def start(self) -> None:
        """Start the loop thread and the app (lifespan, fixture); open the client."""
        import httpx

        if self._loop is not None:
            raise RuntimeError("already started")
        self._loop = _LoopThread()
        try:
            self._loop.run(self._inner.start())
        except BaseException:
            self._loop.close()
            self._loop = None
            raise
        transport = _bridge_class()(self._loop, self._inner.transport)
        self._client = httpx.Client(transport=transport, base_url=self._inner.url)

    def stop(self) -> None:
        """Close the client, shut the app down, stop the loop thread."""
        if self._client is not None:
            self._client.close()
            self._client = None
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
