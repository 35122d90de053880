"""Messages from files, for ``emailshare import-mail`` (docs/mailboxes.md): ``.eml`` files (one,
or a folder of them), an mbox file, or a Maildir — read with the standard library's ``mailbox``
module, handed to the same parser as synced messages."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path


def messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, bytes) of every message at ``path``; raises OSError / ValueError for a path that
    is none of the three kinds."""
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            box = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(box.iterkeys()):
                yield f"{path}/{key}", box.get_bytes(key)
            return
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".eml" and p.is_file())
        if not files:
            raise ValueError(f"{path}: neither a Maildir nor a folder of .eml files")
        for p in files:
            yield str(p), p.read_bytes()
        return
    if path.suffix.lower() == ".eml":
        yield str(path), path.read_bytes()
        return
    with path.open("rb") as f:
        head = f.read(5)
    if head != b"From ":
        raise ValueError(f"{path}: not an .eml file, an mbox file or a Maildir")
    mbox = mailbox.mbox(path, factory=None, create=False)
    try:
        for i, key in enumerate(mbox.iterkeys()):
            yield f"{path}#{i + 1}", mbox.get_bytes(key)
    finally:
        mbox.close()
