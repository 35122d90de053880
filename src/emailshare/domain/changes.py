"""What a write changed, as the change log records it (``storage/changes.py``) and the caches
read it (``service/cache.py``): the narrowest scope that holds every fact the write touched.

A details answer depends on its caller (token, user, role), on its record (owner, record
shares, email shares) and on its org (users, roles, data sharing, custom modules, mailboxes):
so a write names one record of an org, one org, the tokens of an org, or everything.
"""

from __future__ import annotations

from typing import NamedTuple

RECORD = "record"  # one record of an org: email shares, record shares, the record's row
ORG = "org"  # one org: users, roles, data sharing, mailboxes, custom modules, a reload
TOKENS = "tokens"  # access tokens of an org deleted by a write (revoked, capped)
ALL = "all"  # everything: a reset, or a write that names no narrower scope
KINDS = frozenset({RECORD, ORG, TOKENS, ALL})


class Change(NamedTuple):
    """One scope a committed write changed; ``seq`` orders writes (one per transaction)."""

    seq: int
    kind: str
    org_id: int | None = None
    record_id: int | None = None


class ChangeBatch(NamedTuple):
    """The changes committed after a reader's last seq, up to ``latest``; ``changes`` is None
    when they cannot be told exactly (pruned from the log, too many, the store went back):
    the reader then forgets everything."""

    latest: int
    changes: tuple[Change, ...] | None
