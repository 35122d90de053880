"""Helpers for running emailshare in tests: a real server on a real socket.

Usable outside pytest: ``with running_server(fixture=path) as srv: srv.url``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    host: str, port: int, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until something accepts TCP connections on host:port, or raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


@dataclass
class ServerProcess:
    """A running ``emailshare serve`` child process."""

    url: str
    db_url: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Stop the server and its workers (the whole process group)."""
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)

    def log(self) -> str:
        """What the server printed so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")


def start_server(
    *,
    db_url: str | None = None,
    fixture: str | os.PathLike[str] | None = None,
    workers: int = 1,
    port: int | None = None,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> ServerProcess:
    """Start ``emailshare serve`` on 127.0.0.1 in a process group of its own; wait for it."""
    workdir = Path(tempfile.mkdtemp(prefix="emailshare-"))
    if db_url is None:
        db_url = f"sqlite:///{workdir / 'emailshare.db'}"
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "emailshare",
        "serve",
        "--db",
        db_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if fixture is not None:
        cmd += ["--load", os.fspath(fixture)]
    cmd += args or []
    log_path = workdir / "server.log"
    child_env = {**os.environ, **(env or {})}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env, start_new_session=True
        )
    server = ServerProcess(
        url=f"http://127.0.0.1:{port}",
        db_url=db_url,
        port=port,
        proc=proc,
        log_path=log_path,
        extra_env=env or {},
    )
    try:
        wait_for_port("127.0.0.1", port, timeout, proc)
    except Exception as exc:
        server.stop()
        raise RuntimeError(f"emailshare did not start: {exc}\n{server.log()}") from exc
    return server


@contextlib.contextmanager
def running_server(**kwargs: object) -> Iterator[ServerProcess]:
    """Context-manager form of :func:`start_server`; stops the server on exit."""
    server = start_server(**kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
