"""The admin API's inspection endpoints (``/__emailshare/state``, ``requests``, ``explain``, the
page's files), over real sockets.

The server of this module holds ``tests/data/acme.json`` with a token of every user (and one
deleted record more), so that ``explain`` can be held equal to the live endpoint's answer for
every caller and every record of the fixture, byte for byte.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders import ACME_ID, ACME_SECRET
from tests.conftest import Served, acme, open_client, serve

KEY = "admin-api-test-key"
HEADER = "X-Emailshare-Admin-Key"
CONTENT_TYPE = "application/json;charset=UTF-8"

GLOBEX_ID = "512463000000000001"
WILL = "412463000001213019"
PAT = "412463000000500006"
ADA = "412463000000500001"
LEAD_BY_CARLA = "3652397000001790010"
DELETED_LEAD = "3652397000001790099"

INVALID_URL_PATTERN = (
    b'{"code":"INVALID_URL_PATTERN","details":{},'
    b'"message":"Please check if the URL trying to access is a correct one","status":"error"}'
)
AUTHENTICATION_FAILURE = (
    b'{"code":"AUTHENTICATION_FAILURE","details":{},"message":"Authentication failed",'
    b'"status":"error"}'
)
INVALID_REQUEST_METHOD = (
    b'{"code":"INVALID_REQUEST_METHOD","details":{},'
    b'"message":"The http request method type is not a valid one","status":"error"}'
)


def token_of(index: int) -> str:
    """A well-formed fixed token, distinct per index and from acme.json's own."""
    return f"1000.{index:032x}.{'ad' * 16}"


def explain_doc() -> dict[str, Any]:
    """acme.json with one full-scope token per user and a deleted Leads record more."""
    doc = acme()
    index = 0
    for org in doc["orgs"]:
        org["tokens"] = []
        for user in org["users"]:
            index += 1
            org["tokens"].append(
                {
                    "access_token": token_of(index),
                    "user": user["id"],
                    "scopes": ["ZohoCRM.modules.ALL"],
                    "expires_in": 86400,
                }
            )
    doc["orgs"][0]["records"].append(
        {"module": "Leads", "id": DELETED_LEAD, "name": "Gone", "owner": WILL, "deleted": True}
    )
    return doc


DOC = explain_doc()
TOKENS = {t["user"]: t["access_token"] for org in DOC["orgs"] for t in org["tokens"]}
ORG_OF = {u["id"]: org["id"] for org in DOC["orgs"] for u in org["users"]}


@pytest.fixture(scope="module")
def admin_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("admin")
    fixture = tmp / "explain.json"
    fixture.write_text(json.dumps(DOC))
    srv = serve(request, tmp, fixture=fixture, admin_key=KEY)
    yield srv
    srv.stop()


@pytest.fixture
def client(admin_server: Served) -> Iterator[httpx.Client]:
    with open_client(admin_server, timeout=30) as c:
        yield c


def admin_get(client: httpx.Client, path: str, **params: str) -> httpx.Response:
    return client.get(f"/__emailshare/{path}", params=params, headers={HEADER: KEY})


def details(client: httpx.Client, caller: str, module: str, record: str) -> httpx.Response:
    return client.get(
        f"/crm/v8/{module}/{record}/__emails_sharing_details",
        headers={"Authorization": f"Zoho-oauthtoken {TOKENS[caller]}"},
    )


# --- the guard ------------------------------------------------------------------------------

ADMIN_PATHS = ["state", "requests?limit=5", f"explain?caller={WILL}&record={LEAD_BY_CARLA}"]


@pytest.mark.parametrize("path", [*ADMIN_PATHS, "ui/", "ui/app.js"])
def test_off_without_an_admin_key_as_if_absent(server: Served, path: str) -> None:
    """The shared server has no --admin-key: every admin path is an unknown URL."""
    response = server.client.get(f"/__emailshare/{path}", headers={HEADER: KEY})
    assert (response.status_code, response.content) == (404, INVALID_URL_PATTERN)


