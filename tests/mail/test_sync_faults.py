"""Syncing when things go wrong (docs/contract.md §13): a server stopped mid-pass, a sync killed
with SIGKILL, two instances on one PostgreSQL store, POP3 never deleting."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from emailshare.testing import free_port, load_fixture
from tests.mail.conftest import DORA, LEAD, PAT, WILL, Env, org_doc, query, stored
from tests.pgutil import Cluster, fresh_database

N = 600


def many(n: int, tag: str) -> list[bytes]:
    found = []
    for i in range(n):
        msg = EmailMessage()
        msg["From"], msg["To"] = LEAD, "will@acme.test"
        msg["Subject"] = f"{tag} {i}"
        msg["Message-ID"] = f"<{tag}-{i}@client.test>"
        msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
        msg.set_content("x" * 2000)
        found.append(msg.as_bytes())
    return found


def count(env: Env, owner: int) -> int:
    rows = query(env.db, "SELECT COUNT(*) FROM emails WHERE owner_id = ?", (owner,))
    return int(rows[0][0])


def start_sync(env: Env, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emailshare",
            "sync",
            "--db",
            env.db,
            "--secret-key-file",
            str(env.key_file),
            "--mail-timeout",
            "5",
            "--batch",
            "10",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_some(env: Env, owner: int, proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = count(env, owner)
        if got > 0:
            return got
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.02)
    raise AssertionError("the sync stored nothing in 60 s")


def test_sigkill_mid_pass_resumes_without_duplicates_or_losses(env: Env) -> None:
    env.dovecot.append_many("will@acme.test", many(N, "kill"))
    env.connect(WILL, "will@acme.test")
    proc = start_sync(env, "--lease-seconds", "2")
    wait_for_some(env, WILL, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = count(env, WILL)
    assert 0 < partial < N
    # The dead instance's lease still holds: another pass leaves the mailbox alone...
    assert "busy" in env.sync()
    # ...until it runs out: leases are kept in whole seconds (the store's clock), so a 2 s lease
    # taken at 100.9 holds until 102 and is still held at 102.8; wait the lease and one second.
    time.sleep(3.1)
    resumed = env.sync()
    got = stored(env.db, WILL)
    assert len(got) == N, resumed
    assert sorted(e["subject"] for e in got) == sorted(f"kill {i}" for i in range(N))
    assert query(env.db, "SELECT message_count FROM mailbox_servers") == [(N,)]


def test_server_stopped_mid_pass_keeps_emails_and_records_the_error(env: Env) -> None:
    env.dovecot.append_many("will@acme.test", many(N, "stop"))
    env.connect(WILL, "will@acme.test")
    env.connect(PAT, "pat@acme.test", port="pop3")
    proc = start_sync(env)
    wait_for_some(env, WILL, proc)
    env.dovecot.stop()
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert "unreachable" in out or "timed out" in out, out
    kept = count(env, WILL)
    assert 0 < kept < N
    listed = env.cli("mailbox", "list", "--db", env.db)
    assert "last error" in listed, listed
    env.dovecot.start()
    env.sync()
    assert count(env, WILL) == N
    assert "last error" not in env.cli("mailbox", "list", "--db", env.db)


def test_pop3_by_uidl_never_deleting(env: Env) -> None:
    d = env.dovecot
    for raw in many(3, "pop"):
        d.deliver("pat@acme.test", raw.replace(b"will@acme.test", b"pat@acme.test"))
    env.connect(PAT, "pat@acme.test", port="pop3")
    assert "3 new" in env.sync()
    d.deliver("pat@acme.test", many(1, "late")[0].replace(b"will@", b"pat@"))
    env.connect(PAT, "pat@acme.test", port="pop3s", security="tls")
    assert "1 new" in env.sync()
    assert "0 new" in env.sync()
    assert sorted(e["subject"] for e in stored(env.db, PAT)) == [
        "late 0",
        "pop 0",
        "pop 1",
        "pop 2",
    ]
    import poplib

    conn = poplib.POP3("127.0.0.1", d.ports["pop3"])
    conn.user("pat@acme.test")
    conn.pass_("pw-Pat-2b8e1d")
    assert conn.stat()[0] == 4  # all still on the server
    conn.quit()


@pytest.fixture
def pg_env(env: Env) -> Iterator[Env]:
    """``env`` on PostgreSQL: EMAILSHARE_TEST_PG's server, else a cluster of its own."""
    admin = os.environ.get("EMAILSHARE_TEST_PG")
    cluster = None
    if not admin:
        cluster = Cluster.create()
        cluster.start()
        admin = cluster.url
    try:
        db = fresh_database(admin)
        load_fixture(db, json.dumps(org_doc()), reset=True)
        yield Env(db, env.key_file, env.dovecot)
    finally:
        if cluster is not None:
            cluster.destroy()


def test_two_instances_on_postgresql_sync_one_mailbox_once(pg_env: Env) -> None:
    env = pg_env
    env.dovecot.append_many("will@acme.test", many(N, "two"))
    env.connect(WILL, "will@acme.test")
    procs = [start_sync(env) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    news = [
        int(line.split(": ", 1)[1].split(" new")[0])
        for out in outs
        for line in out.splitlines()
        if line.startswith(f"{WILL} ")
    ]
    assert sum(news) == N, outs
    assert count(env, WILL) == N


def test_unreachable_and_silent_servers_fail_alone(env: Env) -> None:
    """A port nobody listens on, and a server that accepts and never answers (timed out):
    each mailbox records its own error; the good one beside them is synced."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    dead_port = free_port()
    try:
        env.dovecot.append("dora@acme.test", many(1, "ok")[0].replace(b"will@", b"dora@"))
        env.connect(DORA, "dora@acme.test")
        env.cli(
            "mailbox",
            "set",
            "--db",
            env.db,
            "--user",
            str(WILL),
            "--host",
            "127.0.0.1",
            "--port",
            str(dead_port),
            "--security",
            "none",
            "--login",
            "will@acme.test",
        )
        env.cli(
            "mailbox",
            "set",
            "--db",
            env.db,
            "--user",
            str(PAT),
            "--host",
            "127.0.0.1",
            "--port",
            str(silent.getsockname()[1]),
            "--security",
            "tls",
            "--login",
            "p",
        )
        out = env.cli(
            "sync",
            "--db",
            env.db,
            "--secret-key-file",
            str(env.key_file),
            "--mail-timeout",
            "1",
            check=False,
        )
    finally:
        silent.close()
    lines = {line.split()[0]: line for line in out.splitlines() if line[:1].isdigit()}
    assert "unreachable" in lines[str(WILL)], out
    assert "timed out" in lines[str(PAT)], out
    assert "1 new" in lines[str(DORA)], out
    assert count(env, DORA) == 1
    errors = query(env.db, "SELECT user_id, failures FROM mailbox_servers ORDER BY user_id")
    assert errors == [(WILL, 1), (PAT, 1), (DORA, 0)]
