"""A real ``emailshare serve`` on a real socket, as a child process."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import (
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from emailshare.service.admin import LoadSummary
from emailshare.testing.journal import JournalReads
from emailshare.testing.store import (
    DEFAULT_SCOPES,
    FixtureSource,
    _is_text,
    load_fixture,
    mint_token,
    read_fixture,
    reset_store,
)


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


def stop_group(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10.0
) -> None:
    """Stop a child started with ``start_new_session`` and everything in its process group (a
    server's workers): ``sig``, then SIGKILL if it has not exited within ``timeout``."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


# --- a real server on a real socket ----------------------------------------------------------


@dataclass
class ServerProcess(JournalReads):
    """A running ``emailshare serve`` child process; ``requests(...)`` reads its journal
    (``emailshare.testing.journal``) when it runs with an admin key."""

    url: str
    db_url: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    # The temporary folder start_server made (log, fixture, default store): removed at stop.
    made_dir: Path | None = None
    admin_key: str | None = field(default=None, repr=False)  # --admin-key, when given
    _last_log: str | None = field(default=None, init=False, repr=False, compare=False)
    _client: httpx.Client | None = field(default=None, init=False, repr=False, compare=False)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Stop the server and its workers (the whole process group)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        stop_group(self.proc, sig, timeout)
        if self.made_dir is not None and self.proc.poll() is not None:
            self._last_log = self.log()
            shutil.rmtree(self.made_dir, ignore_errors=True)
            self.made_dir = None

    def _journal_target(self) -> tuple[httpx.Client, str | None]:
        return self.client, self.admin_key

    def log(self) -> str:
        """What the server printed so far (for failure messages); after :meth:`stop` removed
        its temporary folder, what it had printed by then."""
        if self._last_log is not None:
            return self._last_log
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def client(self) -> httpx.Client:
        """An ``httpx.Client`` with ``base_url`` set to this server; closed by :meth:`stop`."""
        if self._client is None:
            import httpx

            # trust_env off: a proxy from the environment must not carry calls to 127.0.0.1.
            self._client = httpx.Client(base_url=self.url, trust_env=False)
        return self._client

    def load(self, source: FixtureSource, *, reset: bool = False) -> LoadSummary:
        """Load a fixture document into this server's store (see :func:`load_fixture`)."""
        return load_fixture(self.db_url, source, reset=reset)

    def reset(self) -> None:
        """Empty this server's store (see :func:`reset_store`)."""
        reset_store(self.db_url)

    def token(
        self,
        user_id: int | str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        *,
        expires_in: int = 3600,
        org_id: int | str | None = None,
    ) -> str:
        """A new access token for a user of this server's store (see :func:`mint_token`)."""
        return mint_token(self.db_url, user_id, scopes, expires_in=expires_in, org_id=org_id)


def _fixture_file(source: FixtureSource, workdir: Path) -> str:
    """A file ``emailshare serve --load`` can read holding ``source``."""
    if isinstance(source, Mapping | list | tuple):
        path = workdir / "fixture.json"
        path.write_text(json.dumps(read_fixture(source)), encoding="utf-8")
        return os.fspath(path)
    if isinstance(source, bytes | str) and (isinstance(source, bytes) or _is_text(source)):
        path = workdir / "fixture.yaml"  # read as JSON first, then YAML
        path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8"))
        return os.fspath(path)
    return os.fspath(source)


def _admin_key(args: list[str], env: Mapping[str, str]) -> str | None:
    """The admin key the server was given: ``--admin-key K`` (or ``=K``), else the variable."""
    for i, arg in enumerate(args):
        if arg == "--admin-key" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--admin-key="):
            return arg.split("=", 1)[1]
    return env.get("EMAILSHARE_ADMIN_KEY") or None


def start_server(
    *,
    db_url: str | None = None,
    fixture: FixtureSource | None = None,
    workers: int = 1,
    port: int | None = None,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    workdir: str | os.PathLike[str] | None = None,
) -> ServerProcess:
    """Start ``emailshare serve`` on 127.0.0.1 in a process group of its own; wait for it.

    ``fixture`` (a path, a mapping or JSON/YAML text) is loaded before the server listens.
    ``workdir`` holds the log (and the default SQLite store); a new temporary directory when
    not given, removed (with that store) when the server stops.
    """
    made = workdir is None
    if workdir is None:
        workdir = tempfile.mkdtemp(prefix="emailshare-")
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    if db_url is None:
        db_url = f"sqlite:///{work / 'emailshare.db'}"
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
        cmd += ["--load", _fixture_file(fixture, work)]
    cmd += args or []
    log_path = work / "server.log"
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
        made_dir=work if made else None,
        admin_key=_admin_key(args or [], child_env),
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
