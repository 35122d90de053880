"""The request journal: what each worker answered, written to the store in batches, read filtered.

The api layer hands each finished request to :meth:`Journal.add` as a raw capture (a tuple,
as cheap as it gets on the request's path). Redacting, shaping and writing happen later, off
the request's path: at most every :data:`FLUSH_SECONDS`, a task of the worker's own shapes the
captures (the api layer's ``shape`` function redacts them), finds each token's caller (the
callers cache, else one indexed query) and writes them all in one transaction. A reader of
this worker (:meth:`entries`, :meth:`entry`) writes what is pending first, so a worker's own
requests are always there; another worker's appear within :data:`FLUSH_SECONDS`.

A journal write never fails a request: the request has been answered before it is written. A
store that is down loses the batch: its entries are counted in :attr:`Journal.dropped` and
logged once per batch (a warning), and the journal carries on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from emailshare.domain.errors import InvalidData
from emailshare.domain.journal import JournalEntry, JournalQuery
from emailshare.domain.numbers import parse_id, parse_int
from emailshare.service.auth import CallerCache
from emailshare.service.ports import JournalStore, TokenReads

log = logging.getLogger("emailshare")

FLUSH_SECONDS = 0.2
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 50
# A capture as the api layer makes it: opaque here, turned into an entry by ``shape``, which
# also gives the hash of the request's token (None without one).
Raw = tuple[Any, ...]
Shape = Callable[[Raw], tuple[JournalEntry, str | None]]
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
_STATUS_CLASS = re.compile(r"([1-5])xx", re.IGNORECASE)
_METHOD = re.compile(r"[A-Za-z]{1,20}")
PARAMS = frozenset({"limit", "path", "path_contains", "method", "status", "caller", "org", "since"})


class Journal:
    """One worker's writer and reader of the journal; ``keep`` entries are kept in all."""

    def __init__(
        self,
        store: JournalStore,
        tokens: TokenReads,
        callers: CallerCache | None,
        keep: int,
        shape: Shape,
        delay: float = FLUSH_SECONDS,
    ) -> None:
        self.store = store
        self._tokens = tokens
        self._callers = callers
        self.keep = max(1, keep)
        self._shape = shape
        self._delay = delay
        # More than ``keep`` pending would be pushed out by the write anyway: the oldest go.
        self._pending: deque[Raw] = deque(maxlen=self.keep)
        self._lock = asyncio.Lock()
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.dropped = 0  # entries lost because the store was unavailable (or unexpected)

    def add(self, raw: Raw) -> None:
        """Keep one capture for the next write (on the request's path: an append)."""
        self._pending.append(raw)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(self._delay, self._start_flush)

    def _start_flush(self) -> None:
        self._scheduled = False
        task = asyncio.get_running_loop().create_task(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Write every pending capture now, in one transaction. Never raises."""
        async with self._lock:
            if not self._pending:
                return
            raws = list(self._pending)
            self._pending.clear()
            try:
                entries = [await self._entry(raw) for raw in raws]
                await self.store.add_entries(entries, self.keep)
            except Exception as exc:  # the store is down, or worse: the batch is lost
                self.dropped += len(raws)
                log.warning(
                    "request journal: %d entries dropped (%s)", len(raws), type(exc).__name__
                )

    async def _entry(self, raw: Raw) -> JournalEntry:
        entry, hashed = self._shape(raw)
        if hashed is None:
            return entry
        hit = self._callers.get(hashed) if self._callers is not None else None
        if hit is not None:
            return replace(entry, user_id=hit.user_id, org_id=hit.org_id)
        owner = await self._tokens.token_owner(hashed)
        if owner is None:
            return entry
        return replace(entry, user_id=owner.user_id, org_id=owner.org_id)

    async def close(self) -> None:
        """On the worker's way out: write what is pending."""
        for task in list(self._tasks):
            await task
        await self.flush()

    async def entries(self, params: Mapping[str, str]) -> list[JournalEntry]:
        """The entries the query string asks for (:func:`parse_query`), oldest first."""
        await self.flush()
        return await self.store.entries(await self._query(params))

    async def entry(self, request_id: str) -> JournalEntry | None:
        await self.flush()
        return await self.store.entry(request_id)

    async def clear(self) -> int:
        """Forget every entry, this worker's pending ones included; how many there were."""
        async with self._lock:
            pending = len(self._pending)
            self._pending.clear()
            return pending + await self.store.clear_entries()

    async def _query(self, params: Mapping[str, str]) -> JournalQuery:
        query, after_id = parse_query(params)
        if after_id is None:
            return query
        found = await self.store.entry(after_id)
        if found is None:
            raise _bad("since", "since names no request in the journal (nor a time)")
        return replace(query, after=(found.started, found.seq))


def _bad(name: str, message: str) -> InvalidData:
    return InvalidData({"param_name": name}, message)


def parse_time(text: str) -> float | None:
    """An ISO 8601 date and time (``2026-12-01T22:30:00Z``; UTC when no offset), or None."""
    if "-" not in text or ":" not in text:
        return None
    try:
        when = datetime.fromisoformat(text.replace(" ", "+"))  # a "+" may arrive as a space
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _id(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    value = parse_id(text)
    if value is None:
        raise _bad(name, f"{name} must be an id (1 to 19 digits)")
    return value


def parse_query(params: Mapping[str, str]) -> tuple[JournalQuery, str | None]:
    """The journal query of the admin API's parameters (docs/admin.md), and the request id
    ``since`` names, if it names one rather than a time. ``INVALID_DATA`` names a bad one."""
    for name in params:
        if name not in PARAMS:
            raise _bad(name, f"unknown parameter; the filters are {', '.join(sorted(PARAMS))}")
    text = params.get("limit", str(DEFAULT_LIMIT))
    limit = parse_int(text, 1, MAX_LIMIT)
    if limit is None:
        raise _bad("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    status = status_class = None
    status_text = params.get("status")
    if status_text is not None:
        found = _STATUS_CLASS.fullmatch(status_text)
        if found:
            status_class = int(found.group(1))
        elif (code := parse_int(status_text, 100, 599)) is not None:
            status = code
        else:
            raise _bad("status", "status must be a status (404) or a class (4xx)")
    method = params.get("method")
    if method is not None and not _METHOD.fullmatch(method):
        raise _bad("method", "method must be an HTTP method (GET)")
    since = after_id = None
    since_text = params.get("since")
    if since_text is not None:
        since = parse_time(since_text)
        if since is None:
            if not _REQUEST_ID.fullmatch(since_text):
                raise _bad("since", "since must be a time (ISO 8601) or a request id")
            after_id = since_text
    query = JournalQuery(
        limit=limit,
        path_prefix=params.get("path") or None,
        path_contains=params.get("path_contains") or None,
        method=method.upper() if method else None,
        status=status,
        status_class=status_class,
        user_id=_id(params, "caller"),
        org_id=_id(params, "org"),
        since=since,
    )
    return query, after_id
