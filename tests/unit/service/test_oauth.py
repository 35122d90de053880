"""``service.oauth``: Zoho Accounts' token endpoint and the operator's grants (docs/contract.md
§9), on a fake store whose OAuth transactions roll back."""

from __future__ import annotations

import pytest

from emailshare.domain.errors import (
    FixtureError,
    InvalidClient,
    InvalidClientSecret,
    InvalidCode,
    InvalidRedirectUri,
    OAuthError,
    UnsupportedGrantType,
)
from emailshare.domain.model import Org, Profile, User
from emailshare.domain.tokens import secret_matches, token_hash
from emailshare.service import oauth
from tests.unit.fakes import FakeStore
from tests.unit.service.org import (
    ADMIN,
    CLIENT_ID,
    CLIENT_SECRET,
    ORG,
    OTHER_ORG,
    OUTSIDER,
    REDIRECT,
    REP,
    org,
    other_org,
)

pytestmark = pytest.mark.anyio
NOW = 2_000_000
SCOPES = ["ZohoCRM.modules.ALL", "ZohoCRM.users.READ"]


@pytest.fixture
def store() -> FakeStore:
    return FakeStore([org(), other_org()], NOW)


def client(**more: str) -> dict[str, str]:
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **more}


async def code_for(store: FakeStore, user: int = REP, issued_at: int = NOW) -> str:
    return await oauth.issue_grant(store, CLIENT_ID, user, SCOPES, issued_at)


async def by_code(store: FakeStore, code: str, now: int = NOW, **more: str) -> oauth.IssuedTokens:
    params = client(
        grant_type="authorization_code", code=code, **{"redirect_uri": REDIRECT, **more}
    )
    return await oauth.exchange(store, params, now)


async def owner_of(store: FakeStore, access_token: str) -> tuple[int, int, str] | None:
    found = await store.token_owner(token_hash(access_token))
    return None if found is None else (found.org_id, found.user_id, found.scopes)


async def test_a_grant_code_gives_a_refresh_and_an_access_token(store: FakeStore) -> None:
    issued = await by_code(store, await code_for(store))
    assert issued.refresh_token is not None
    assert (issued.scope, issued.expires_in) == (" ".join(SCOPES), 3600)
    assert await owner_of(store, issued.access_token) == (ORG, REP, " ".join(SCOPES))
    assert store.state.access[token_hash(issued.access_token)].expires_at == NOW + 3600


async def test_a_grant_code_works_once(store: FakeStore) -> None:
    code = await code_for(store)
    await by_code(store, code)
    with pytest.raises(InvalidCode):
        await by_code(store, code)


async def test_a_grant_code_expires_after_120_seconds(store: FakeStore) -> None:
    code = await code_for(store, issued_at=NOW - 120)
    with pytest.raises(InvalidCode):
        await by_code(store, code)
    assert (await by_code(store, await code_for(store, issued_at=NOW - 119))).access_token


@pytest.mark.parametrize("code", ["", "nope", "1000." + "0" * 32 + "." + "0" * 32])
async def test_an_unknown_code_is_invalid_code(store: FakeStore, code: str) -> None:
    with pytest.raises(InvalidCode):
        await by_code(store, code)


async def test_another_clients_code_is_invalid_code(store: FakeStore) -> None:
    other = await oauth.add_client(store, "other", None)
    code = await code_for(store)
    params = {
        "grant_type": "authorization_code",
        "client_id": other.client_id,
        "client_secret": other.client_secret,
        "code": code,
    }
    with pytest.raises(InvalidCode):
        await oauth.exchange(store, params, NOW)


async def test_a_redirect_uri_other_than_the_registered_one_is_refused(store: FakeStore) -> None:
    code = await code_for(store)
    with pytest.raises(InvalidRedirectUri):
        await by_code(store, code, redirect_uri="https://evil.example/cb")
    assert not any(t.refresh_hash for t in store.state.access.values())  # nothing issued