@pytest.mark.parametrize("path", ADMIN_PATHS)
@pytest.mark.parametrize("given", [None, "", "wrong-key", KEY + "x"])
def test_a_missing_or_wrong_key_is_refused(
    client: httpx.Client, path: str, given: str | None
) -> None:
    headers = {} if given is None else {HEADER: given}
    response = client.get(f"/__emailshare/{path}", headers=headers)
    assert (response.status_code, response.content) == (401, AUTHENTICATION_FAILURE)
    assert response.headers["content-type"] == CONTENT_TYPE


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_other_methods_are_refused_after_the_key(client: httpx.Client, path: str) -> None:
    response = client.post(f"/__emailshare/{path}", headers={HEADER: KEY})
    assert (response.status_code, response.content) == (400, INVALID_REQUEST_METHOD)


# --- state ----------------------------------------------------------------------------------


def normalised(org: dict[str, Any]) -> dict[str, Any]:
    """A fixture org as the state dump shows it: defaults filled in, ids sorted, no secrets."""
    by_id = sorted

    def user(u: dict[str, Any]) -> dict[str, Any]:
        mailbox = u.get("mailbox")
        if mailbox is not None:
            mailbox = {
                "protocol": mailbox["protocol"],
                "address": mailbox.get("address", ""),
                "enabled": mailbox.get("enabled", True),
                "server": mailbox.get("server"),
            }
        return {
            "id": u["id"],
            "name": u["name"],
            "email": u.get("email", ""),
            "status": u.get("status", "active"),
            "profile": u.get("profile", "standard"),
            "role": u.get("role"),
            "mailbox": mailbox,
            "email_sharing": u.get("email_sharing", "private"),
        }

    def record(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "module": r["module"],
            "id": r["id"],
            "name": r.get("name", ""),
            "owner": r["owner"],
            "shared_with": by_id(r.get("shared_with", []), key=int),
            "emails_shared_by": by_id(r.get("emails_shared_by", []), key=int),
            "deleted": r.get("deleted", False),
            "emails": [],  # the email parts (tests/api/test_emails_state.py)
            "account": None,
            "contacts": [],
        }

    return {
        "id": org["id"],
        "name": org["name"],
        "data_sharing": org.get("data_sharing", {}),
        "custom_modules": org.get("custom_modules", []),
        "roles": [
            {"id": r["id"], "name": r["name"], "reports_to": r.get("reports_to")}
            for r in by_id(org.get("roles", []), key=lambda r: int(r["id"]))
        ],
        "users": [user(u) for u in by_id(org["users"], key=lambda u: int(u["id"]))],
        "records": [record(r) for r in by_id(org["records"], key=lambda r: int(r["id"]))],
        "emails": [],  # these orgs have none (tests/api/test_emails_paging.py shows some)
    }


def test_state_dumps_every_org_as_the_fixture_describes_it(client: httpx.Client) -> None:
    response = admin_get(client, "state")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    assert response.json() == {"orgs": [normalised(org) for org in DOC["orgs"]]}


def test_state_of_one_org_and_the_summary(client: httpx.Client) -> None:
    one = admin_get(client, "state", org=GLOBEX_ID).json()
    assert one == {"orgs": [normalised(DOC["orgs"][1])]}
    summary = admin_get(client, "state", summary="1").json()
    assert summary == {
        "orgs": [
            {"id": ACME_ID, "name": "Acme", "users": 9, "records": 8},
            {"id": GLOBEX_ID, "name": "Globex", "users": 1, "records": 1},
        ]
    }


@pytest.mark.parametrize("org", ["712463000000000001", "abc", "0"])
def test_state_of_an_unknown_or_malformed_org_is_invalid_data(
    client: httpx.Client, org: str
) -> None:
    response = admin_get(client, "state", org=org)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_DATA"
    assert response.json()["details"] == {"param_name": "org"}


