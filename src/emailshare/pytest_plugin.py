"""emailshare's pytest plugin (entry point ``pytest11``): emailshare as a fixture.

Fixtures (each gives a fresh store per test, holding the test's fixture document):

- ``emailshare_server``: ``emailshare serve`` on a free port, a new SQLite file per test;
- ``emailshare_shared_server``: one server per session (or module), emptied and reloaded
  before each test (its request journal cleared): faster, but state outside the store
  (rate-limit counters) carries over between tests;
- ``emailshare_app``: the ASGI app in this process, an ``httpx.Client`` over
  ``httpx.ASGITransport``, in-memory SQLite; ``emailshare_async_app`` is its async form;
- ``emailshare_any``: each test twice, once in-process and once on a server.

Each runs with the admin API on (a fresh key, unless the test's settings set one), so that
``.requests(...)`` can read the request journal: what a client sent, as typed entries.

The document comes from ``@pytest.mark.emailshare(fixture=...)`` (a path, a dict, JSON/YAML
text, or a list of domain ``Org`` values), else from the ``emailshare_fixture`` fixture, which
a conftest may override; else the store starts empty. See docs/quickstart-pytest.md.

Nothing heavy is imported here: pytest loads this module in every run of an environment where
emailshare is installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import pytest

from emailshare.config import Settings  # stdlib only: cheap to import with pytest

if TYPE_CHECKING:
    from emailshare.testing import (
        AsyncInProcess,
        Emailshare,
        FixtureSource,
        InProcess,
        ServerProcess,
    )
    from emailshare.testing.store import ValidatedOrgs

MARKER = "emailshare"
_MARKER_KEYS = ("fixture", "settings")
# Settings fields that `emailshare serve` takes as flags: every field but the store (which the
# fixture chooses) and the clock, spelled as the field (see cli.build_parser).
_SERVER_FLAGS = {
    f.name: "--" + f.name.replace("_", "-")
    for f in dataclasses.fields(Settings)
    if f.name not in ("db_url", "clock")
}
_LOG_TAIL = 4000
_SERVERS = pytest.StashKey[list["ServerProcess"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("emailshare", "emailshare fixtures")
    group.addoption(
        "--emailshare-db",
        dest="emailshare_db",
        metavar="URL",
        default=None,
        help="run the emailshare fixtures on this store (e.g. postgresql://…) instead of a "
        "fresh SQLite store per test; ITS DATA IS ERASED before every test",
    )
    group.addoption(
        "--emailshare-reuse-scope",
        dest="emailshare_reuse_scope",
        choices=("session", "module"),
        default=None,
        help="how long emailshare_shared_server keeps one server (default: session)",
    )
    parser.addini("emailshare_db", "default for --emailshare-db", default="")
    parser.addini("emailshare_reuse_scope", "default for --emailshare-reuse-scope", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(fixture=None, settings=None): the fixture document the emailshare fixtures "
        "load (a path, a dict, JSON/YAML text, or a list of Org) and Settings fields to run with",
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    url = _configured_db(config)
    if url is None:
        return None
    from emailshare.storage.db import redact

    return f"emailshare: fixtures use the store {redact(url)} (erased before each test)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for server in item.stash.get(_SERVERS, []):
            with contextlib.suppress(OSError):
                tail = server.log()[-_LOG_TAIL:]
                report.sections.append((f"emailshare server log ({server.url})", tail))
    return report


# --- what a test asked for -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Choice:
    orgs: ValidatedOrgs | None  # parsed and validated already: not validated again
    settings: Mapping[str, Any]


def _misuse(message: str) -> NoReturn:
    """Fail the test's setup with ``message`` alone (no traceback into the plugin)."""
    pytest.fail(message, pytrace=False)


def _marker_value(request: pytest.FixtureRequest, key: str, position: int) -> tuple[bool, Any]:
    """The closest ``emailshare`` marker (function, class, module) that sets ``key``."""
    for marker in request.node.iter_markers(MARKER):
        unknown = set(marker.kwargs) - set(_MARKER_KEYS)
        if unknown or len(marker.args) > 1:
            _misuse(
                f"@pytest.mark.{MARKER} takes fixture= and settings= only, got "
                f"{sorted(unknown) or marker.args}"
            )
        if key in marker.kwargs:
            return True, marker.kwargs[key]
        if position < len(marker.args):
            return True, marker.args[position]
    return False, None