@pytest.mark.parametrize("grant_type", ["", "password", "implicit", "AUTHORIZATION_CODE"])
async def test_other_grant_types_are_unsupported(store: FakeStore, grant_type: str) -> None:
    with pytest.raises(UnsupportedGrantType) as exc:
        await oauth.exchange(store, client(grant_type=grant_type), NOW)
    assert exc.value.code == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"client_id": "1000.NOPE", "client_secret": CLIENT_SECRET}, InvalidClient),
        ({"client_secret": CLIENT_SECRET}, InvalidClient),
        ({"client_id": CLIENT_ID, "client_secret": "wrong"}, InvalidClientSecret),
        ({"client_id": CLIENT_ID}, InvalidClientSecret),
    ],
)
async def test_the_client_is_checked_first(
    store: FakeStore, params: dict[str, str], error: type[OAuthError]
) -> None:
    """An unknown client and a bad secret are told apart, as Zoho does."""
    with pytest.raises(error) as exc:
        await oauth.exchange(store, {"grant_type": "refresh_token", **params}, NOW)
    assert type(exc.value) is error


async def test_a_refresh_token_gives_access_tokens_only(store: FakeStore) -> None:
    issued = await by_code(store, await code_for(store))
    assert issued.refresh_token is not None
    params = client(grant_type="refresh_token", refresh_token=issued.refresh_token)
    again = await oauth.exchange(store, params, NOW + 10)
    assert again.refresh_token is None
    assert again.access_token != issued.access_token
    assert await owner_of(store, again.access_token) == (ORG, REP, " ".join(SCOPES))


async def test_an_unknown_or_other_clients_refresh_token_is_invalid_code(
    store: FakeStore,
) -> None:
    issued = await by_code(store, await code_for(store))
    with pytest.raises(InvalidCode):
        await oauth.exchange(store, client(grant_type="refresh_token", refresh_token="x"), NOW)
    other = await oauth.add_client(store, "other", None)
    params = {
        "grant_type": "refresh_token",
        "client_id": other.client_id,
        "client_secret": other.client_secret,
        "refresh_token": str(issued.refresh_token),
    }
    with pytest.raises(InvalidCode):
        await oauth.exchange(store, params, NOW)


async def test_revoking_a_refresh_token_kills_its_access_tokens(store: FakeStore) -> None:
    issued = await by_code(store, await code_for(store))
    assert issued.refresh_token is not None
    await oauth.revoke(store, issued.refresh_token)
    assert await owner_of(store, issued.access_token) is None
    params = client(grant_type="refresh_token", refresh_token=issued.refresh_token)
    with pytest.raises(InvalidCode):
        await oauth.exchange(store, params, NOW)


async def test_revoking_an_access_token_kills_it_alone(store: FakeStore) -> None:
    issued = await by_code(store, await code_for(store))
    assert issued.refresh_token is not None
    await oauth.revoke(store, issued.access_token)
    assert await owner_of(store, issued.access_token) is None
    params = client(grant_type="refresh_token", refresh_token=issued.refresh_token)
    assert (await oauth.exchange(store, params, NOW)).access_token
    await oauth.revoke(store, "not a token at all")  # nothing to revoke: no error


# --- client_credentials -------------------------------------------------------------------


def credentials(**more: str) -> dict[str, str]:
    return client(grant_type="client_credentials", scope="ZohoCRM.modules.ALL", **more)


async def test_client_credentials_act_as_the_orgs_first_administrator(store: FakeStore) -> None:
    issued = await oauth.exchange(store, credentials(soid=f"ZohoCRM.{ORG}"), NOW)
    assert issued.refresh_token is None
    assert await owner_of(store, issued.access_token) == (ORG, ADMIN, "ZohoCRM.modules.ALL")


@pytest.mark.parametrize(
    "more",
    [
        {"soid": f"ZohoCRM.{ORG}", "scope": ""},  # no scope
        {},  # no soid
        {"soid": str(ORG)},
        {"soid": f"ZohoCRM.{ORG}x"},
        {"soid": f"zohocrm.{ORG}"},
        {"soid": "ZohoCRM.999"},  # no such org
    ],
)
async def test_client_credentials_without_a_scope_or_a_known_org_are_refused(
    store: FakeStore, more: dict[str, str]
) -> None:
    with pytest.raises(InvalidClient):
        await oauth.exchange(store, {**credentials(), **more}, NOW)


