"""Servers of the hostile-input tests: their own, so that writes never reach other suites.

``hostile`` is always a real server on a real socket (raw bytes go to granian); the modules that
use it are marked ``socket`` (docs/testing.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emailshare.testing import ServerProcess, start_server
from tests.conftest import ACME_FIXTURE, db_url_for


@pytest.fixture(scope="package")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """emailshare on tests/data/acme.json, for fuzzing: requests may write (share/unshare)."""
    srv = start_server(
        db_url=db_url_for(tmp_path_factory.mktemp("hostile")), fixture=ACME_FIXTURE, workers=1
    )
    yield srv
    srv.stop()
