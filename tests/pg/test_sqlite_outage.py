"""SQLite's disk fills up under load (a small tmpfs the test mounts, filled to the last byte):
every write meanwhile is Zoho's INTERNAL_ERROR within the bound, reads and /readyz go on being
served (the store can still answer them), writes succeed again as soon as there is room, and
every log line is JSON (docs/reliability.md, "Store outages")."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emailshare.testing import start_server
from tests.conftest import ACME_FIXTURE
from tests.pg.outage import check_log, check_outage, run_load, shared_now


@contextlib.contextmanager
def small_disk(megabytes: int) -> Iterator[Path]:
    """A tmpfs of ``megabytes`` mounted on a new directory; skipped where mounting is not
    permitted (not root, or a container without CAP_SYS_ADMIN)."""
    where = Path(tempfile.mkdtemp(prefix="emailshare-disk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def fill(disk: Path) -> None:
    """Write zeros to ``disk`` until it has no byte left, into the filler file made before the
    load began (making it then could itself fail: the server's own files may have taken the
    last free bytes first, seen once under two suites at a time). Opening it may fail for want
    of space too (seen once more under two suites): the disk is full then, as wanted."""
    with contextlib.suppress(OSError), (disk / "filler").open("ab") as out:
        while True:
            out.write(b"\0" * 65536)
            out.flush()


def test_disk_full_and_recovery(tmp_path: Path) -> None:
    work = tmp_path / "server"  # the log, off the small disk
    with small_disk(64) as disk:
        (disk / "filler").touch()  # see fill()
        server = start_server(
            db_url=f"sqlite:///{disk / 'emailshare.db'}",
            fixture=ACME_FIXTURE,
            workers=2,
            workdir=work,
        )
        try:
            outage = run_load(server.url, lambda: fill(disk), (disk / "filler").unlink, down=4.0)
            check_outage(outage, reads_fail=False)
            assert shared_now(server.url) == outage.seen.shared
            check_log(server.log())
        finally:
            server.stop()