async def test_a_client_of_one_org_gets_no_token_for_another(store: FakeStore) -> None:
    """The fixture's client belongs to ORG; an unbound client may serve any org."""
    with pytest.raises(InvalidClient):
        await oauth.exchange(store, credentials(soid=f"ZohoCRM.{OTHER_ORG}"), NOW)
    free = await oauth.add_client(store, "free", None)
    params = {
        **credentials(soid=f"ZohoCRM.{OTHER_ORG}"),
        "client_id": free.client_id,
        "client_secret": free.client_secret,
    }
    issued = await oauth.exchange(store, params, NOW)
    assert await owner_of(store, issued.access_token) == (
        OTHER_ORG,
        OUTSIDER,
        "ZohoCRM.modules.ALL",
    )


async def test_an_org_without_an_active_administrator_gets_no_token(store: FakeStore) -> None:
    lone = Org(30, "Lone", users=(User(300, "Sam", "sam@lone.test", profile=Profile.STANDARD),))
    await store.replace_orgs([lone], NOW)
    free = await oauth.add_client(store, "free", None)
    params = {
        **credentials(soid="ZohoCRM.30"),
        "client_id": free.client_id,
        "client_secret": free.client_secret,
    }
    with pytest.raises(InvalidClient):
        await oauth.exchange(store, params, NOW)


# --- the operator's actions ---------------------------------------------------------------


async def test_a_new_client_is_stored_with_its_secrets_hash_only(store: FakeStore) -> None:
    made = await oauth.add_client(store, "tool", "https://tool.example/cb")
    stored = store.state.clients[made.client_id]
    assert made.client_id.startswith("1000.")
    assert len(made.client_id) == 35
    assert (stored.org_id, stored.redirect_uri) == (None, "https://tool.example/cb")
    assert stored.secret_hash.startswith("scrypt$")  # salted and slow: docs/reliability.md
    assert made.client_secret not in stored.secret_hash
    assert secret_matches(stored.secret_hash, made.client_secret)


async def test_issuing_a_grant_for_an_unknown_client_fails(store: FakeStore) -> None:
    with pytest.raises(FixtureError, match="no OAuth client"):
        await oauth.issue_grant(store, "1000.NOPE", REP, SCOPES, NOW)


async def test_issuing_a_grant_needs_one_user_of_the_clients_org(store: FakeStore) -> None:
    with pytest.raises(FixtureError, match="not one user"):
        await oauth.issue_grant(store, CLIENT_ID, OUTSIDER, SCOPES, NOW)  # another org's
    with pytest.raises(FixtureError, match="not one user"):
        await oauth.issue_grant(store, CLIENT_ID, 424242, SCOPES, NOW)  # nobody
    with pytest.raises(FixtureError, match="not one user"):
        await oauth.issue_grant(store, CLIENT_ID, REP, SCOPES, NOW, org_id=OTHER_ORG)


async def test_a_user_id_in_two_orgs_needs_the_org_named(store: FakeStore) -> None:
    twin = Org(40, "Twin", users=(User(REP, "Rita Twin", "rita@twin.test"),))
    await store.replace_orgs([twin], NOW)
    free = await oauth.add_client(store, "free", None)
    with pytest.raises(FixtureError, match="name the org"):
        await oauth.issue_grant(store, free.client_id, REP, SCOPES, NOW)
    code = await oauth.issue_grant(store, free.client_id, REP, SCOPES, NOW, org_id=40)
    assert store.state.codes[token_hash(code)].org_id == 40
    # The fixture's client is bound to ORG, which picks the user's org by itself.
    assert await oauth.issue_grant(store, CLIENT_ID, REP, SCOPES, NOW)


async def test_issuing_a_grant_needs_a_scope(store: FakeStore) -> None:
    with pytest.raises(FixtureError, match="scope"):
        await oauth.issue_grant(store, CLIENT_ID, REP, [], NOW)
    assert store.state.codes == {}


@pytest.mark.parametrize(
    ("text", "scopes"),
    [("a,b", ["a", "b"]), ("a b", ["a", "b"]), (" a, ,b ", ["a", "b"]), ("", [])],
)
def test_scopes_split_on_commas_and_spaces(text: str, scopes: list[str]) -> None:
    assert oauth.split_scopes(text) == scopes
