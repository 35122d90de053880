"""Who is calling: the ``Authorization`` header to an authenticated caller (docs/contract.md §4)."""

from __future__ import annotations

from dataclasses import dataclass

from emailshare.domain import scopes as scope_rules
from emailshare.domain.errors import AuthenticationFailure, InvalidToken
from emailshare.domain.tokens import same_hash, token_hash
from emailshare.service.cache import BoundedCache
from emailshare.service.fixtures import TOKEN_SHAPE
from emailshare.service.ports import TokenReads

_SCHEME = "zoho-oauthtoken"


@dataclass(frozen=True, slots=True)
class Caller:
    """An active user of one org, holding a live token with these scopes."""

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


CallerCache = BoundedCache[str, tuple[Caller, int]]


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
    """:func:`authenticate` for a token already taken from its header, with its hash."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise InvalidToken()
    hit = cache.get(hashed) if cache is not None else None
    if hit is not None:
        if hit[1] <= now:
            raise InvalidToken()
        return hit[0]
    owner = await store.token_owner(hashed)
    if owner is None or not same_hash(owner.token_hash, hashed):
        raise InvalidToken()
    if owner.expires_at <= now or owner.status != "active":
        raise InvalidToken()
    caller = Caller(
        owner.org_id,
        owner.user_id,
        owner.name,
        owner.profile,
        owner.role_id,
        scope_rules.normalise(owner.scopes.split()),
        owner.mailbox_protocol,
        owner.mailbox_enabled,
        owner.email_sharing,
        owner.expires_at,
    )
    if cache is not None:
        cache.put(hashed, (caller, owner.expires_at))
    return caller
