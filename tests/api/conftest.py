"""The API suite's shared server, on the transport EMAILSHARE_TEST_TRANSPORT picks (in this
process by default, a real socket under ``socket``; docs/testing.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ACME_FIXTURE, Served, serve


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One emailshare loaded with tests/data/acme.json, shared by the read-only tests of
    tests/api (it overrides tests/conftest.py's socket-only ``server`` here)."""
    srv = serve(request, tmp_path_factory.mktemp("server"), fixture=ACME_FIXTURE)
    yield srv
    srv.stop()
