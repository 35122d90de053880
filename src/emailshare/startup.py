"""What can stop ``emailshare`` at start-up, said in one line with an exit status of its own.

Every failure a user can cause (a port in use, a missing driver, a store that cannot be
opened, a bad store URL, a bad fixture, a bad setting) ends the command with one line on stderr
saying what happened and what to do, and the status of docs/operations.md's table. A port is
claimed before anything else: granian binds with SO_REUSEPORT, so a second server on a port
would silently share it; :func:`claim_port` refuses instead.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from enum import IntEnum

from emailshare.domain.errors import FixtureError
from emailshare.storage.db import StoreUnavailable, redact

POSTGRES_EXTRA = "pip install 'emailshare[postgres]' (from a clone: pip install '.[postgres]')"


class Exit(IntEnum):
    """The exit statuses of ``emailshare`` (docs/operations.md, "Exit statuses")."""

    OK = 0
    FAILED = 1  # a command ran and reports a failure (a sync pass with failing mailboxes)
    FIXTURE = 2  # a fixture cannot be read, parsed or validated
    PORT = 3  # the port is in use, or may not be bound
    STORE = 4  # the store cannot be opened or reached
    URL = 5  # the store URL is not one emailshare takes
    DRIVER = 6  # the store needs a driver that is not installed
    SETTING = 7  # a setting or a file it names is wrong (key file, empty store for token)
    USAGE = 64  # the command line itself (argparse)
    INTERRUPTED = 130  # Ctrl-C


class Refused(Exception):
    """A start-up failure already said in one line, with its exit status."""

    def __init__(self, status: Exit, line: str) -> None:
        super().__init__(line)
        self.status = status
        self.line = line


def one_line(text: object) -> str:
    """Text on one line: newlines and runs of spaces become single spaces."""
    return " ".join(str(text).split())


def check_db_url(url: str) -> None:
    """Refuse a store URL emailshare does not take, before anything is opened."""
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg  # noqa: F401
            import psycopg_pool  # noqa: F401
        except ImportError:
            raise Refused(
                Exit.DRIVER, f"the store {redact(url)} needs PostgreSQL's driver: {POSTGRES_EXTRA}"
            ) from None
        return
    raise Refused(
        Exit.URL,
        f"{redact(url)!r} is not a store URL: use sqlite:///path.db (sqlite:////abs/path.db) "
        "or postgresql://user:password@host:5432/dbname",
    )


def classify(exc: BaseException, db_url: str | None) -> Refused | None:
    """The one-line form of a start-up failure, or None for a bug (left to show its trace)."""
    if isinstance(exc, Refused):
        return exc
    where = f" {redact(db_url)}" if db_url else ""
    if isinstance(exc, FixtureError):
        return Refused(Exit.FIXTURE, one_line(exc))
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("psycopg"):
        return Refused(Exit.DRIVER, f"PostgreSQL's driver is not installed: {POSTGRES_EXTRA}")
    if isinstance(exc, StoreUnavailable | sqlite3.Error):
        todo = (
            "check that PostgreSQL runs and the URL's host, port, user, password and database"
            if (db_url or "").startswith("postgres")
            else "give --db a SQLite file emailshare can read and write (or a new path)"
        )
        return Refused(Exit.STORE, f"cannot open the store{where}: {one_line(exc)}; {todo}")
    if isinstance(exc, OSError):
        return Refused(
            Exit.STORE,
            f"cannot open the store{where}: {one_line(exc)}; give --db a path you can write",
        )
    if isinstance(exc, ValueError):
        return Refused(Exit.SETTING, one_line(exc))
    return None


def port_lock_name(port: int) -> str:
    """The abstract Unix socket that marks a port as claimed by an emailshare (Linux)."""
    return f"\0emailshare-port-{port}"


@contextlib.contextmanager
def quiet_driver() -> Iterator[None]:
    """While a command opens the store: the PostgreSQL pool's own warnings (each failed
    attempt to connect) are not printed; its failure is said once, by :func:`classify`."""
    log = logging.getLogger("psycopg")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def claim_port(host: str, port: int) -> socket.socket | None:
    """Refuse a port some process listens on; hold it against another emailshare until this
    process exits (the returned socket). Bound without SO_REUSEPORT, so a listener with it
    (granian) is seen too; SO_REUSEADDR, so a closing connection's TIME_WAIT is not."""
    held: socket.socket | None = None
    if sys.platform == "linux":
        held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            held.bind(port_lock_name(port))
        except OSError:
            held.close()
            raise _in_use(host, port, "another emailshare") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        _close(held)
        line = f"cannot listen on {host!r}: {one_line(exc)}; check --host"
        raise Refused(Exit.PORT, line) from None
    for family, kind, proto, _, addr in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(addr)
            except OSError as exc:
                if exc.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL) and len(infos) > 1:
                    continue
                _close(held)
                if exc.errno == errno.EADDRINUSE:
                    raise _in_use(host, port, "another program") from None
                if exc.errno == errno.EACCES:
                    raise Refused(
                        Exit.PORT,
                        f"port {port} may not be bound by this user; choose one above 1023 "
                        "with --port",
                    ) from None
                raise Refused(
                    Exit.PORT, f"cannot listen on {host}:{port}: {one_line(exc)}; check --host"
                ) from None
    return held


def _in_use(host: str, port: int, by: str) -> Refused:
    return Refused(
        Exit.PORT,
        f"port {port} on {host} is in use (by {by}); stop it, or choose another port with --port",
    )


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        sock.close()


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether an HTTP server answers ``GET /healthz`` on host:port right now."""
    target = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104
    with contextlib.suppress(OSError), socket.create_connection((target, port), timeout) as s:
        s.settimeout(timeout)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return s.recv(12).startswith(b"HTTP/1.1 ")
    return False


@contextlib.contextmanager
def once_answering(
    host: str, port: int, say: Callable[[], None], timeout: float = 60.0
) -> Iterator[None]:
    """While the body serves (blocking): call ``say`` once the server answers on host:port."""
    stop = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            if answers(host, port):
                say()
                return
            stop.wait(0.05)

    thread = threading.Thread(target=watch, name="emailshare-banner", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
