"""The request journal's values: one exchange as it is kept, and a question asked of the journal.

They cross the journal's port (``service.ports.JournalStore``): the service writes entries and
asks queries, the store keeps and filters them. Every text here is redacted already (the api
layer does it, ``api/journal.py``): nothing secret is ever in an entry.
"""

from __future__ import annotations

from dataclasses import dataclass

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request and its answer, redacted. ``seq`` is the store's (0 until written)."""

    request_id: str
    started: float  # when the request arrived, seconds since the epoch
    method: str
    path: str
    query: str  # the query string, redacted; "" when none
    status: int
    duration: float  # seconds, from the request into the app to the end of the answer
    user_id: int | None  # the caller: the user and org of the request's token, when known
    org_id: int | None
    request_headers: Headers
    request_body: str  # its first bytes (capped), as text
    request_size: int  # the whole body's size, in bytes
    response_headers: Headers
    response_body: str
    response_size: int
    server: str  # the worker that answered: host and pid
    seq: int = 0


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """Which entries to read: every field that is not None must hold; the newest ``limit``."""

    limit: int = 50
    path_prefix: str | None = None
    path_contains: str | None = None
    method: str | None = None
    status: int | None = None  # an exact status
    status_class: int | None = None  # 4 for 4xx
    user_id: int | None = None
    org_id: int | None = None
    since: float | None = None  # entries that arrived at or after this time
    after: tuple[float, int] | None = None  # entries after this one's (started, seq)
