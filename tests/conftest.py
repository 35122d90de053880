"""Shared fixtures and the API suite's two transports (docs/testing.md).

:func:`serve` starts emailshare for a test in one of two ways: the ASGI app in this process
(:class:`~emailshare.testing.InProcess`, no socket: the default, fast) or ``emailshare serve`` as a
child process on a real socket (:class:`~emailshare.testing.ServerProcess`, granian in front).
``EMAILSHARE_TEST_TRANSPORT=socket`` turns every :func:`serve` into the second, as CI does; a
test marked ``@pytest.mark.socket`` (a module: ``pytestmark``) always gets the second, because
what it checks needs a real process (SIGKILL, two workers, granian, raw bytes on the wire).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from emailshare.config import Settings
from emailshare.testing import (
    Emailshare,
    FixtureSource,
    InProcess,
    ServerProcess,
    start_server,
)

DATA = Path(__file__).parent / "data"
ACME_FIXTURE = DATA / "acme.json"


def acme() -> dict[str, Any]:
    """The shared test org document (tests/data/acme.json)."""
    doc: dict[str, Any] = json.loads(ACME_FIXTURE.read_text())
    return doc


def db_url_for(tmp: Path) -> str:
    """The store the API suite runs against: SQLite by default, PostgreSQL when
    EMAILSHARE_TEST_PG is a server URL (a fresh database is made per session)."""
    pg = os.environ.get("EMAILSHARE_TEST_PG")
    if pg:
        from tests.pgutil import fresh_database

        return fresh_database(pg)
    return f"sqlite:///{tmp / 'emailshare.db'}"


# The older name, kept for importers; not a test despite its prefix.
test_db_url = db_url_for
test_db_url.__test__ = False  # type: ignore[attr-defined]


#: The switch: ``inprocess`` (the default) or ``socket``.
TRANSPORT_VAR = "EMAILSHARE_TEST_TRANSPORT"
TRANSPORTS = ("inprocess", "socket")
SOCKET_MARK = "socket"


def transport() -> str:
    """The transport :func:`serve` uses for tests not marked ``socket`` (see TRANSPORT_VAR)."""
    value = os.environ.get(TRANSPORT_VAR, "").strip().lower() or "inprocess"
    if value not in TRANSPORTS:
        raise pytest.UsageError(f"{TRANSPORT_VAR} must be one of {', '.join(TRANSPORTS)}")
    return value


def pytest_configure(config: pytest.Config) -> None:
    transport()  # a bad value stops the run here, before any test
    config.addinivalue_line(
        "markers",
        f"{SOCKET_MARK}: always a real server on a real socket, whatever {TRANSPORT_VAR} says "
        "(what the test checks needs a real process: SIGKILL, workers, granian, raw bytes)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"emailshare API transport: {transport()} ({TRANSPORT_VAR}; docs/testing.md)"


class Served(Emailshare, Protocol):
    """What :func:`serve` hands a test: a server-like handle with either transport behind it
    (``url``, ``db_url``, ``client``, ``load``, ``reset``, ``token``), and ``stop``."""

    def stop(self) -> None: ...


def over_socket(request: pytest.FixtureRequest) -> bool:
    """Whether :func:`serve` starts a real server for the test or module behind ``request``."""
    return request.node.get_closest_marker(SOCKET_MARK) is not None or transport() == "socket"


def _flags(options: dict[str, Any]) -> list[str]:
    """``emailshare serve``'s flags for Settings fields (``admin_key="k"`` is ``--admin-key k``)."""
    args: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not False and value is not None:
            args += [flag, str(value)]
    return args


def serve(
    request: pytest.FixtureRequest,
    tmp: Path,
    *,
    fixture: FixtureSource | None = None,
    db_url: str | None = None,
    workers: int = 1,
    **options: Any,
) -> Served:
    """Start emailshare for a test on the transport :func:`over_socket` picks; the caller stops it.

    ``db_url`` defaults to :func:`db_url_for` ``tmp`` (PostgreSQL under EMAILSHARE_TEST_PG).
    ``options`` are Settings fields (``admin_key``, ``cache_size``, ``credits_per_day``…): flags
    of ``emailshare serve`` on a socket, ``Settings`` in process. More than one worker needs a
    real server, so it needs the ``socket`` mark.
    """
    known = {f.name for f in fields(Settings)} - {"db_url", "clock"}
    if unknown := set(options) - known:
        raise TypeError(f"not a setting of emailshare serve: {sorted(unknown)}")
    db_url = db_url or db_url_for(tmp)
    if over_socket(request):
        return start_server(db_url=db_url, fixture=fixture, workers=workers, args=_flags(options))
    if workers != 1:
        raise pytest.UsageError(f"{workers} workers need a real server: mark the test 'socket'")
    app = InProcess(fixture=fixture, settings=Settings(db_url=db_url, **options))
    app.start()
    return app


def open_client(served: Emailshare, **kwargs: Any) -> httpx.Client:
    """A new ``httpx.Client`` to ``served`` over its transport (``kwargs`` go to httpx);
    ``served.client`` is the shared one."""
    if isinstance(served, InProcess):
        return httpx.Client(transport=served.transport, base_url=served.url, **kwargs)
    # trust_env off: a proxy from the environment must not carry calls to 127.0.0.1.
    return httpx.Client(base_url=served.url, trust_env=False, **kwargs)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One emailshare server on a real socket, loaded with tests/data/acme.json, shared by
    read-only tests (tests/api has a two-transport ``server`` of its own)."""
    tmp = tmp_path_factory.mktemp("server")
    srv = start_server(db_url=db_url_for(tmp), fixture=ACME_FIXTURE, workers=1)
    yield srv
    srv.stop()
