"""``service.auth``: the ``Authorization`` header to a caller (docs/contract.md §4), on a fake
store of tokens."""

from __future__ import annotations

import pytest

from emailshare.domain.errors import AuthenticationFailure, InvalidToken
from emailshare.domain.tokens import token_hash
from emailshare.domain.views import TokenOwner
from emailshare.service import auth
from emailshare.service.auth import Caller, CallerCache, authenticate, bearer_token
from emailshare.service.cache import BoundedCache
from tests.unit.fakes import FakeStore
from tests.unit.service.org import (
    ADMIN,
    GONE,
    ORG,
    OTHER_ORG,
    OUTSIDER,
    REP,
    caller,
    org,
    other_org,
)

pytestmark = pytest.mark.anyio
NOW = 1_000_000
TOKEN = "1000." + "a" * 32 + "." + "b" * 32
SCOPES = ["ZohoCRM.modules.ALL", "ZohoCRM.Users.READ"]


@pytest.fixture
async def store() -> FakeStore:
    fake = FakeStore([org(), other_org()], NOW)
    await fake.add_access_token(TOKEN, ORG, REP, SCOPES, NOW + 60)
    return fake


def header(token: str = TOKEN) -> str:
    return f"Zoho-oauthtoken {token}"


@pytest.mark.parametrize("value", [None, "", "   ", "Bearer " + TOKEN, TOKEN, "Zoho " + TOKEN])
def test_no_header_or_another_scheme_fails_authentication(value: str | None) -> None:
    with pytest.raises(AuthenticationFailure) as exc:
        bearer_token(value)
    assert (exc.value.code, exc.value.message, exc.value.details) == (
        "AUTHENTICATION_FAILURE",
        "Authentication failed",
        {},
    )


@pytest.mark.parametrize(
    "value", ["Zoho-oauthtoken x", "zoho-OAUTHTOKEN   x ", " Zoho-oauthtoken x"]
)
def test_the_scheme_is_case_insensitive_and_spaces_are_trimmed(value: str) -> None:
    assert bearer_token(value) == "x"


async def test_a_live_token_gives_its_caller(store: FakeStore) -> None:
    found = await authenticate(store, header(), NOW)
    assert found == Caller(
        ORG,
        REP,
        "Rita Rep",
        "standard",
        caller(REP).role_id,
        frozenset({"zohocrm.modules.all", "zohocrm.users.read"}),
        "imap",
        True,
        "custom",
        NOW + 60,
    )
    assert not found.is_admin


async def test_an_administrators_token(store: FakeStore) -> None:
    token = "1000." + "c" * 32 + "." + "d" * 32
    await store.add_access_token(token, ORG, ADMIN, SCOPES, NOW + 60)
    assert (await authenticate(store, header(token), NOW)).is_admin


@pytest.mark.parametrize(
    "token",
    [
        "",
        "1000.abc",
        TOKEN.upper(),  # not Zoho's shape (hex is lowercase)
        TOKEN + "0",
        "1000." + "a" * 32 + "." + "c" * 32,  # the right shape, no such token
    ],
)
async def test_a_malformed_or_unknown_token_is_invalid(store: FakeStore, token: str) -> None:
    with pytest.raises(InvalidToken) as exc:
        await authenticate(store, header(token), NOW)
    assert (exc.value.code, exc.value.message) == ("INVALID_TOKEN", "invalid oauth token")


async def test_an_expired_token_is_invalid_from_its_expiry_on(store: FakeStore) -> None:
    assert await authenticate(store, header(), NOW + 59)
    with pytest.raises(InvalidToken):
        await authenticate(store, header(), NOW + 60)


async def test_the_token_of_a_user_who_is_not_active_is_invalid(store: FakeStore) -> None:
    token = "1000." + "e" * 32 + "." + "f" * 32
    await store.add_access_token(token, ORG, GONE, SCOPES, NOW + 60)
    with pytest.raises(InvalidToken):
        await authenticate(store, header(token), NOW)


async def test_a_cached_caller_is_served_without_the_store_until_it_expires(
    store: FakeStore,
) -> None:
    cache: CallerCache = BoundedCache(10)
    first = await authenticate(store, header(), NOW, cache)
    del store.state.access[token_hash(TOKEN)]  # the cache's owner keeps it fresh, not this test
    assert await authenticate(store, header(), NOW + 1, cache) is first
    with pytest.raises(InvalidToken):
        await authenticate(store, header(), NOW + 60, cache)


async def test_a_kept_caller_is_its_own_entry(store: FakeStore) -> None:
    """The cache keeps the caller itself (its expiry is its own ``expires_at``), not a tuple
    around it: one object fewer per kept caller for memory and the cyclic collector."""
    cache: CallerCache = BoundedCache(10)
    found = await authenticate(store, header(), NOW, cache)
    assert cache.get(token_hash(TOKEN)) is found
    assert found.expires_at == NOW + 60


async def test_callers_share_one_scopes_set_per_scopes_text(store: FakeStore) -> None:
    """Two tokens with the same scopes text give callers holding the same set (and the same
    profile and sharing strings), not a copy each (docs/performance.md, "The caller on a
    miss")."""
    other = "1000." + "1" * 32 + "." + "2" * 32
    await store.add_access_token(other, ORG, REP, SCOPES, NOW + 60)
    first = await authenticate(store, header(), NOW)
    second = await authenticate(store, header(other), NOW)
    assert first is not second
    assert first == second
    assert first.scopes is second.scopes
    assert first.profile is second.profile
    assert first.email_sharing is second.email_sharing


def test_the_shared_scopes_sets_are_bounded() -> None:
    texts = [f"ZohoCRM.modules.ALL ZohoCRM.x{n}.READ" for n in range(auth.SCOPE_SETS_KEPT + 10)]
    for text in texts:
        assert auth.scopes_of(text) == frozenset({"zohocrm.modules.all", text.split()[1].lower()})
    assert auth.scopes_of.cache_info().currsize <= auth.SCOPE_SETS_KEPT
    assert auth.scopes_of(texts[-1]) is auth.scopes_of(texts[-1])
    assert auth.scopes_of("  ") == frozenset()


def test_callers_and_token_owners_are_named_tuples() -> None:
    """Made on every request whose caller is not kept: a tuple is made in a fraction of a
    frozen dataclass's time (docs/performance.md, "The caller on a miss"), and is as
    immutable."""
    found = caller(REP)
    assert isinstance(found, tuple)
    assert isinstance(found, Caller)
    assert issubclass(TokenOwner, tuple)
    with pytest.raises(AttributeError):
        found.org_id = OTHER_ORG  # type: ignore[misc]


async def test_a_malformed_token_is_invalid_whatever_the_cache_holds(store: FakeStore) -> None:
    """A kept caller is served without its token's shape checked again, which is sound
    because only well-shaped tokens are ever kept: a malformed one misses and fails."""
    cache: CallerCache = BoundedCache(10)
    await authenticate(store, header(), NOW, cache)
    for bad in (TOKEN.upper(), TOKEN + "0", TOKEN[:-1]):
        with pytest.raises(InvalidToken):
            await authenticate(store, header(bad), NOW, cache)
    assert len(cache) == 1


async def test_a_token_naming_a_user_of_another_org_is_invalid(store: FakeStore) -> None:
    token = "1000." + "3" * 32 + "." + "4" * 32
    await store.add_access_token(token, ORG, OUTSIDER, SCOPES, NOW + 60)
    with pytest.raises(InvalidToken):
        await authenticate(store, header(token), NOW)
