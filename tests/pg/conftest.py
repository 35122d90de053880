"""A PostgreSQL cluster of the tests' own, started with initdb + pg_ctl."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgutil import Cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster.create()
    c.start()
    yield c
    c.destroy()