def test_state_holds_no_token_or_client_material(client: httpx.Client) -> None:
    text = admin_get(client, "state").text
    for token in TOKENS.values():
        assert token not in text
    assert ACME_SECRET not in text
    assert "1000.ACMECLIENT" not in text
    assert "token" not in text


def test_a_state_dump_loads_back_unchanged(client: httpx.Client) -> None:
    """The dump is a fixture document: loaded back (with the tokens it leaves out), it dumps
    the same again."""
    before = admin_get(client, "state").json()
    reload = copy.deepcopy(before)
    for org, original in zip(reload["orgs"], DOC["orgs"], strict=True):
        org["tokens"] = original["tokens"]
        org["clients"] = original.get("clients", [])
    loaded = client.post("/__emailshare/load", content=json.dumps(reload), headers={HEADER: KEY})
    assert loaded.status_code == 200, loaded.text
    assert admin_get(client, "state").json() == before


# --- explain --------------------------------------------------------------------------------

PAIRS = [
    (user["id"], record["module"], record["id"])
    for org in DOC["orgs"]
    for user in org["users"]
    for rorg in DOC["orgs"]
    for record in rorg["records"]
]


def test_explain_answers_as_the_live_endpoint_for_every_caller_and_record(
    client: httpx.Client,
) -> None:
    """Every user of the fixture (including the inactive and deleted ones) on every record
    (including the other org's and a deleted one): explain's answer is the live one."""
    assert len(PAIRS) == 10 * 9
    for caller, module, record in PAIRS:
        live = details(client, caller, module, record)
        response = admin_get(client, "explain", caller=caller, module=module, record=record)
        assert response.status_code == 200, response.text
        answer = response.json()["answer"]
        explained = json.dumps(answer["body"], separators=(",", ":"), ensure_ascii=False)
        assert (answer["status"], explained.encode()) == (live.status_code, live.content), (
            caller,
            module,
            record,
        )


@pytest.mark.parametrize(
    ("module", "record"),
    [
        pytest.param("leads", LEAD_BY_CARLA, id="module-case-folded"),
        pytest.param("projects", "3652397000001790040", id="custom-module-case-folded"),
        pytest.param("Accounts", LEAD_BY_CARLA, id="record-in-another-module"),
        pytest.param("Tasks", LEAD_BY_CARLA, id="unsupported-module"),
        pytest.param("Nope", LEAD_BY_CARLA, id="invalid-module"),
        pytest.param("Leads", "abc", id="malformed-record-id"),
        pytest.param("Leads", "99999999999999999999", id="record-id-too-large"),
        pytest.param("Leads", "1", id="no-such-record"),
        pytest.param("Leads", DELETED_LEAD, id="deleted-record"),
    ],
)
def test_explain_answers_as_the_live_endpoint_for_odd_modules_and_ids(
    client: httpx.Client, module: str, record: str
) -> None:
    for caller in (WILL, ADA):
        live = details(client, caller, module, record)
        doc = admin_get(client, "explain", caller=caller, module=module, record=record).json()
        explained = json.dumps(doc["answer"]["body"], separators=(",", ":"), ensure_ascii=False)
        assert (doc["answer"]["status"], explained.encode()) == (live.status_code, live.content)


def test_explain_gives_the_read_rule_with_every_fact(client: httpx.Client) -> None:
    doc = admin_get(client, "explain", caller=WILL, module="Leads", record=LEAD_BY_CARLA).json()
    assert doc["org"] == {"id": ACME_ID, "name": "Acme"}
    assert doc["record"]["owner"] == {"id": "412463000000500002", "name": "Carla Custom"}
    read = doc["read"]
    assert (read["may_read"], read["rule"]) == (True, "record_shared_with_caller")
    assert [(f["rule"], f["holds"]) for f in read["facts"]] == [
        ("administrator", False),
        ("owner", False),
        ("superior_role", False),
        ("public_data_sharing", False),
        ("record_shared_with_caller", True),
    ]
    # Carla is a Sales Manager, who reports to the CEO; Will is a Sales Rep.
    assert [r["name"] for r in read["owner_role_chain"]] == ["Sales Manager", "CEO"]
    assert read["caller_role"]["name"] == "Sales Rep"
    assert [c["check"] for c in doc["checks"]] == [
        "caller_active",
        "module",
        "scopes",
        "record",
        "read",
    ]
    assert all(c["passed"] for c in doc["checks"])


