"""A throwaway PostgreSQL cluster for tests: initdb + pg_ctl on a temporary directory and port.

``initdb`` refuses to run as root, so as root every server command runs as the ``postgres``
user (``runuser``). Used by scripts/test (``python -m tests.pgutil start|stop``) and by tests
that stop and restart the store on purpose.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from emailshare.testing import free_port

PG_USER = "postgres"


def pg_bin() -> Path:
    """The directory holding initdb and pg_ctl (PATH first, then Debian's layout)."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *cmd]
    return cmd


@dataclass
class Cluster:
    """One PostgreSQL server on 127.0.0.1 with trust authentication."""

    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls, port: int | None = None) -> Cluster:
        directory = Path(tempfile.mkdtemp(prefix="emailshare-pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, PG_USER, PG_USER)
        cluster = cls(directory, port or free_port())
        subprocess.run(
            _as_owner(
                [
                    str(pg_bin() / "initdb"),
                    "-D",
                    str(cluster.data),
                    "-A",
                    "trust",
                    "-U",
                    PG_USER,
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        return cluster

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=on -c max_connections=200 -c shared_buffers=128MB"
        )
        subprocess.run(
            _as_owner(
                [
                    str(pg_bin() / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-l",
                    str(self.directory / "server.log"),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_owner(
                [
                    str(pg_bin() / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    "30",
                    "stop",
                ]
            ),
            check=False,
            capture_output=True,
        )

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def fresh_database(admin_url: str) -> str:
    """Create an empty database on the server of ``admin_url`` and return its URL."""
    import psycopg

    name = f"es_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def main(argv: list[str]) -> int:
    """``start`` prints ``<url> <directory>``; ``stop DIRECTORY`` stops and removes it."""
    if argv[:1] == ["start"]:
        cluster = Cluster.create()
        cluster.start()
        print(cluster.url, cluster.directory)
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        directory = Path(argv[1])
        Cluster(directory, 0).destroy()
        return 0
    print("usage: python -m tests.pgutil start | stop DIRECTORY", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
