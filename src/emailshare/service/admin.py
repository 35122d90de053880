"""Operator use cases shared by the command line and (later) the admin API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emailshare.domain.errors import FixtureError
from emailshare.domain.model import Org
from emailshare.mail import vault
from emailshare.mail.vault import SecretKey
from emailshare.service import mailsync
from emailshare.service.fixtures import parse_fixture, read_document
from emailshare.service.tokens import new_access_token
from emailshare.storage.repo import Store


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


async def load_file(store: Store, path: str, now: int, key: SecretKey | None = None) -> LoadSummary:
    """Validate a fixture file wholly, then load it in one transaction."""
    orgs = sealed(parse_fixture(read_document(path)), key)
    await store.replace_orgs(orgs, now)
    return summarise(orgs)


async def issue_token(
    store: Store,
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
