"""Zoho Accounts' token endpoint, as the official SDKs use it (docs/contract.md §9).

Errors are ``domain.errors.OAuthError`` classes, which ``api/errors.py`` answers with HTTP 200
and ``{"error": …}``; they never say more than Zoho would (an unknown client and a bad secret
are told apart, as Zoho does).
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from emailshare.domain.errors import (
    FixtureError,
    InvalidClient,
    InvalidClientSecret,
    InvalidCode,
    InvalidRedirectUri,
    UnsupportedGrantType,
)
from emailshare.domain.numbers import parse_id
from emailshare.domain.tokens import (
    is_legacy,
    new_access_token,
    new_secret,
    secret_hash,
    secret_matches,
    token_hash,
)
from emailshare.domain.views import Grant, OAuthClient
from emailshare.service.ports import OAuthStore

ACCESS_TTL = 3600
GRANT_TTL = 120
_SOID = re.compile(r"ZohoCRM\.([0-9]{1,19})")


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    scope: str
    expires_in: int = ACCESS_TTL


def split_scopes(text: str) -> list[str]:
    """Zoho takes scopes comma-separated; spaces are accepted too."""
    return [s for s in re.split(r"[,\s]+", text) if s]


# Secrets this worker has verified, as a keyed hash under a key of this process's own (never
# stored): a client's next exchanges cost a SHA-256, not a scrypt. Keyed by the stored hash
# too, so a new secret (a fixture reloaded) is verified afresh. Bounded: the oldest go first.
_VERIFIED: dict[tuple[str, str], bytes] = {}
_VERIFIED_KEY = secrets.token_bytes(32)
MAX_VERIFIED = 1024


def _tag(secret: str) -> bytes:
    return hmac.new(_VERIFIED_KEY, secret.encode("utf-8", "surrogatepass"), "sha256").digest()


def _remember(client_id: str, stored: str, tag: bytes) -> None:
    if len(_VERIFIED) >= MAX_VERIFIED:
        del _VERIFIED[next(iter(_VERIFIED))]
    _VERIFIED[(client_id, stored)] = tag


async def _secret_ok(store: OAuthStore, client: OAuthClient, secret: str) -> bool:
    """The client's secret checked against its stored hash (scrypt, off the event loop; once
    per worker and secret), in constant time. A hash of the older unsalted form is replaced
    by a scrypt one once the secret is known to match (docs/reliability.md "Trust")."""
    tag = _tag(secret)
    known = _VERIFIED.get((client.client_id, client.secret_hash))
    if known is not None:
        return hmac.compare_digest(known, tag)
    if not await asyncio.to_thread(secret_matches, client.secret_hash, secret):
        return False
    stored = client.secret_hash
    if is_legacy(stored):
        stored = await asyncio.to_thread(secret_hash, secret)
        async with store.oauth_transaction() as tx:
            await tx.rehash_client_secret(client.client_id, client.secret_hash, stored)
    _remember(client.client_id, stored, tag)
    return True


async def _check_client(store: OAuthStore, params: Mapping[str, str]) -> OAuthClient:
    client = await store.oauth_client(params.get("client_id", ""))
    if client is None:
        raise InvalidClient()
    if not await _secret_ok(store, client, params.get("client_secret", "")):
        raise InvalidClientSecret()
    return client


async def exchange(store: OAuthStore, params: Mapping[str, str], now: int) -> IssuedTokens:
    """``POST /oauth/v2/token`` for the three grant types Zoho CRM clients use."""
    grant_type = params.get("grant_type", "")
    if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
        raise UnsupportedGrantType()
    client = await _check_client(store, params)
    if grant_type == "authorization_code":
        return await _from_code(store, client, params, now)
    if grant_type == "refresh_token":
        return await _from_refresh(store, client, params.get("refresh_token", ""), now)
    return await _from_client(store, client, params, now)


async def _from_code(
    store: OAuthStore, client: OAuthClient, params: Mapping[str, str], now: int
) -> IssuedTokens:
    redirect = params.get("redirect_uri")
    async with store.oauth_transaction() as tx:
        grant = await tx.take_grant_code(token_hash(params.get("code", "")))
        if grant is None or grant.client_id != client.client_id:
            raise InvalidCode()
        if grant.expires_at is not None and grant.expires_at <= now:
            raise InvalidCode()
        if client.redirect_uri and redirect != client.redirect_uri:
            raise InvalidRedirectUri()
        refresh, access = new_access_token(), new_access_token()
        await tx.add_refresh_token(token_hash(refresh), grant, now)
        await tx.add_access_token(
            token_hash(access), grant, now + ACCESS_TTL, token_hash(refresh), now
        )
    return IssuedTokens(access, refresh, grant.scopes)


async def _from_refresh(
    store: OAuthStore, client: OAuthClient, refresh: str, now: int
) -> IssuedTokens:
    hashed = token_hash(refresh)
    async with store.oauth_transaction() as tx:
        grant = await tx.refresh_grant(hashed)
        if grant is None or grant.client_id != client.client_id:
            raise InvalidCode()
        access = new_access_token()
        await tx.add_access_token(token_hash(access), grant, now + ACCESS_TTL, hashed, now)
    return IssuedTokens(access, None, grant.scopes)


async def _from_client(
    store: OAuthStore, client: OAuthClient, params: Mapping[str, str], now: int
) -> IssuedTokens:
    scopes = split_scopes(params.get("scope", ""))
    match = _SOID.fullmatch(params.get("soid", ""))
    if not scopes or match is None:
        raise InvalidClient()
    org_id = parse_id(match.group(1))
    if org_id is None:
        raise InvalidClient()
    if client.org_id is not None and client.org_id != org_id:
        raise InvalidClient()
    async with store.oauth_transaction() as tx:
        if not await tx.org_exists(org_id):
            raise InvalidClient()
        user_id = await tx.first_admin(org_id)
        if user_id is None:
            raise InvalidClient()
        grant = Grant(client.client_id, org_id, user_id, " ".join(scopes), None)
        access = new_access_token()
        await tx.add_access_token(token_hash(access), grant, now + ACCESS_TTL, None, now)
    return IssuedTokens(access, None, grant.scopes)


async def revoke(store: OAuthStore, token: str) -> None:
    """Revoke a refresh token (and its access tokens) or a single access token."""
    hashed = token_hash(token)
    async with store.oauth_transaction() as tx:
        if not await tx.revoke_refresh(hashed):
            await tx.revoke_access(hashed)


# --- operator actions (command line) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewClient:
    client_id: str
    client_secret: str


async def add_client(store: OAuthStore, name: str, redirect_uri: str | None) -> NewClient:
    """Register an OAuth client usable by any org's users; its secret is shown once."""
    alphabet = string.ascii_uppercase + string.digits
    client_id = "1000." + "".join(secrets.choice(alphabet) for _ in range(30))
    secret = new_secret(21)
    async with store.oauth_transaction() as tx:
        await tx.add_client(client_id, name, secret_hash(secret), redirect_uri)
    return NewClient(client_id, secret)


async def issue_grant(
    store: OAuthStore,
    client_id: str,
    user_id: int,
    scopes: Sequence[str],
    issued_at: int,
    org_id: int | None = None,
) -> str:
    """A single-use grant code for a user, valid 120 s from ``issued_at``."""
    client = await store.oauth_client(client_id)
    if client is None:
        raise FixtureError(f"no OAuth client {client_id!r}")
    orgs = await store.user_orgs(user_id)
    if org_id is not None:
        orgs = [o for o in orgs if o == org_id]
    if client.org_id is not None:
        orgs = [o for o in orgs if o == client.org_id]
    if len(orgs) != 1:
        raise FixtureError(
            f"user {user_id} is not one user of this client's org (name the org with --org)"
        )
    if not scopes:
        raise FixtureError("at least one --scope is needed")
    code = new_access_token()
    async with store.oauth_transaction() as tx:
        await tx.add_grant_code(
            token_hash(code),
            client.client_id,
            orgs[0],
            user_id,
            " ".join(scopes),
            issued_at + GRANT_TTL,
        )
    return code
