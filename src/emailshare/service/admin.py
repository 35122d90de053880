"""Operator use cases, shared by the command line and the admin API: load, reset, read back,
mint tokens, readiness."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from emailshare.domain.errors import FixtureError, InvalidData
from emailshare.domain.model import Org
from emailshare.domain.tokens import new_access_token
from emailshare.domain.views import OrgSummary
from emailshare.mail import vault
from emailshare.mail.vault import SecretKey
from emailshare.service import mailsync
from emailshare.service.fixtures import limits, parse_fixture, parse_text, read_document
from emailshare.service.ports import FixtureStore, Health


@dataclass(frozen=True)
class LoadSummary:
    orgs: int
    users: int
    records: int
    tokens: int


def summarise(orgs: Sequence[Org]) -> LoadSummary:
    return LoadSummary(
        len(orgs),
        sum(len(o.users) for o in orgs),
        sum(len(o.records) for o in orgs),
        sum(len(o.tokens) for o in orgs),
    )


def sealed(orgs: Sequence[Org], key: SecretKey | None = None) -> list[Org]:
    """The orgs with their mailbox passwords encrypted (docs/mailboxes.md): with ``key``, else
    the key named by $EMAILSHARE_SECRET_KEY_FILE; a password and no key is a FixtureError."""
    if key is None and any(u.mailbox and u.mailbox.server for o in orgs for u in o.users):
        try:
            key = vault.load_key(None)
        except vault.SecretKeyError as exc:
            raise FixtureError(str(exc)) from None
    return mailsync.seal(orgs, key)


# One document parsed at a time per process: a parse holds the document and its values in
# memory (a few times its bytes), so concurrent loads queue here, on a worker thread, rather
# than multiply that.
_PARSING = threading.Lock()


def _parse_file(path: str, key: SecretKey | None) -> list[Org]:
    with _PARSING:
        return sealed(parse_fixture(read_document(path)), key)


def _parse_raw(raw: bytes) -> list[Org]:
    limits.check_bytes(len(raw))
    with _PARSING:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FixtureError(f"not UTF-8: {exc}") from None
        return sealed(parse_fixture(parse_text(text)))


async def load_file(
    store: FixtureStore, path: str, now: int, key: SecretKey | None = None
) -> LoadSummary:
    """Validate a fixture file wholly, then load it in one transaction. Reading and
    validating run on a thread, so the event loop keeps serving meanwhile."""
    orgs = await asyncio.to_thread(_parse_file, path, key)
    await store.replace_orgs(orgs, now)
    return summarise(orgs)


async def load_document(store: FixtureStore, raw: bytes, now: int) -> LoadSummary:
    """Validate a fixture document (UTF-8 JSON or YAML) wholly, then load it; ``now`` is when
    its tokens' lifetimes start (the settings' clock). Parsing and validating run on a thread
    (a worker keeps answering while a large document loads: docs/reliability.md, "Loads");
    the rows are written in batches on the store's own thread. Client ids and tokens held by
    others are found inside the store's transaction, before any row is written."""
    orgs = await asyncio.to_thread(_parse_raw, raw)
    await store.replace_orgs(orgs, now)
    return summarise(orgs)


async def reset(store: FixtureStore) -> None:
    """Delete every org and everything in it, every OAuth client and all API-limit usage."""
    await store.delete_everything()


async def org_summaries(store: FixtureStore, org_id: int | None = None) -> list[OrgSummary]:
    """Every org (or the one named) with its counts."""
    return [o for o in await store.list_orgs() if org_id is None or o.id == org_id]


def _no_such_org() -> InvalidData:
    return InvalidData({"param_name": "org"}, "no such org")


async def read_orgs(store: FixtureStore, org_id: int | None = None) -> list[Org]:
    """Every org whole (or the one named: ``INVALID_DATA`` naming ``org`` when absent)."""
    ids = [org_id] if org_id is not None else [o.id for o in await store.list_orgs()]
    orgs = [org for i in ids if (org := await store.read_org(i)) is not None]
    if org_id is not None and not orgs:
        raise _no_such_org()
    return orgs


async def caller_org(store: FixtureStore, caller_id: int, org_id: int | None) -> Org:
    """The org named, else the caller's only org, whole (for ``explain``)."""
    if org_id is None:
        orgs = await store.user_orgs(caller_id)
        if not orgs:
            raise InvalidData({"param_name": "caller"}, "no such user")
        if len(orgs) > 1:
            raise InvalidData(
                {"param_name": "org"}, "the caller is a user of several orgs: name one with org="
            )
        org_id = orgs[0]
    org = await store.read_org(org_id)
    if org is None:
        raise _no_such_org()
    return org


async def ready(store: Health) -> None:
    """Readiness: the store answers a query (else ``StoreUnavailable``)."""
    await store.ping()


async def issue_token(
    store: FixtureStore,
    user_id: int,
    scopes: Sequence[str],
    expires_in: int,
    now: int,
    org_id: int | None = None,
) -> str:
    """A new access token for an existing user; printed once, stored only as a hash."""
    if not scopes:
        raise FixtureError("at least one --scope is needed")
    orgs = await store.user_orgs(user_id)
    if org_id is not None:
        orgs = [o for o in orgs if o == org_id]
    if not orgs:
        raise FixtureError(f"no user {user_id}" + (f" in org {org_id}" if org_id else ""))
    if len(orgs) > 1:
        raise FixtureError(f"user {user_id} exists in several orgs; name one with --org")
    token = new_access_token()
    await store.add_access_token(token, orgs[0], user_id, scopes, now + expires_in)
    return token