def test_explain_gives_every_user_in_answer_order_with_the_rule(client: httpx.Client) -> None:
    doc = admin_get(client, "explain", caller=WILL, module="Leads", record=LEAD_BY_CARLA).json()
    rows = [
        (u["name"], u["included"], u["position"], u["decision"]) for u in doc["share_from_users"]
    ]
    assert rows == [
        ("Will Grandon", True, 1, "caller"),
        ("Ada Admin", False, None, "private_email_sharing"),
        ("boyle", True, 2, "public_email_sharing"),
        ("Carla Custom", True, 3, "custom_sharing_record_shared"),
        ("Dan Deleted", False, None, "user_not_active"),
        ("Dee Disabled", False, None, "mailbox_disabled"),
        ("Ian Inactive", False, None, "user_not_active"),
        ("Nora NoMailbox", False, None, "no_mailbox"),
        ("Pat Private", False, None, "private_email_sharing"),
    ]


def test_explain_when_the_caller_may_not_read(client: httpx.Client) -> None:
    doc = admin_get(client, "explain", caller=PAT, module="Leads", record=LEAD_BY_CARLA).json()
    assert (doc["read"]["may_read"], doc["read"]["rule"]) == (False, None)
    assert not any(f["holds"] for f in doc["read"]["facts"])
    assert doc["answer"]["status"] == 403
    assert doc["answer"]["body"]["code"] == "NO_PERMISSION"
    assert not any(u["included"] for u in doc["share_from_users"])
    # What the rules would say were the record readable stays visible.
    carla = next(u for u in doc["share_from_users"] if u["name"] == "Carla Custom")
    assert carla["decision"] == "custom_sharing_record_shared"
    assert carla["detail"].endswith("but the answer is an error")


def test_explain_finds_the_callers_org_and_the_records_module_itself(
    client: httpx.Client,
) -> None:
    named = admin_get(
        client, "explain", caller=WILL, module="Leads", record=LEAD_BY_CARLA, org=ACME_ID
    )
    found = admin_get(client, "explain", caller=WILL, record=LEAD_BY_CARLA)
    assert found.json() == named.json()


@pytest.mark.parametrize(
    ("params", "param_name"),
    [
        pytest.param({"record": LEAD_BY_CARLA}, "caller", id="no-caller"),
        pytest.param({"caller": "x", "record": LEAD_BY_CARLA}, "caller", id="bad-caller"),
        pytest.param({"caller": "42", "record": LEAD_BY_CARLA}, "caller", id="unknown-caller"),
        pytest.param({"caller": WILL}, "record", id="no-record"),
        pytest.param({"caller": WILL, "record": "1"}, "record", id="unknown-record-no-module"),
        pytest.param(
            {"caller": WILL, "record": LEAD_BY_CARLA, "org": GLOBEX_ID}, "caller", id="other-org"
        ),
        pytest.param(
            {"caller": WILL, "record": LEAD_BY_CARLA, "org": "42"}, "org", id="unknown-org"
        ),
        pytest.param(
            {"caller": WILL, "record": LEAD_BY_CARLA, "format": "xml"}, "format", id="format"
        ),
    ],
)
def test_explain_parameter_errors_name_the_parameter(
    client: httpx.Client, params: dict[str, str], param_name: str
) -> None:
    response = admin_get(client, "explain", **params)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_DATA"
    assert response.json()["details"] == {"param_name": param_name}


