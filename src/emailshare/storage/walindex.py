"""SQLite's wal-index header, mapped: the cheap signal of ``SQLiteDatabase.version``.

In WAL mode every commit, by any connection of any process, rewrites the header in the
shared-memory file (``<db>-shm``); reading its 48 bytes through mmap costs ~0.3 µs.
"""

from __future__ import annotations

import mmap
import os

# The wal-index header (https://www.sqlite.org/walformat.html, "the WAL-index header"): its
# first copy, 48 bytes, holds the change counter every commit bumps.
WAL_INDEX_HEADER = 48
# Mapped wal-index headers, one per shared-memory file, per process. Their descriptors (ours
# and the one mmap keeps) are never closed: closing any descriptor of a file drops every POSIX
# lock the process holds on it, SQLite's own included. Bounded, for processes (test suites)
# that open many stores; past the bound, stores use the PRAGMA.
_WAL_INDEXES: dict[tuple[int, int], mmap.mmap] = {}
_KEPT_FDS: list[int] = []
_FD_OF: dict[tuple[int, int], int] = {}  # the kept descriptor of each mapped header
_MAX_WAL_INDEXES = 32


def wal_index_of(path: str) -> mmap.mmap | None:
    """The mapped wal-index header of the store at ``path`` (in WAL mode, open), or None."""
    shm = f"{path}-shm"
    try:
        st = os.stat(shm)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino)
    found = _WAL_INDEXES.get(key)
    if found is not None or len(_WAL_INDEXES) >= _MAX_WAL_INDEXES:
        return found
    if st.st_size < WAL_INDEX_HEADER:
        return None
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:
        return None
    _KEPT_FDS.append(fd)  # never closed: see above
    try:
        index = mmap.mmap(fd, WAL_INDEX_HEADER, prot=mmap.PROT_READ)
    except (OSError, ValueError):
        return None
    _WAL_INDEXES[key] = index
    _FD_OF[key] = fd
    return index


def writers_fd(path: str) -> int | None:
    """The kept descriptor of the mapped wal-index of the store at ``path``, which its
    writers ``flock`` (``SQLiteDatabase``), or None. Never closed, like the mapping."""
    try:
        st = os.stat(f"{path}-shm")
    except OSError:
        return None
    return _FD_OF.get((st.st_dev, st.st_ino))
