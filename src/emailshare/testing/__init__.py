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

from emailshare.testing.inprocess import (
    INPROCESS_URL,
    AsyncInProcess,
    InProcess,
    running_app,
    running_app_async,
)
from emailshare.testing.journal import RequestEntry
from emailshare.testing.server import (
    ServerProcess,
    free_port,
    running_server,
    start_server,
    stop_group,
    wait_for_port,
)
from emailshare.testing.store import (
    DEFAULT_SCOPES,
    Emailshare,
    FixtureSource,
    fixture_orgs,
    load_fixture,
    load_into,
    mint_into,
    mint_token,
    read_fixture,
    reset_store,
)

__all__ = [
    "DEFAULT_SCOPES",
    "INPROCESS_URL",
    "AsyncInProcess",
    "Emailshare",
    "FixtureSource",
    "InProcess",
    "RequestEntry",
    "ServerProcess",
    "fixture_orgs",
    "free_port",
    "load_fixture",
    "load_into",
    "mint_into",
    "mint_token",
    "read_fixture",
    "reset_store",
    "running_app",
    "running_app_async",
    "running_server",
    "start_server",
    "stop_group",
    "wait_for_port",
]
