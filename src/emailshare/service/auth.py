"""Who is calling: the ``Authorization`` header to an authenticated caller (docs/contract.md §4)."""

from __future__ import annotations

import functools
import sys
from typing import NamedTuple

from emailshare.domain import scopes as scope_rules
from emailshare.domain.errors import AuthenticationFailure, InvalidToken
from emailshare.domain.tokens import same_hash, token_hash
from emailshare.domain.views import TokenOwner
from emailshare.service.cache import BoundedCache
from emailshare.service.fixtures import TOKEN_SHAPE
from emailshare.service.ports import TokenReads

_SCHEME = "zoho-oauthtoken"


class Caller(NamedTuple):
    """An active user of one org, holding a live token with these scopes (until
    ``expires_at``). A named tuple: one is made on every request whose caller is not kept,
    in ~0.3 µs where a frozen dataclass took ~1 (docs/performance.md, "The caller on a
    miss"); immutable all the same."""

    org_id: int
    user_id: int
    name: str
    profile: str
    role_id: int | None
    scopes: frozenset[str]
    mailbox_protocol: str | None
    mailbox_enabled: bool
    email_sharing: str = "private"
    expires_at: int = 0

    @property
    def is_admin(self) -> bool:
        return self.profile == "administrator"


def bearer_token(header: str | None) -> str:
    """The token of ``Zoho-oauthtoken <token>``; other schemes fail authentication."""
    if not header:
        raise AuthenticationFailure()
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != _SCHEME:
        raise AuthenticationFailure()
    return token.strip()


# A kept caller is its own entry: its ``expires_at`` says until when it may be served.
CallerCache = BoundedCache[str, Caller]

# One scopes set per distinct scopes text, shared by every caller whose token holds it (a
# store's tokens hold a handful of texts; each set of three scopes is ~420 bytes and one more
# object for the cyclic collector to walk). Bounded (functools.lru_cache).
SCOPE_SETS_KEPT = 256


@functools.lru_cache(maxsize=SCOPE_SETS_KEPT)
def scopes_of(text: str) -> frozenset[str]:
    """The scopes of a token as stored (space-separated), normalised, one set per text."""
    return scope_rules.normalise(text.split())


async def authenticate(
    store: TokenReads, header: str | None, now: int, cache: CallerCache | None = None
) -> Caller:
    """The caller behind the header, or ``AUTHENTICATION_FAILURE`` / ``INVALID_TOKEN``.

    ``cache`` maps token hashes to callers; the caller keeps it fresh (see service.cache).
    """
    token = bearer_token(header)
    return await authenticate_token(store, token, token_hash(token), now, cache)


async def authenticate_token(
    store: TokenReads, token: str, hashed: str, now: int, cache: CallerCache | None = None
) -> Caller:
    """:func:`authenticate` for a token already taken from its header, with its hash.

    A kept caller is served without its token's shape checked again: only a token of
    Zoho's shape is ever kept (under its hash)."""
    hit = kept_caller(hashed, now, cache)
    if hit is not None:
        return hit
    return await read_caller(store, token, hashed, now, cache)


def kept_caller(hashed: str, now: int, cache: CallerCache | None) -> Caller | None:
    """The caller kept under the token's hash (``INVALID_TOKEN`` once expired), or None."""
    hit = cache.get(hashed) if cache is not None else None
    if hit is not None and hit.expires_at <= now:
        raise InvalidToken()
    return hit


def token_shape_ok(token: str) -> bool:
    """Whether the token has Zoho's shape: no other is ever looked up."""
    return TOKEN_SHAPE.fullmatch(token) is not None


async def read_caller(
    store: TokenReads, token: str, hashed: str, now: int, cache: CallerCache | None
) -> Caller:
    """:func:`authenticate_token` for a token whose caller is not kept: its row read."""
    if not token_shape_ok(token):
        raise InvalidToken()
    return caller_of(await store.token_owner(hashed), hashed, now, cache)


def caller_of(owner: TokenOwner | None, hashed: str, now: int, cache: CallerCache | None) -> Caller:
    """The caller of a token's row as read (None: no such token), kept in ``cache``; or
    ``INVALID_TOKEN`` for a token that is unknown, expired, or whose user is not active."""
    if owner is None or not same_hash(owner.token_hash, hashed):
        raise InvalidToken()
    if owner.expires_at <= now or owner.status != "active":
        raise InvalidToken()
    protocol = owner.mailbox_protocol
    # The profile, protocol and sharing setting are a few words each: interned, every kept
    # caller shares them (rather than a string of its own from each row).
    caller = Caller(
        owner.org_id,
        owner.user_id,
        owner.name,
        sys.intern(owner.profile),
        owner.role_id,
        scopes_of(owner.scopes),
        None if protocol is None else sys.intern(protocol),
        owner.mailbox_enabled,
        sys.intern(owner.email_sharing),
        owner.expires_at,
    )
    if cache is not None:
        cache.put(hashed, caller)
    return caller