def _choice(request: pytest.FixtureRequest, default: FixtureSource | None) -> _Choice:
    from emailshare.domain.errors import FixtureError
    from emailshare.testing.store import validated_orgs

    found, source = _marker_value(request, "fixture", 0)
    if not found:
        source = default
    orgs = None
    if source is not None:
        # Relative paths: next to the test file first, then from the rootdir.
        problem = None
        try:
            orgs = validated_orgs(source, (request.path.parent, request.config.rootpath))
        except FixtureError as exc:  # the message names the bad key: a traceback adds nothing
            problem = str(exc)
        if problem is not None:
            _misuse(f"emailshare fixture document: {problem}")
    _, settings = _marker_value(request, "settings", 1)
    if settings is None:
        settings = {}
    if not isinstance(settings, Mapping):
        _misuse(f"@pytest.mark.{MARKER}(settings=...) must be a dict")
    from emailshare.config import Settings

    known = {f.name for f in dataclasses.fields(Settings)} - {"db_url"}
    unknown = set(settings) - known
    if unknown:
        _misuse(f"@pytest.mark.{MARKER}(settings=...): unknown Settings fields {sorted(unknown)}")
    return _Choice(orgs, settings)


def _configured_db(config: pytest.Config) -> str | None:
    url = config.getoption("emailshare_db") or config.getini("emailshare_db")
    return str(url) if url else None


def _reuse_scope(fixture_name: str, config: pytest.Config) -> Literal["session", "module"]:
    scope = config.getoption("emailshare_reuse_scope") or config.getini("emailshare_reuse_scope")
    if scope in ("", None, "session"):
        return "session"
    if scope == "module":
        return "module"
    raise pytest.UsageError(f"emailshare_reuse_scope must be session or module, not {scope!r}")


def _fresh_db(config: pytest.Config, default: str) -> str:
    """The store of one test: the configured one, erased; else ``default`` (new and empty)."""
    url = _configured_db(config)
    if url is None:
        return default
    from emailshare.testing import reset_store

    reset_store(url)
    return url


def _server_args(settings: Mapping[str, Any]) -> list[str]:
    args: list[str] = []
    for name, value in settings.items():
        flag = _SERVER_FLAGS.get(name)
        if flag is None:
            _misuse(
                f"@pytest.mark.{MARKER}(settings=...): {name} cannot be set on a server "
                f"(server settings: {', '.join(sorted(_SERVER_FLAGS))})"
            )
        if isinstance(value, bool):
            args += [flag] if value else []
        elif value is not None:
            args += [flag, str(value)]
    return args


