"""The store as the services need it: one Protocol per job, declared here, implemented by
``storage`` (``storage.repo.Store`` implements them all).

The services take the narrowest port that does their job, so a fake of a port is enough to
test one (tests/unit), and the store's SQL can change without touching a service. Every value
crossing a port is a domain value (``domain.model``, ``domain.views``, ``domain.rules``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from emailshare.domain.journal import JournalEntry, JournalQuery
from emailshare.domain.model import Org
from emailshare.domain.rules import ShareFromUser
from emailshare.domain.views import (
    Admission,
    Grant,
    OAuthClient,
    OrgSummary,
    RecordAccess,
    TokenOwner,
    UserInfo,
)

T = TypeVar("T")


class StoreVersion(Protocol):
    """The store's change marker, for caches that must never be stale (``service.cache``)."""

    async def version(self) -> object:
        """An opaque value that changes whenever anything is committed, by any process."""
        ...


class TokenReads(Protocol):
    async def token_owner(self, hashed: str) -> TokenOwner | None:
        """The access token with this hash, joined with its user, or None."""
        ...


class ModuleReads(Protocol):
    async def custom_module(self, org_id: int, name: str) -> str | None:
        """The api name of the org's custom module called ``name`` (any case), or None."""
        ...


class RecordReads(Protocol):
    async def record_access(
        self, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
    ) -> RecordAccess | None:
        """The facts deciding whether the caller may read this live record, or None."""
        ...


class SharerReads(Protocol):
    async def public_sharers(self, org_id: int) -> list[ShareFromUser]:
        """The org's first 51 users whose mailbox every caller may read, in answer order."""
        ...


class RecordDetailsReads(Protocol):
    async def record_details(
        self, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
    ) -> tuple[RecordAccess, list[ShareFromUser]] | None:
        """The facts deciding whether the caller may read this live record (as
        ``record_access``) and the record's first 51 custom sharers in answer order, listed
        in any order; None when there is no such record. One statement."""
        ...


class TokenDetailsReads(TokenReads, Protocol):
    async def token_and_details(
        self, hashed: str, module: str, record_id: int
    ) -> tuple[TokenOwner | None, tuple[RecordAccess, list[ShareFromUser]] | None]:
        """``token_owner(hashed)`` and ``record_details`` of this record for that token's
        org, user and role (None without the token or the record), in one statement."""
        ...


class RecordLookup(ModuleReads, RecordReads, Protocol):
    """A record as a URL names it: its module, and whether the caller may read it."""


class DetailsReads(ModuleReads, RecordDetailsReads, SharerReads, Protocol):
    """Everything ``__emails_sharing_details`` reads."""


class ShareTx(RecordReads, Protocol):
    """One share/unshare transaction: its reads see its own writes; all commit together."""

    async def add_email_share(self, org_id: int, record_id: int, user_id: int) -> bool:
        """Turn the user's email share of the record on; False when it already was."""
        ...

    async def remove_email_share(self, org_id: int, record_id: int, user_id: int) -> bool:
        """Turn the user's email share of the record off; False when it was not on."""
        ...


