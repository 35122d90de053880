"""Shared fixtures: a real emailshare server over a real socket and a real store."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emailshare.testing import ServerProcess, start_server

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


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One emailshare server, loaded with tests/data/acme.json, shared by read-only tests."""
    tmp = tmp_path_factory.mktemp("server")
    srv = start_server(db_url=db_url_for(tmp), fixture=ACME_FIXTURE, workers=1)
    yield srv
    srv.stop()
