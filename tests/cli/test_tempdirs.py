"""Temporary folders go when their server stops: the demo's store (unless ``--keep``) and
the folders of the test servers of emailshare.testing (docs/operations.md, "Temporary
folders")."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from emailshare.testing import free_port, running_server, start_server, stop_group
from tests.cli.run import command_env
from tests.conftest import ACME_FIXTURE


def _demo(tmp: Path, *flags: str) -> tuple[str, int]:
    """Run ``emailshare demo`` with ``tmp`` as its temporary folder until it answers, then
    stop it with Ctrl-C (SIGINT); what it printed and its exit status."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "emailshare", "demo", "--port", str(port), *flags],
        cwd=tmp,
        env=command_env({"TMPDIR": str(tmp)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    out = []
    try:
        for line in proc.stdout:
            out.append(line)
            if line.startswith("(token for"):
                break
        assert len(list(tmp.glob("emailshare-demo-*"))) == 1  # while it runs
        with httpx.Client(trust_env=False) as c:
            assert c.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        stop_group(proc, signal.SIGINT, timeout=20)  # type: ignore[arg-type]
    out.append(proc.stdout.read())
    return "".join(out), proc.returncode


def test_the_demo_removes_its_store_when_it_stops(tmp_path: Path) -> None:
    printed, _ = _demo(tmp_path)
    assert "removed when the demo stops" in printed
    assert list(tmp_path.glob("emailshare-*")) == []


def test_the_demo_keeps_its_store_when_asked(tmp_path: Path) -> None:
    printed, _ = _demo(tmp_path, "--keep")
    [kept] = tmp_path.glob("emailshare-demo-*")
    assert (kept / "demo.db").is_file()
    assert f"the store is kept in {kept}" in printed


def test_test_servers_remove_the_folder_they_made() -> None:
    with running_server(fixture=ACME_FIXTURE) as server:
        made = server.made_dir
        assert made is not None
        assert made.name.startswith("emailshare-")
        assert (made / "server.log").is_file()
        assert (made / "emailshare.db").is_file()
    assert not made.exists()
    assert "loaded " in server.log()  # what it printed is still there to read


def test_a_folder_given_is_kept(tmp_path: Path) -> None:
    server = start_server(workdir=tmp_path / "mine", fixture=ACME_FIXTURE)
    server.stop()
    assert (tmp_path / "mine" / "server.log").is_file()


def test_serve_says_what_it_serves_once_it_answers(tmp_path: Path) -> None:
    with running_server(
        db_url=f"sqlite:///{tmp_path / 'acme.db'}",
        fixture=ACME_FIXTURE,
        args=["--admin-key", "k" * 32],
    ) as server:
        deadline = time.monotonic() + 10
        while "next:" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = server.log()
    store = f"sqlite:///{tmp_path / 'acme.db'}"
    assert f"emailshare: serving {store} (2 orgs, 10 users, 8 records" in log
    assert f"on {server.url}" in log
    assert f"admin page: {server.url}/__emailshare/" in log
    assert "next: emailshare token --db" in log


def test_no_folder_is_left_after_test_servers_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted in a temporary folder of the test's own (for this process and the server's):
    the server's folder and its metrics folder while it runs, none after."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert list(tmp_path.glob("emailshare-*")) == []
    for _ in range(2):
        with running_server(fixture=ACME_FIXTURE, env={"TMPDIR": str(tmp_path)}) as server:
            deadline = time.monotonic() + 10
            while len(list(tmp_path.glob("emailshare-*"))) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            names = sorted(p.name.rsplit("-", 1)[0] for p in tmp_path.glob("emailshare-*"))
            assert names == ["emailshare", "emailshare-metrics"], server.log()
        assert list(tmp_path.glob("emailshare-*")) == []
