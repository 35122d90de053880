"""The request journal from a test: what a client sent, as typed entries (docs/admin.md).

``server.requests(path=..., method=..., status=..., caller=..., since=...)`` on a
:class:`~emailshare.testing.ServerProcess`, an :class:`~emailshare.testing.InProcess` (awaited
on an :class:`~emailshare.testing.AsyncInProcess`), and so on the pytest plugin's fixtures,
reads ``GET /__emailshare/requests`` with the admin key and returns :class:`RequestEntry`
values, oldest first. The journal is on only with an admin key (the plugin's fixtures make
one; elsewhere pass ``--admin-key`` / ``Settings(admin_key=...)``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

if TYPE_CHECKING:
    import httpx

ADMIN_HEADER = "X-Emailshare-Admin-Key"
PATH = "/__emailshare/requests"


@dataclass(frozen=True)
class RequestEntry:
    """One request and its answer as the journal keeps them (secrets redacted)."""

    id: str
    time: datetime
    method: str
    path: str
    query: str
    url: str
    status: int
    duration_ms: float
    user_id: str | None
    org_id: str | None
    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    request_size: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: str
    response_size: int
    server: str
    explain: dict[str, str] | None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RequestEntry:
        """An entry of the admin API's answer."""
        return cls(
            id=doc["id"],
            time=datetime.fromisoformat(doc["time"]),
            method=doc["method"],
            path=doc["path"],
            query=doc["query"],
            url=doc["url"],
            status=doc["status"],
            duration_ms=doc["duration_ms"],
            user_id=doc["user_id"],
            org_id=doc["org_id"],
            request_headers=tuple((k, v) for k, v in doc["request_headers"]),
            request_body=doc["request_body"],
            request_size=doc["request_size"],
            response_headers=tuple((k, v) for k, v in doc["response_headers"]),
            response_body=doc["response_body"],
            response_size=doc["response_size"],
            server=doc["server"],
            explain=doc["explain"],
        )

    def header(self, name: str) -> str | None:
        """The request's header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((v for k, v in self.request_headers if k == wanted), None)

    def json(self) -> Any:
        """The answer's body, parsed (its first 4 KiB: a longer body does not parse)."""
        return json.loads(self.response_body)


class JournalQuery(TypedDict, total=False):
    """The filters of ``GET /__emailshare/requests`` (docs/admin.md), one home for every
    ``requests(...)``: a ``path`` prefix, a substring of it (``path_contains``), the ``method``,
    a ``status`` (404) or class ("4xx"), the ``caller``'s user id, the ``org``, ``since`` (a
    datetime, an ISO 8601 text or a request id: the requests after it) and ``limit`` (50)."""

    path: str | None
    path_contains: str | None
    method: str | None
    status: int | str | None
    caller: int | str | None
    org: int | str | None
    since: datetime | str | None
    limit: int


def journal_params(**query: Unpack[JournalQuery]) -> dict[str, str]:
    """The query string of ``GET /__emailshare/requests`` for these filters
    (:class:`JournalQuery`)."""
    params = {"limit": str(query.get("limit", 50))}
    for name in ("path", "path_contains", "method", "status", "caller", "org"):
        value = query.get(name)
        if value is not None:
            params[name] = str(value)
    since = query.get("since")
    if isinstance(since, datetime):
        params["since"] = since.isoformat()
    elif since is not None:
        params["since"] = since
    return params


def _key(admin_key: str | None) -> dict[str, str]:
    if not admin_key:
        raise RuntimeError(
            "the request journal is off: it is kept only with an admin key "
            "(emailshare serve --admin-key KEY, or Settings(admin_key=KEY))"
        )
    return {ADMIN_HEADER: admin_key}


def _entries(response: httpx.Response) -> list[RequestEntry]:
    if response.status_code != 200:
        raise RuntimeError(f"the request journal answered {response.status_code}: {response.text}")
    return [RequestEntry.from_doc(d) for d in response.json()["requests"]]


class JournalReads:
    """``requests(...)`` and ``clear_requests()`` for a handle with a sync client and a key."""

    def _journal_target(self) -> tuple[httpx.Client, str | None]:
        raise NotImplementedError

    def requests(self, **query: Unpack[JournalQuery]) -> list[RequestEntry]:
        """The requests the journal kept, oldest first, the newest ``limit`` that match the
        filters of :class:`JournalQuery`."""
        client, key = self._journal_target()
        return _entries(client.get(PATH, params=journal_params(**query), headers=_key(key)))

    def clear_requests(self) -> None:
        """Empty the journal (every worker's entries)."""
        client, key = self._journal_target()
        client.delete(PATH, headers=_key(key)).raise_for_status()


class AsyncJournalReads:
    """:class:`JournalReads` awaited, for a handle with an ``httpx.AsyncClient`` and a key."""

    def _journal_target(self) -> tuple[httpx.AsyncClient, str | None]:
        raise NotImplementedError

    async def requests(self, **query: Unpack[JournalQuery]) -> list[RequestEntry]:
        """The request journal's entries, as :meth:`JournalReads.requests` (awaited)."""
        client, key = self._journal_target()
        response = await client.get(PATH, params=journal_params(**query), headers=_key(key))
        return _entries(response)

    async def clear_requests(self) -> None:
        """Empty the request journal."""
        client, key = self._journal_target()
        (await client.delete(PATH, headers=_key(key))).raise_for_status()