def _with_admin_key(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The test's settings, with a fresh admin key unless it set one: the request journal
    (``requests(...)``) is kept only with the admin API on."""
    if settings.get("admin_key"):
        return dict(settings)
    import secrets

    return {**settings, "admin_key": secrets.token_hex(16)}


def _settings(choice: _Choice, db_url: str) -> Settings:
    from emailshare.config import Settings

    return Settings(**{**_with_admin_key(choice.settings), "db_url": db_url})


def _watch(request: pytest.FixtureRequest, server: ServerProcess) -> None:
    """Attach the server's log to the test's report if it fails."""
    request.node.stash.setdefault(_SERVERS, []).append(server)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def emailshare_fixture() -> FixtureSource | None:
    """The fixture document of tests that have no ``emailshare`` marker: none (an empty store).

    Override it (in a conftest, module or class) to give many tests one document: return a
    path, a dict, JSON/YAML text, or a list of :class:`~emailshare.domain.model.Org`. A
    marker's ``fixture=`` wins over it.
    """
    return None


@pytest.fixture
def emailshare_server(
    request: pytest.FixtureRequest, tmp_path: Path, emailshare_fixture: FixtureSource | None
) -> Iterator[ServerProcess]:
    """A real ``emailshare serve`` on a free port with a store of its own, for this test only.

    Yields a :class:`~emailshare.testing.ServerProcess`: ``.url``, ``.db_url``, ``.client``
    (``httpx.Client``), ``.token(user_id, scopes)``, ``.load(doc)``, ``.reset()``, ``.log()``,
    and ``.requests(path=, method=, status=, caller=, since=)``: what clients sent, from the
    request journal (the server runs with a fresh admin key unless the test sets one).
    """
    from emailshare.testing import start_server

    choice = _choice(request, emailshare_fixture)
    work = tmp_path / "emailshare"
    db_url = _fresh_db(request.config, f"sqlite:///{work / 'emailshare.db'}")
    server = start_server(
        db_url=db_url,
        fixture=choice.orgs,
        args=_server_args(_with_admin_key(choice.settings)),
        workdir=work,
    )
    _watch(request, server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope=_reuse_scope)
def _emailshare_shared_process(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    from emailshare.testing import start_server

    work = tmp_path_factory.mktemp("emailshare-shared")
    db_url = _fresh_db(request.config, f"sqlite:///{work / 'emailshare.db'}")
    server = start_server(db_url=db_url, workdir=work, args=_server_args(_with_admin_key({})))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emailshare_shared_server(
    request: pytest.FixtureRequest,
    _emailshare_shared_process: ServerProcess,
    emailshare_fixture: FixtureSource | None,
) -> ServerProcess:
    """``emailshare_server``'s faster sibling: one server per session (or module, see
    ``--emailshare-reuse-scope``), its store emptied and loaded with this test's document
    before the test, its request journal cleared. Store state never leaks between tests;
    process state does (rate-limit counters, a server a test stopped). Settings cannot vary
    per test.
    """
    server = _emailshare_shared_process
    choice = _choice(request, emailshare_fixture)
    if choice.settings:
        _misuse("emailshare_shared_server cannot take settings per test; use emailshare_server")
    if server.proc.poll() is not None:
        pytest.fail(
            f"the shared emailshare server exited (code {server.proc.returncode}):\n"
            + server.log()[-_LOG_TAIL:],
            pytrace=False,
        )
    if choice.orgs is None:
        server.reset()
    else:
        server.load(choice.orgs, reset=True)
    server.clear_requests()  # the journal shows this test's requests only
    _watch(request, server)
    return server


def _in_process_db(config: pytest.Config) -> str:
    # In memory: the app's one connection is the whole store, so nothing is shared or left.
    return _fresh_db(config, "sqlite:///:memory:")


@pytest.fixture
def emailshare_app(
    request: pytest.FixtureRequest, emailshare_fixture: FixtureSource | None
) -> Iterator[InProcess]:
    """The app in this process with a store of its own (in-memory SQLite), for this test only.

    Yields a :class:`~emailshare.testing.InProcess`: ``.client`` (an ``httpx.Client`` over
    ``httpx.ASGITransport``; the lifespan has run), ``.token()``, ``.load()``, ``.reset()``,
    ``.app``, ``.db_url``. Requests never touch a socket.
    """
    from emailshare.testing import InProcess

    choice = _choice(request, emailshare_fixture)
    settings = _settings(choice, _in_process_db(request.config))
    with InProcess(fixture=choice.orgs, settings=settings) as app:
        yield app


@pytest.fixture
async def emailshare_async_app(
    request: pytest.FixtureRequest, emailshare_fixture: FixtureSource | None
) -> AsyncIterator[AsyncInProcess]:
    """``emailshare_app`` in the test's own event loop: ``.client`` is an ``httpx.AsyncClient``
    and ``load``/``reset``/``token`` are awaited. Needs an async test runner on asyncio
    (``@pytest.mark.anyio`` with anyio's plugin, or pytest-asyncio).
    """
    from emailshare.testing import AsyncInProcess

    choice = _choice(request, emailshare_fixture)
    settings = _settings(choice, _in_process_db(request.config))
    async with AsyncInProcess(fixture=choice.orgs, settings=settings) as app:
        yield app


@pytest.fixture(params=["inprocess", "server"])
def emailshare_any(request: pytest.FixtureRequest) -> Emailshare:
    """Runs the test twice: on ``emailshare_app`` and on ``emailshare_server`` (same helpers)."""
    name = "emailshare_app" if request.param == "inprocess" else "emailshare_server"
    handle: Emailshare = request.getfixturevalue(name)
    return handle
