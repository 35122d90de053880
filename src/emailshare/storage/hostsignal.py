"""A counter that every process of this host bumps after each commit to one PostgreSQL store:
the change signal between the workers (and command-line processes) of one host, as strict as
SQLite's wal-index header. Notifications (``storage.postgres.Listener``) reach every instance
but arrive a moment after the commit, so a request a worker answers right after another
worker's write could miss it; the counter is bumped before the write is acknowledged, and read
on every request for ~0.3 µs.

The counter is 8 bytes in a file of the user's own (``/dev/shm/emailshare-<uid>/<key>.seq``,
the system's temporary folder where there is no ``/dev/shm``; mode 0600, the key a hash of the
store's address without its password), mapped by each process. Not under ``TMPDIR``: processes
given different ones must still share it, and a server's temporary folder is its own to
remove. Bumps take the file's lock, so each one changes it. Processes of another user or host
share no file: they rely on the notifications, with their bound (``STALENESS``).
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import tempfile
from pathlib import Path

from emailshare.storage.db import redact


def path_for(url: str) -> Path:
    """The counter's file for the store at ``url`` (its folder made, private, if need be)."""
    shm = Path("/dev/shm")  # noqa: S108 - the host's shared memory, not a temporary file
    base = shm if shm.is_dir() else Path(tempfile.gettempdir())
    folder = base / f"emailshare-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    st = folder.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise PermissionError(f"{folder} is not this user's own")  # no counter, then
    key = hashlib.sha256(redact(url).encode()).hexdigest()[:32]
    return folder / f"{key}.seq"


class HostSignal:
    """The host's counter of commits to one store, mapped."""

    def __init__(self, url: str) -> None:
        fd = os.open(path_for(url), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < 8:
                os.ftruncate(fd, 8)  # zeros; idempotent when two processes make it at once
            self._map = mmap.mmap(fd, 8)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def read(self) -> int:
        return int.from_bytes(self._map[:8], "little")

    def bump(self) -> None:
        """Change the counter (under the file's lock: no two bumps give the same value)."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            self._map[:8] = ((self.read() + 1) & (2**64 - 1)).to_bytes(8, "little")
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)
