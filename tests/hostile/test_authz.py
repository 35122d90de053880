"""Object-level authorization, on every endpoint that names a record, and users and org.

- No token reaches another org's record: the answer is byte for byte the answer for an id
  that exists nowhere (docs/contract.md §5: "never reveals whether an id exists in another org").
- A user who may not read a record gets NO_PERMISSION wherever the record is named.
- Tokens of inactive, deleted or expired users are refused everywhere, at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import ACME_CLIENT, ACME_ID, ACME_SECRET, store_command
from tests.conftest import ACME_FIXTURE, acme, db_url_for
from tests.hostile.rawhttp import TOKENS

# docs/testing.md: always on a real socket. Two workers: every worker (and its cache) refuses what
# it must.
pytestmark = pytest.mark.socket

GLOBEX_ORG = "512463000000000001"
ACME_RECORDS = {
    "3652397000001790004": "Accounts",
    "3652397000001790010": "Leads",
    "3652397000001790011": "Leads",
    "3652397000001790020": "Contacts",
    "3652397000001790030": "Deals",
    "3652397000001790040": "Projects",
    "3652397000001790050": "Quotes",
}
GLOBEX_RECORDS = {"5124630000001790001": "Leads"}
NOWHERE = "3652397000009999999"  # an id no org has
ACME_ACTIVE = ["will", "boyle", "ada", "carla", "nora", "pat"]
USER_IDS = {
    "will": "412463000001213019",
    "boyle": "412463000000867017",
    "ada": "412463000000500001",
    "carla": "412463000000500002",
    "nora": "412463000000500003",
    "pat": "412463000000500006",
    "gina": "512463000000000101",
}
# Who may NOT read each Acme record, by the contract's rules on tests/data/acme.json (§5).
NON_READERS = {
    "3652397000001790004": {"boyle", "nora", "pat"},  # Accounts private, owner Will (Rep)
    "3652397000001790010": {"boyle", "nora", "pat"},  # owner Carla, shared with Will
    "3652397000001790011": {"will", "boyle", "nora"},  # owner Pat (Rep)
    "3652397000001790020": set(),  # Contacts public_read_only
    "3652397000001790030": {"boyle", "nora", "pat"},  # Deals private, owner Will
    "3652397000001790040": {"will", "boyle", "nora", "pat"},  # owner Carla (Manager)
    "3652397000001790050": {"will", "nora", "pat"},  # owner boyle (Rep)
}
SHAREABLE = {"Leads", "Contacts", "Projects"}
VERSIONS = ["v4", "v5", "v6", "v7", "v8"]
NO_PERMISSION = {
    "code": "NO_PERMISSION",
    "details": {"permissions": ["Crm_Implied_View_Emails"]},
    "message": "permission denied",
    "status": "error",
}
INVALID_TOKEN = (
    b'{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}'
)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        db_url=db_url_for(tmp_path_factory.mktemp("authz")), fixture=ACME_FIXTURE, workers=2
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(srv: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        yield c


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {TOKENS[who]}"}


def shape(r: httpx.Response) -> tuple[int, str | None, bytes]:
    return r.status_code, r.headers.get("content-type"), r.content


def single_requests(module: str, record: str) -> list[tuple[str, str, bytes | None]]:
    """(method, path, body) of every endpoint that names one record."""
    found: list[tuple[str, str, bytes | None]] = [
        ("GET", f"/crm/{v}/{module}/{record}/__emails_sharing_details", None) for v in VERSIONS
    ]
    found += [
        ("GET", f"/crm/v8/{module.upper()}/{record}/__emails_sharing_details", None),
        ("POST", f"/crm/v8/{module}/{record}/actions/share_emails", None),
        ("POST", f"/crm/v8/{module}/{record}/actions/unshare_emails", b"{}"),
    ]
    return found


def bulk_paths(module: str) -> list[str]:
    return [f"/crm/v8/{module}/actions/{a}_emails" for a in ("share", "unshare")]


def call(c: httpx.Client, who: str, method: str, path: str, body: bytes | None) -> httpx.Response:
    return c.request(method, path, headers=auth(who), content=body)


def bulk(c: httpx.Client, who: str, path: str, ids: list[str]) -> httpx.Response:
    return c.post(path, headers=auth(who), json={"ids": ids})


def cross_org_pairs() -> list[tuple[str, str, str]]:
    pairs = [(who, rid, m) for who in ACME_ACTIVE for rid, m in GLOBEX_RECORDS.items()]
    pairs += [("gina", rid, m) for rid, m in ACME_RECORDS.items()]
    return pairs


@pytest.mark.parametrize(("who", "record", "module"), cross_org_pairs())
def test_other_orgs_records_answer_as_ids_that_exist_nowhere(
    client: httpx.Client, who: str, record: str, module: str
) -> None:
    for method, path, body in single_requests(module, record):
        theirs = call(client, who, method, path, body)
        nowhere = call(client, who, method, path.replace(record, NOWHERE), body)
        assert shape(theirs) == shape(nowhere), (who, method, path)
        assert theirs.status_code in (400, 401), theirs.text
        if theirs.status_code == 400 and theirs.json()["code"] == "INVALID_DATA":
            assert theirs.json()["details"] == {"resource_path_index": 1}
    for path in bulk_paths(module):
        theirs = bulk(client, who, path, [record])
        nowhere = bulk(client, who, path, [NOWHERE])
        assert theirs.status_code == nowhere.status_code
        assert theirs.content == nowhere.content.replace(NOWHERE.encode(), record.encode())
        # Mixed with one of their own: still one entry per id, the foreign one INVALID_DATA.
        if theirs.status_code == 400 and "data" in theirs.json():
            entry = theirs.json()["data"][0]
            assert (entry["code"], entry["details"]) == ("INVALID_DATA", {"id": record})


def test_module_case_and_number_ids_do_not_reach_other_orgs(client: httpx.Client) -> None:
    path = "/crm/v8/leads/actions/share_emails"
    theirs = client.post(path, headers=auth("carla"), json={"ids": [5124630000001790001]})
    nowhere = client.post(path, headers=auth("carla"), json={"ids": [int(NOWHERE)]})
    assert theirs.content == nowhere.content.replace(NOWHERE.encode(), b"5124630000001790001")


@pytest.mark.parametrize("who", [*ACME_ACTIVE, "gina"])
def test_users_and_org_show_only_the_callers_org(client: httpx.Client, who: str) -> None:
    org = GLOBEX_ORG if who == "gina" else ACME_ID
    doc = acme()
    members = {
        u["id"] for o in doc["orgs"] if o["id"] == org for u in o["users"]
    }  # every user of the caller's org, whatever their status
    tokens = [TOKENS[who]]
    if who in ("will", "gina"):  # the fixture gives them users/org scopes
        for kind in ("AllUsers", "ActiveUsers", "CurrentUser", None):
            params = {"type": kind} if kind else {}
            for v in ("v2", "v8"):
                r = client.get(f"/crm/{v}/users", params=params, headers=auth(who))
                assert r.status_code == 200, r.text
                ids = {u["id"] for u in r.json()["users"]}
                assert ids <= members
                if kind == "CurrentUser":
                    assert ids == {USER_IDS[who]}
        r = client.get("/crm/v8/org", headers=auth(who))
        assert r.status_code == 200
        assert [(o["id"], o["zgid"]) for o in r.json()["org"]] == [(org, org)]
    else:  # scopes first: never another org's data either way
        for path in ("/crm/v8/users", "/crm/v8/org"):
            r = client.get(path, headers={"Authorization": f"Zoho-oauthtoken {tokens[0]}"})
            assert (r.status_code, r.json()["code"]) == (401, "OAUTH_SCOPE_MISMATCH")


def no_permission_cases() -> list[tuple[str, str, str]]:
    return [
        (who, rid, ACME_RECORDS[rid]) for rid, users in NON_READERS.items() for who in sorted(users)
    ]


@pytest.mark.parametrize(("who", "record", "module"), no_permission_cases())
def test_no_permission_on_every_endpoint_naming_the_record(
    client: httpx.Client, who: str, record: str, module: str
) -> None:
    for method, path, body in single_requests(module, record):
        if method == "POST" and module not in SHAREABLE:
            continue  # NOT_SUPPORTED comes before the record (docs/contract.md §8)
        r = call(client, who, method, path, body)
        assert (r.status_code, r.json()) == (403, NO_PERMISSION), (method, path)
    if module in SHAREABLE:
        for path in bulk_paths(module):
            r = bulk(client, who, path, [record])
            assert r.status_code == 400
            assert r.json() == {"data": [NO_PERMISSION]}


@pytest.mark.parametrize("record", sorted(ACME_RECORDS))
def test_readers_are_answered(client: httpx.Client, record: str) -> None:
    module = ACME_RECORDS[record]
    for who in sorted(set(ACME_ACTIVE) - NON_READERS[record]):
        r = client.get(f"/crm/v8/{module}/{record}/__emails_sharing_details", headers=auth(who))
        assert r.status_code == 200, (who, r.text)


def every_endpoint() -> list[tuple[str, str, bytes | None]]:
    found: list[tuple[str, str, bytes | None]] = []
    for rid, module in {**ACME_RECORDS, **GLOBEX_RECORDS, NOWHERE: "Leads"}.items():
        found += single_requests(module, rid)
        body = json.dumps({"ids": [rid]}).encode()
        found += [("POST", path, body) for path in bulk_paths(module)]
    found += [
        ("GET", "/crm/v8/users?type=CurrentUser", None),
        ("GET", "/crm/v2/users", None),
        ("GET", "/crm/v8/org", None),
        ("GET", "/crm/v8/Nope/1/__emails_sharing_details", None),
    ]
    return found


@pytest.mark.parametrize("who", ["ian", "dan", "expired"])
def test_inactive_deleted_and_expired_tokens_are_refused_everywhere(
    client: httpx.Client, who: str
) -> None:
    for method, path, body in every_endpoint():
        r = call(client, who, method, path, body)
        assert (r.status_code, r.content) == (401, INVALID_TOKEN), (method, path)


def cli(db_url: str, name: str, *args: str) -> str:
    return store_command(db_url, name, *args).stdout.strip()


def test_fresh_tokens_of_inactive_users_are_refused(
    client: httpx.Client, srv: ServerProcess
) -> None:
    """Minted after the fact (CLI, OAuth grant and refresh), still refused."""
    ian, dan = "412463000000500004", "412463000000500007"
    scope = "ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ"
    minted = [cli(srv.db_url, "token", "--user", u, "--scope", scope) for u in (ian, dan)]
    code = cli(
        srv.db_url,
        "grant",
        "--client",
        ACME_CLIENT,
        "--user",
        ian,
        "--scope",
        scope,
    )
    form = {
        "client_id": ACME_CLIENT,
        "client_secret": ACME_SECRET,
    }
    issued = client.post(
        "/oauth/v2/token",
        data={
            **form,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost/callback",
        },
    ).json()
    refreshed = client.post(
        "/oauth/v2/token",
        data={**form, "grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
    ).json()
    for token in [*minted, issued["access_token"], refreshed["access_token"]]:
        for method, path, body in every_endpoint():
            r = client.request(
                method, path, headers={"Authorization": f"Zoho-oauthtoken {token}"}, content=body
            )
            assert (r.status_code, r.content) == (401, INVALID_TOKEN), (method, path)


def test_deactivating_a_user_refuses_their_token_at_once(tmp_path: Path) -> None:
    """Even an answer the server has cached for that token is not served again."""
    doc = acme()
    srv = start_server(db_url=db_url_for(tmp_path), fixture=ACME_FIXTURE, workers=2)
    try:
        seed = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            for _ in range(4):  # both workers answer and cache it
                assert c.get(seed, headers=auth("will")).status_code == 200
                assert c.get("/crm/v8/org", headers=auth("will")).status_code == 200
            for user in doc["orgs"][0]["users"]:
                if user["id"] == USER_IDS["will"]:
                    user["status"] = "inactive"
            changed = tmp_path / "acme-will-inactive.json"
            changed.write_text(json.dumps(doc))
            cli(srv.db_url, "load", str(changed))
            for _ in range(4):
                for method, path, body in every_endpoint():
                    r = call(c, "will", method, path, body)
                    assert (r.status_code, r.content) == (401, INVALID_TOKEN), (method, path)
    finally:
        srv.stop()
