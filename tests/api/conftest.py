"""The API suite's shared server, on the transport EMAILSHARE_TEST_TRANSPORT picks (in this
process by default, a real socket under ``socket``; docs/testing.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emailshare.service.cache import Freshness
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


class FailsOnce:
    """``Freshness.check`` made to fail once, as a driver bug would; ``calls`` counts reads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self._monkeypatch = monkeypatch

    def arm(self) -> None:
        """From now on the next version read fails, the ones after it work."""
        read_version = Freshness.check

        async def fails_once(freshness: Freshness) -> int:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("version read failed")
            return await read_version(freshness)

        self._monkeypatch.setattr(Freshness, "check", fails_once)


@pytest.fixture
def version_read_fails_once(monkeypatch: pytest.MonkeyPatch) -> FailsOnce:
    """A fast path's failure of its own: arm it, and its next version read fails."""
    return FailsOnce(monkeypatch)
