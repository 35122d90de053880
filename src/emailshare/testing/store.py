"""Fixture documents and direct access to any store, whether a server runs on it or not."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Mapping,
    Sequence,
)
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, Unpack

from emailshare.domain.model import Org  # plain values, standard library only

if TYPE_CHECKING:
    import httpx

    from emailshare.service.admin import LoadSummary
    from emailshare.storage.repo import Store
    from emailshare.testing.journal import JournalQuery, RequestEntry

T = TypeVar("T")
#: A fixture document: a path to a JSON/YAML file, the parsed document, its JSON/YAML text, or
#: the orgs themselves as domain values (a list or tuple of :class:`~emailshare.domain.model.Org`).
FixtureSource: TypeAlias = (
    Mapping[str, Any] | list[Org] | tuple[Org, ...] | str | bytes | os.PathLike[str]
)

#: Scopes of tokens minted by the helpers: the endpoint, and what the official SDKs call first.
DEFAULT_SCOPES: tuple[str, ...] = ("ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ")

# --- fixture documents and direct store access ---------------------------------------------


def _is_text(source: str) -> bool:
    # Paths hold no newline and do not open like a document; fixture text nearly always does.
    return "\n" in source or source.lstrip().startswith(("{", "orgs:", "---"))


def read_fixture(source: FixtureSource, base_dirs: Sequence[Path] = ()) -> object:
    """The document ``source`` denotes, parsed but not yet validated.

    A mapping is the document itself; orgs (a list or tuple) are written as one. ``bytes``,
    and a ``str`` holding a newline or opening with ``{``, ``orgs:`` or ``---``, are JSON or
    YAML text. Anything else is a file path; a relative one is looked up in ``base_dirs`` in
    order, then in the working directory. Raises
    :class:`~emailshare.domain.errors.FixtureError` for unreadable or malformed input.
    """
    from emailshare.service.fixtures import parse_text, read_document, write_fixture

    if isinstance(source, Mapping):
        return source
    if isinstance(source, list | tuple):
        return write_fixture(source)
    if isinstance(source, bytes):
        return parse_text(source.decode("utf-8"))
    if isinstance(source, str) and _is_text(source):
        return parse_text(source)
    path = Path(source)
    if not path.is_absolute():
        path = next((d / path for d in base_dirs if (d / path).is_file()), path)
    return read_document(path)


class ValidatedOrgs(tuple[Org, ...]):
    """Orgs that :func:`validated_orgs` read and validated: :func:`fixture_orgs` takes them as
    they are instead of validating them a second time (the pytest plugin validates a test's
    document when the test is set up, then hands the orgs to the store it starts)."""

    __slots__ = ()


def fixture_orgs(source: FixtureSource, base_dirs: Sequence[Path] = ()) -> list[Org]:
    """Read and validate a fixture document wholly (nothing is written anywhere).

    Orgs given as domain values are validated too: written as a document and parsed back, so
    that an org built in code is held to the same rules as a file (but for
    :class:`ValidatedOrgs`, which were).
    """
    from emailshare.service.fixtures import parse_fixture

    if isinstance(source, ValidatedOrgs):
        return list(source)
    return parse_fixture(read_fixture(source, base_dirs))


def validated_orgs(source: FixtureSource, base_dirs: Sequence[Path] = ()) -> ValidatedOrgs:
    """:func:`fixture_orgs`, marked as validated for whatever loads them next."""
    return ValidatedOrgs(fixture_orgs(source, base_dirs))


def _user(value: int | str, what: str) -> int:
    from emailshare.domain.numbers import parse_id

    parsed = value if isinstance(value, int) else parse_id(value)
    if parsed is None or parsed <= 0:
        raise ValueError(f"{what} {value!r} is not a Zoho id (1 to 19 digits)")
    return parsed


async def load_into(
    store: Store, source: FixtureSource, now: int | None = None, *, reset: bool = False
) -> LoadSummary:
    """Validate ``source`` wholly, then load it into an open store (emptied first with
    ``reset``); each org replaces the org of the same id in one transaction."""
    return await _load_orgs(store, fixture_orgs(source), now, reset)


async def _load_orgs(store: Store, orgs: list[Org], now: int | None, reset: bool) -> LoadSummary:
    from emailshare.service.admin import sealed, summarise

    orgs = sealed(orgs)
    if reset:
        await store.delete_everything()
    await store.replace_orgs(orgs, int(time.time()) if now is None else now)
    return summarise(orgs)


async def mint_into(
    store: Store,
    user_id: int | str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    expires_in: int = 3600,
    org_id: int | str | None = None,
    now: int | None = None,
) -> str:
    """A new access token for a user of an open store (``org_id`` when the id is in several)."""
    from emailshare.service.admin import issue_token

    return await issue_token(
        store,
        _user(user_id, "user"),
        list(scopes),
        expires_in,
        int(time.time()) if now is None else now,
        None if org_id is None else _user(org_id, "org"),
    )


def _run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to its end from synchronous code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # Called from an async test: its loop is busy running us, so use a loop of our own.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="emailshare") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _with_store(db_url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        from emailshare.bootstrap import open_store

        async with open_store(db_url, pool_size=1) as store:
            return await work(store)

    return _run_sync(run)


def load_fixture(db_url: str, source: FixtureSource, *, reset: bool = False) -> LoadSummary:
    """Load a fixture document into the store at ``db_url`` (each org replaces its namesake;
    with ``reset``, the store is emptied first, as by :func:`reset_store`).

    Works while a server runs on that store: its caches notice every write.
    """
    orgs = fixture_orgs(source)  # fail before touching the store

    async def work(store: Store) -> LoadSummary:
        return await _load_orgs(store, orgs, None, reset)

    return _with_store(db_url, work)


def reset_store(db_url: str) -> None:
    """Empty the store at ``db_url``: every org (and all in it) and every OAuth client."""

    async def work(store: Store) -> None:
        await store.delete_everything()

    _with_store(db_url, work)


def mint_token(
    db_url: str,
    user_id: int | str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    expires_in: int = 3600,
    org_id: int | str | None = None,
) -> str:
    """A new access token for a user already in the store at ``db_url``."""

    async def work(store: Store) -> str:
        return await mint_into(store, user_id, scopes, expires_in=expires_in, org_id=org_id)

    return _with_store(db_url, work)


class Emailshare(Protocol):
    """What both a live server and the in-process app offer a test (for code that takes either)."""

    @property
    def url(self) -> str: ...
    @property
    def db_url(self) -> str: ...
    @property
    def client(self) -> httpx.Client: ...
    def load(self, source: FixtureSource, *, reset: bool = False) -> LoadSummary: ...
    def reset(self) -> None: ...
    def token(
        self,
        user_id: int | str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        *,
        expires_in: int = 3600,
        org_id: int | str | None = None,
    ) -> str: ...
    def requests(self, **query: Unpack[JournalQuery]) -> list[RequestEntry]: ...
    def clear_requests(self) -> None: ...
