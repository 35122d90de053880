"""``storage.hostsignal``: the counter the processes of one host bump after each commit to a
PostgreSQL store. Every bump, by any process, changes what every other process reads; stores
at other addresses have counters of their own, and a password does not make another one."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from emailshare.storage.hostsignal import HostSignal, path_for

_BUMP = (
    "import sys\n"
    "from emailshare.storage.hostsignal import HostSignal\n"
    "s = HostSignal(sys.argv[1])\n"
    "for _ in range(int(sys.argv[2])): s.bump()\n"
)


def test_every_bump_by_any_process_is_seen_by_the_others() -> None:
    url = f"postgresql://u@127.0.0.1:5432/db_{uuid.uuid4().hex}"
    reader, other = HostSignal(url), HostSignal(url)
    seen = [reader.read()]
    for _ in range(5):
        other.bump()
        assert reader.read() != seen[-1]
        seen.append(reader.read())
    procs = [subprocess.Popen([sys.executable, "-c", _BUMP, url, "200"]) for _ in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    assert reader.read() == seen[-1] + 600  # none lost: each bump under the file's lock
    assert (path_for(url).stat().st_mode & 0o777) == 0o600
    reader.close()
    other.close()
    path_for(url).unlink()


def test_each_store_has_a_counter_of_its_own() -> None:
    name = uuid.uuid4().hex
    base = f"postgresql://u@127.0.0.1:5432/db_{name}"
    assert path_for(base) != path_for(f"postgresql://u@127.0.0.1:5432/other_{name}")
    assert path_for("postgresql://u:one@h/db") == path_for("postgresql://u:two@h/db")


def test_the_counters_folder_is_private_and_outside_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    folder = path_for("postgresql://u@h/db").parent
    assert tmp_path not in folder.parents
    assert (folder.stat().st_mode & 0o777) == 0o700
