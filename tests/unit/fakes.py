"""An in-memory store for unit tests of the services: every port of ``service.ports``, on plain
dicts and the domain's own values, with no SQL and no event loop of its own.

:class:`FakeStore` is typed against the Protocols (see the assignments at the end, which mypy
checks), so a port that changes breaks the fake before it can drift. Its answers follow the
port docstrings and the domain rules (``domain.rules``), not the SQL: the services' tests check
the services' branches, and the real stores are held to the same behaviour by tests/api on
SQLite and PostgreSQL.

Transactions copy the mutable state first and put it back when the work raises, so a test can
see that a failed share or token exchange left nothing behind.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from emailshare.domain import rules
from emailshare.domain.changes import ChangeBatch
from emailshare.domain.errors import StoreUnavailable
from emailshare.domain.model import Org, Profile, Status
from emailshare.domain.rules import ShareDecision, ShareFromUser
from emailshare.domain.tokens import token_hash
from emailshare.domain.views import (
    Admission,
    Grant,
    OAuthClient,
    OrgSummary,
    RecordAccess,
    TokenOwner,
    UserInfo,
)
from emailshare.service import ports

T = TypeVar("T")
DAY = 86_400
MAX_SHARERS = 51  # the ports answer one more than an answer holds
MAX_REFRESH_PER_USER = 20
MAX_ACCESS_PER_REFRESH = 15
MAX_ACCESS_PER_CLIENT_ORG = 15


@dataclass
class AccessToken:
    grant: Grant
    expires_at: int
    refresh_hash: str | None
    issued: int


@dataclass
class RefreshToken:
    grant: Grant
    issued: int


@dataclass
class State:
    """Everything a fake transaction may change (copied whole to roll back)."""

    orgs: dict[int, Org] = field(default_factory=dict)
    shares: set[tuple[int, int, int]] = field(default_factory=set)  # (org, record, user)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    credits: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # org: (at, cost)
    slots: dict[int, set[str]] = field(default_factory=dict)
    serial: int = 0  # issue order of tokens, so "the oldest" is well defined


class FakeStore:
    """Every port of ``service.ports`` in memory. ``down = True`` makes :meth:`ping` fail."""

    def __init__(self, orgs: Sequence[Org] = (), now: int = 0) -> None:
        self.state = State()
        self.down = False
        self.commits = 0
        self._load(orgs, now)

    # --- helpers ---------------------------------------------------------------------------

    def _load(self, orgs: Sequence[Org], now: int) -> None:
        s = self.state
        for org in orgs:
            s.orgs[org.id] = org
            s.shares = {k for k in s.shares if k[0] != org.id}
            s.shares |= {(org.id, r.id, u) for r in org.records for u in r.emails_shared_by}
            for c in org.clients:
                secret = token_hash(c.client_secret)
                s.clients[c.client_id] = OAuthClient(c.client_id, org.id, secret, c.redirect_uri)
            for t in org.tokens:
                grant = Grant("", org.id, t.user, " ".join(t.scopes), None)
                s.access[token_hash(t.access_token)] = AccessToken(
                    grant, now + t.expires_in, None, self._next()
                )

    def _next(self) -> int:
        self.state.serial += 1
        return self.state.serial

    def _commit(self) -> None:
        self.commits += 1

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        saved = copy.deepcopy(self.state)
        try:
            yield
        except BaseException:
            self.state = saved
            raise
        self._commit()

    def _sharers(
        self, org_id: int, decision: ShareDecision, record_id: int = 0
    ) -> list[ShareFromUser]:
        org = self.state.orgs.get(org_id)
        if org is None:
            return []
        shared = frozenset(u for o, r, u in self.state.shares if o == org_id and r == record_id)
        found = [
            ShareFromUser(u.id, u.name, u.mailbox.protocol.value)
            for u in org.users
            if u.mailbox is not None and rules.share_decision(u, 0, shared) is decision
        ]
        return sorted(found, key=lambda s: s.key)[:MAX_SHARERS]

    # --- StoreVersion, Health --------------------------------------------------------------

    async def version(self) -> object:
        return self.commits

    async def changes_after(self, seq: int, limit: int) -> ChangeBatch:
        """Its commits log no scope: each one makes the caches forget everything."""
        return ChangeBatch(self.commits, () if seq == self.commits else None)

    async def ping(self) -> None:
        if self.down:
            raise StoreUnavailable("the fake store is down")

    # --- TokenReads ------------------------------------------------------------------------

    async def token_owner(self, hashed: str) -> TokenOwner | None:
        token = self.state.access.get(hashed)
        if token is None:
            return None
        org = self.state.orgs.get(token.grant.org_id)
        user = org.user(token.grant.user_id) if org is not None else None
        if user is None:
            return None
        return TokenOwner(
            hashed,
            token.grant.org_id,
            user.id,
            token.grant.scopes,
            token.expires_at,
            user.status.value,
            user.profile.value,
            user.role,
            user.name,
            user.mailbox.protocol.value if user.mailbox is not None else None,
            user.mailbox is not None and user.mailbox.enabled,
            user.email_sharing.value,
        )

    async def token_and_details(
        self, hashed: str, module: str, record_id: int
    ) -> tuple[TokenOwner | None, tuple[RecordAccess, list[ShareFromUser]] | None]:
        owner = await self.token_owner(hashed)
        if owner is None:
            return None, None
        found = await self.record_details(
            owner.org_id, module, record_id, owner.user_id, owner.role_id
        )
        return owner, found

    # --- ModuleReads, RecordReads, SharerReads ---------------------------------------------

    async def custom_module(self, org_id: int, name: str) -> str | None:
        org = self.state.orgs.get(org_id)
        modules = org.custom_modules if org is not None else ()
        return next((m for m in modules if m.casefold() == name.casefold()), None)

    async def record_access(
        self, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
    ) -> RecordAccess | None:
        org = self.state.orgs.get(org_id)
        record = org.record(record_id) if org is not None else None
        if org is None or record is None or record.deleted or record.module != module:
            return None
        owner = org.user(record.owner)
        above = caller_role is not None and caller_role in org.role_ancestors(
            owner.role if owner is not None else None
        )
        return RecordAccess(
            record.owner, caller_id in record.shared_with, above, org.sharing_of(module)
        )

    async def public_sharers(self, org_id: int) -> list[ShareFromUser]:
        return self._sharers(org_id, ShareDecision.PUBLIC)

    async def record_details(
        self, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
    ) -> tuple[RecordAccess, list[ShareFromUser]] | None:
        access = await self.record_access(org_id, module, record_id, caller_id, caller_role)
        if access is None:
            return None
        customs = self._sharers(org_id, ShareDecision.CUSTOM_SHARED, record_id)
        return access, customs[::-1]  # in no promised order: the caller orders them

    # --- ShareTx, ShareWrites ----------------------------------------------------------------

    async def add_email_share(self, org_id: int, record_id: int, user_id: int) -> bool:
        key = (org_id, record_id, user_id)
        if key in self.state.shares:
            return False
        self.state.shares.add(key)
        return True

    async def remove_email_share(self, org_id: int, record_id: int, user_id: int) -> bool:
        key = (org_id, record_id, user_id)
        if key not in self.state.shares:
            return False
        self.state.shares.discard(key)
        return True

    async def in_share_transaction(self, work: Callable[[ports.ShareTx], Awaitable[T]]) -> T:
        async with self._transaction():
            return await work(self)

    # --- DirectoryReads, UserOrgs ----------------------------------------------------------

    def _user_info(self, org: Org, user_id: int) -> UserInfo | None:
        user = org.user(user_id)
        if user is None:
            return None
        role = next((r for r in org.roles if r.id == user.role), None)
        return UserInfo(
            user.id,
            user.name,
            user.email,
            user.status.value,
            user.profile.value,
            user.role,
            role.name if role is not None else None,
        )

    async def user_info(self, org_id: int, user_id: int) -> UserInfo | None:
        org = self.state.orgs.get(org_id)
        return self._user_info(org, user_id) if org is not None else None

    async def users_page(
        self, org_id: int, *, active_only: bool, offset: int, limit: int
    ) -> list[UserInfo]:
        org = self.state.orgs.get(org_id)
        if org is None:
            return []
        users = sorted(
            (u for u in org.users if not active_only or u.status is Status.ACTIVE),
            key=lambda u: u.id,
        )
        found = (self._user_info(org, u.id) for u in users[offset : offset + limit])
        return [u for u in found if u is not None]

    async def org_name(self, org_id: int) -> str | None:
        org = self.state.orgs.get(org_id)
        return org.name if org is not None else None

    async def user_orgs(self, user_id: int) -> list[int]:
        return sorted(o.id for o in self.state.orgs.values() if o.user(user_id) is not None)

    # --- OAuthStore --------------------------------------------------------------------------

    async def oauth_client(self, client_id: str) -> OAuthClient | None:
        return self.state.clients.get(client_id)

    @contextlib.asynccontextmanager
    async def _oauth(self) -> AsyncIterator[ports.OAuthTx]:
        async with self._transaction():
            yield FakeOAuthTx(self)

    def oauth_transaction(self) -> contextlib.AbstractAsyncContextManager[ports.OAuthTx]:
        return self._oauth()

    # --- LimitsStore -------------------------------------------------------------------------

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
        window = [(at, c) for at, c in self.state.credits.get(org_id, []) if at > now - DAY]
        self.state.credits[org_id] = window
        taken = self.state.slots.setdefault(org_id, set())
        remaining = None
        if credits_per_day:
            spent = sum(c for _, c in window)
            if spent + cost > credits_per_day:
                return Admission(False, "credits", 0, min(at for at, _ in window) + DAY - now)
            remaining = credits_per_day - spent - cost
        if max_concurrent and slot is not None and len(taken) >= max_concurrent:
            return Admission(False, "concurrency", remaining, 1)
        if credits_per_day:
            window.append((now, cost))
        if max_concurrent and slot is not None:
            taken.add(slot)
        return Admission(True, None, remaining)

    async def release(self, org_id: int, slot: str) -> None:
        self.state.slots.get(org_id, set()).discard(slot)

    # --- FixtureStore ------------------------------------------------------------------------

    async def replace_orgs(self, orgs: Sequence[Org], now: int) -> None:
        async with self._transaction():
            self._load(orgs, now)

    async def delete_everything(self) -> None:
        self.state = State(serial=self.state.serial)
        self._commit()

    async def add_access_token(
        self, token: str, org_id: int, user_id: int, scopes: Sequence[str], expires_at: int
    ) -> None:
        grant = Grant("", org_id, user_id, " ".join(scopes), None)
        self.state.access[token_hash(token)] = AccessToken(grant, expires_at, None, self._next())
        self._commit()

    async def list_orgs(self) -> list[OrgSummary]:
        return [
            OrgSummary(o.id, o.name, len(o.users), sum(not r.deleted for r in o.records))
            for o in sorted(self.state.orgs.values(), key=lambda o: o.id)
        ]

    async def read_org(self, org_id: int) -> Org | None:
        org = self.state.orgs.get(org_id)
        return None if org is None else dataclasses.replace(org, clients=(), tokens=())


class FakeOAuthTx:
    """One OAuth transaction of a :class:`FakeStore` (rolled back by it on an exception)."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    @property
    def _s(self) -> State:
        return self._store.state

    async def take_grant_code(self, code_hash: str) -> Grant | None:
        return self._s.codes.pop(code_hash, None)

    async def refresh_grant(self, refresh_hash: str) -> Grant | None:
        token = self._s.refresh.get(refresh_hash)
        return token.grant if token is not None else None

    async def add_refresh_token(self, refresh_hash: str, grant: Grant, now: int) -> None:
        self._s.refresh[refresh_hash] = RefreshToken(grant, self._store._next())
        mine = sorted(
            (t.issued, h)
            for h, t in self._s.refresh.items()
            if (t.grant.org_id, t.grant.user_id) == (grant.org_id, grant.user_id)
        )
        for _, old in mine[:-MAX_REFRESH_PER_USER]:
            await self.revoke_refresh(old)

    async def add_access_token(
        self, access_hash: str, grant: Grant, expires_at: int, refresh_hash: str | None, now: int
    ) -> None:
        self._s.access[access_hash] = AccessToken(
            grant, expires_at, refresh_hash, self._store._next()
        )
        for h in [h for h, t in self._s.access.items() if t.expires_at <= now]:
            del self._s.access[h]
        if refresh_hash is None:
            key = (grant.client_id, grant.org_id)
            mine = sorted(
                (t.issued, h)
                for h, t in self._s.access.items()
                if t.refresh_hash is None and (t.grant.client_id, t.grant.org_id) == key
            )
            for _, old in mine[:-MAX_ACCESS_PER_CLIENT_ORG]:
                del self._s.access[old]
            return
        live = sorted(
            (t.issued, h) for h, t in self._s.access.items() if t.refresh_hash == refresh_hash
        )
        for _, old in live[:-MAX_ACCESS_PER_REFRESH]:
            del self._s.access[old]

    async def revoke_refresh(self, refresh_hash: str) -> bool:
        if self._s.refresh.pop(refresh_hash, None) is None:
            return False
        for h in [h for h, t in self._s.access.items() if t.refresh_hash == refresh_hash]:
            del self._s.access[h]
        return True

    async def revoke_access(self, access_hash: str) -> bool:
        return self._s.access.pop(access_hash, None) is not None

    async def org_exists(self, org_id: int) -> bool:
        return org_id in self._s.orgs

    async def first_admin(self, org_id: int) -> int | None:
        org = self._s.orgs.get(org_id)
        admins = [
            u.id
            for u in (org.users if org is not None else ())
            if u.profile is Profile.ADMINISTRATOR and u.status is Status.ACTIVE
        ]
        return min(admins, default=None)

    async def add_client(
        self, client_id: str, name: str, secret_hash: str, redirect_uri: str | None
    ) -> None:
        self._s.clients[client_id] = OAuthClient(client_id, None, secret_hash, redirect_uri)

    async def rehash_client_secret(self, client_id: str, old_hash: str, new_hash: str) -> None:
        client = self._s.clients.get(client_id)
        if client is not None and client.secret_hash == old_hash:
            self._s.clients[client_id] = dataclasses.replace(client, secret_hash=new_hash)

    async def add_grant_code(
        self,
        code_hash: str,
        client_id: str,
        org_id: int,
        user_id: int,
        scopes: str,
        expires_at: int,
    ) -> None:
        self._s.codes[code_hash] = Grant(client_id, org_id, user_id, scopes, expires_at)


def _conforms(
    store: FakeStore, tx: FakeOAuthTx
) -> tuple[ports.Store, ports.StoreVersion, ports.ShareTx, ports.OAuthTx]:
    """Never called: mypy holds the fake to every port here, so a port that changes fails
    type-checking until the fake follows."""
    return store, store, store, tx