def test_explain_as_text(client: httpx.Client) -> None:
    live = details(client, WILL, "Leads", LEAD_BY_CARLA)
    response = admin_get(
        client, "explain", caller=WILL, module="Leads", record=LEAD_BY_CARLA, format="text"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == f"caller  Will Grandon ({WILL}), standard, active"
    assert "may read: yes, by rule record_shared_with_caller" in lines
    assert "answer  HTTP 200" in lines
    assert lines[lines.index("answer  HTTP 200") + 1] == "  " + live.text
    rows = [line.split()[:4] for line in lines if "custom_sharing_record_shared" in line]
    assert rows == [["3", "yes", "Carla", "Custom"]]


# --- requests -------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "10001", ""])
def test_requests_limit_is_checked(client: httpx.Client, limit: str) -> None:
    response = admin_get(client, "requests", limit=limit)
    assert response.status_code == 400
    assert response.json()["details"] == {"param_name": "limit"}


def _matches(entry: dict[str, Any], path: str) -> bool:
    return entry.get("method") == "GET" and str(entry.get("path", "")).split("?")[0] == path


def test_requests_show_the_last_requests_with_their_answers(client: httpx.Client) -> None:
    live = details(client, WILL, "Leads", LEAD_BY_CARLA)
    path = f"/crm/v8/Leads/{LEAD_BY_CARLA}/__emails_sharing_details"
    doc: dict[str, Any] = {}
    # The middleware may record a request just after its answer is sent: look a few times.
    for _ in range(50):
        doc = admin_get(client, "requests", limit="20").json()
        if any(_matches(e, path) for e in doc["requests"]):
            break
        time.sleep(0.05)
    assert isinstance(doc["pid"], int)
    assert len(doc["requests"]) <= 20
    matching = [e for e in doc["requests"] if _matches(e, path)]
    assert matching, "the details request is not in the request log"
    entry = matching[-1]
    assert set(entry) >= {"id", "time", "method", "path", "status", "duration_ms", "response_body"}
    assert entry["status"] == 200
    recorded = entry["response_body"]
    if isinstance(recorded, str):
        assert live.text.startswith(recorded[:40])
    else:
        assert recorded == live.json()
    one = admin_get(client, "requests", limit="1").json()
    assert len(one["requests"]) == 1


# --- the page's files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "media_type", "marker"),
    [
        ("ui/", "text/html; charset=utf-8", "<title>emailshare admin</title>"),
        ("ui/index.html", "text/html; charset=utf-8", "<title>emailshare admin</title>"),
        ("ui/app.js", "text/javascript; charset=utf-8", "X-Emailshare-Admin-Key"),
        ("ui/style.css", "text/css; charset=utf-8", ":root"),
    ],
)
def test_the_page_is_served_without_the_key(
    client: httpx.Client, path: str, media_type: str, marker: str
) -> None:
    response = client.get(f"/__emailshare/{path}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert marker in response.text


@pytest.mark.parametrize("path", ["ui/nope.js", "ui/web/app.js", "ui/app.js/x", "ui/index.htm"])
def test_the_page_serves_only_its_own_files(client: httpx.Client, path: str) -> None:
    response = client.get(f"/__emailshare/{path}")
    assert (response.status_code, response.content) == (404, INVALID_URL_PATTERN)


def test_the_page_without_its_slash_redirects_to_it(client: httpx.Client) -> None:
    response = client.get("/__emailshare/ui")
    assert (response.status_code, response.headers["location"]) == (308, "ui/")
    page = client.get("/__emailshare/ui", follow_redirects=True)
    assert (page.status_code, str(page.url)) == (200, f"{client.base_url}/__emailshare/ui/")


def test_the_page_takes_only_get(client: httpx.Client) -> None:
    response = client.post("/__emailshare/ui/app.js")
    assert (response.status_code, response.content) == (400, INVALID_REQUEST_METHOD)


def test_the_page_ships_in_the_package() -> None:
    from importlib import resources

    web = resources.files("emailshare.api").joinpath("web")
    names = {p.name for p in web.iterdir()}
    assert {"index.html", "app.js", "style.css"} <= names