class ShareWrites(ModuleReads, Protocol):
    async def in_share_transaction(self, work: Callable[[ShareTx], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction, again if the engine aborted it for a conflict
        (``work`` must be repeatable)."""
        ...


class DirectoryReads(Protocol):
    """The Users and Org APIs' reads."""

    async def user_info(self, org_id: int, user_id: int) -> UserInfo | None: ...

    async def users_page(
        self, org_id: int, *, active_only: bool, offset: int, limit: int
    ) -> list[UserInfo]:
        """At most ``limit`` users of the org in id order, from the ``offset``-th: one query."""
        ...

    async def org_name(self, org_id: int) -> str | None: ...


class UserOrgs(Protocol):
    async def user_orgs(self, user_id: int) -> list[int]:
        """The orgs that have a user with this id (ids are Zoho's, unique in practice)."""
        ...


class Health(Protocol):
    async def ping(self) -> None:
        """Answer one query, or raise ``StoreUnavailable``."""
        ...


class OAuthTx(Protocol):
    """One transaction of the OAuth store (hashes only, never a token or secret)."""

    async def take_grant_code(self, code_hash: str) -> Grant | None:
        """Fetch and delete a grant code: single use, even under concurrent exchanges."""
        ...

    async def refresh_grant(self, refresh_hash: str) -> Grant | None: ...

    async def add_refresh_token(self, refresh_hash: str, grant: Grant, now: int) -> None:
        """Store a refresh token; the user's oldest beyond the 20 newest are revoked."""
        ...

    async def add_access_token(
        self, access_hash: str, grant: Grant, expires_at: int, refresh_hash: str | None, now: int
    ) -> None:
        """Store an access token; past 15 for its refresh token, or (without one: a
        client-credentials token) for its client and org, the oldest die; expired access
        tokens and grant codes are purged (a bounded batch per write)."""
        ...

    async def revoke_refresh(self, refresh_hash: str) -> bool:
        """Delete a refresh token and every access token made from it."""
        ...

    async def revoke_access(self, access_hash: str) -> bool: ...

    async def org_exists(self, org_id: int) -> bool: ...

    async def first_admin(self, org_id: int) -> int | None:
        """The org's active administrator with the lowest id."""
        ...

    async def add_client(
        self, client_id: str, name: str, secret_hash: str, redirect_uri: str | None
    ) -> None: ...

    async def rehash_client_secret(self, client_id: str, old_hash: str, new_hash: str) -> None:
        """Replace a client's secret hash, if it is still ``old_hash`` (a concurrent load wins)."""
        ...

    async def add_grant_code(
        self,
        code_hash: str,
        client_id: str,
        org_id: int,
        user_id: int,
        scopes: str,
        expires_at: int,
    ) -> None:
        """Store a grant code; past 10 unused ones of the client for the user, the oldest die."""
        ...


class OAuthStore(UserOrgs, Protocol):
    async def oauth_client(self, client_id: str) -> OAuthClient | None: ...

    def oauth_transaction(self) -> contextlib.AbstractAsyncContextManager[OAuthTx]:
        """One transaction: everything in it commits together, or nothing on an exception."""
        ...


class LimitsStore(Protocol):
    """The counters of Zoho's emulated API limits, shared by every worker of every instance."""

    async def admit(
        self,
        org_id: int,
        now: int,
        *,
        credits_per_day: int,
        cost: int,
        max_concurrent: int,
        slot: str | None,
    ) -> Admission:
        """Spend ``cost`` credits and take a slot for one request, or refuse (0 is off)."""
        ...

    async def release(self, org_id: int, slot: str) -> None:
        """Give back the slot a request took (its lease frees it anyway)."""
        ...


class FixtureStore(UserOrgs, Protocol):
    """Whole-org writes and reads: fixtures, tokens minted by operators, the admin API."""

    async def replace_orgs(self, orgs: Sequence[Org], now: int) -> None:
        """Load orgs, replacing any org with the same id wholly; all or nothing."""
        ...

    async def delete_everything(self) -> None:
        """Remove every org, every OAuth client and all API-limit usage."""
        ...

    async def add_access_token(
        self, token: str, org_id: int, user_id: int, scopes: Sequence[str], expires_at: int
    ) -> None:
        """Store a new access token (only its hash is kept)."""
        ...

    async def list_orgs(self) -> list[OrgSummary]: ...

    async def read_org(self, org_id: int) -> Org | None:
        """The whole org, without clients and tokens, or None."""
        ...


class JournalStore(Protocol):
    """The request journal (``service.journal``): one for every worker of every instance."""

    async def add_entries(self, entries: Sequence[JournalEntry], keep: int) -> None:
        """Write the entries in one transaction, then keep only the newest ``keep``."""
        ...

    async def clear_entries(self) -> int:
        """Delete every entry; how many there were."""
        ...

    async def entry(self, request_id: str) -> JournalEntry | None:
        """The newest entry with this request id, or None."""
        ...

    async def entries(self, q: JournalQuery) -> list[JournalEntry]:
        """The newest ``q.limit`` entries matching ``q``, oldest first."""
        ...


class Store(
    TokenDetailsReads,
    RecordLookup,
    DetailsReads,
    ShareWrites,
    DirectoryReads,
    Health,
    OAuthStore,
    LimitsStore,
    FixtureStore,
    Protocol,
):
    """Every port: what the composition root (``emailshare.bootstrap``) hands the app."""
