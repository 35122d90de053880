"""PostgreSQL goes away under load (``pg_ctl stop -m immediate``): every answer meanwhile is
Zoho's INTERNAL_ERROR within the bound, /readyz says not-ready at once, service resumes by
itself when the store returns, no acknowledged write is lost, every log line is JSON
(docs/reliability.md, "Store outages")."""

from __future__ import annotations

from emailshare.testing import start_server
from tests.conftest import ACME_FIXTURE
from tests.pg.outage import check_log, check_outage, run_load, shared_now
from tests.pgutil import Cluster, fresh_database


def test_store_outage_and_recovery() -> None:
    cluster = Cluster.create()
    cluster.start()
    try:
        server = start_server(db_url=fresh_database(cluster.url), fixture=ACME_FIXTURE, workers=2)
        try:
            outage = run_load(
                server.url, lambda: cluster.stop("immediate"), cluster.start, down=4.0
            )
            check_outage(outage)
            # No acknowledged write was lost: the last acknowledged state is what the store holds.
            assert shared_now(server.url) == outage.seen.shared
            lines = check_log(server.log())
            assert '"logger":"emailshare.store"' in server.log()  # the circuit opened, closed
            print(f"log: {lines} lines, all JSON")
        finally:
            server.stop()
    finally:
        cluster.destroy()
