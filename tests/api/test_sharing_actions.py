"""docs/contract.md §8: share_emails / unshare_emails, single and bulk, over a real socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import auth, cli_token
from tests.conftest import ACME_FIXTURE, Served, open_client, serve

ADA = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
CARLA = "1000.0000000000000000000000000000a004.00000000000000000000000000000004"
NORA = "1000.0000000000000000000000000000a005.00000000000000000000000000000005"
WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
WILL_READ_ONLY = "1000.0000000000000000000000000000a008.00000000000000000000000000000008"
BOYLE = "1000.0000000000000000000000000000a002.00000000000000000000000000000002"
CARLA_ID = "412463000000500002"
PAT_LEAD = "3652397000001790011"
CARLA_LEAD = "3652397000001790010"
PROJECT = "3652397000001790040"
GLOBEX_LEAD = "5124630000001790001"

INVALID_PATH_ID = {
    "code": "INVALID_DATA",
    "details": {"resource_path_index": 1},
    "message": "the related id given seems to be invalid",
    "status": "error",
}


@pytest.fixture(scope="module")
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A server of our own: these tests change state."""
    server = serve(request, tmp_path_factory.mktemp("share"), fixture=ACME_FIXTURE)
    yield server
    server.stop()


@pytest.fixture
def client(srv: Served) -> Iterator[httpx.Client]:
    with open_client(srv, timeout=10) as c:
        yield c


def share(
    c: httpx.Client, token: str, module: str, rid: str, what: str = "share"
) -> httpx.Response:
    return c.post(f"/crm/v8/{module}/{rid}/actions/{what}_emails", headers=auth(token))


def bulk(
    c: httpx.Client, token: str, module: str, body: Any, what: str = "share"
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return c.post(f"/crm/v8/{module}/actions/{what}_emails", headers=auth(token), content=content)


def visible(c: httpx.Client, token: str, module: str, rid: str) -> list[str]:
    r = c.get(f"/crm/v8/{module}/{rid}/__emails_sharing_details", headers=auth(token))
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]]


def success(rid: str, message: str) -> dict[str, Any]:
    return {"code": "SUCCESS", "details": {"id": rid}, "message": message, "status": "success"}


def test_share_then_unshare_changes_what_others_see(client: httpx.Client) -> None:
    assert CARLA_ID not in visible(client, ADA, "Leads", PAT_LEAD)
    r = share(client, CARLA, "Leads", PAT_LEAD)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json;charset=UTF-8"
    assert (
        r.content
        == json.dumps(
            {"data": [success(PAT_LEAD, "Successfully shared")]}, separators=(",", ":")
        ).encode()
    )
    assert CARLA_ID in visible(client, ADA, "Leads", PAT_LEAD)
    r = share(client, CARLA, "Leads", PAT_LEAD, "unshare")
    assert r.status_code == 200
    assert r.json() == {"data": [success(PAT_LEAD, "Sharing revoked successfully")]}
    assert CARLA_ID not in visible(client, ADA, "Leads", PAT_LEAD)


def test_already_shared_and_not_shared(client: httpx.Client) -> None:
    r = share(client, CARLA, "Leads", CARLA_LEAD)  # the fixture has this share on already
    assert (r.status_code, r.json()) == (
        400,
        {
            "code": "ALREADY_SHARED",
            "details": {"id": CARLA_LEAD},
            "message": "Emails are already shared to the colleagues already",
            "status": "error",
        },
    )
    r = share(client, CARLA, "Leads", PAT_LEAD, "unshare")
    assert (r.status_code, r.json()) == (
        400,
        {
            "code": "NOT_SHARED",
            "details": {"id": PAT_LEAD},
            "message": "Emails are not  shared to the colleagues already",
            "status": "error",
        },
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (WILL, "User did not enable custom sharing"),
        (NORA, "Email Configuration does not exist"),
    ],
)
def test_caller_not_allowed(client: httpx.Client, token: str, message: str) -> None:
    r = share(client, token, "Contacts", "3652397000001790020")
    assert (r.status_code, r.json()) == (
        400,
        {"code": "NOT_ALLOWED", "details": {}, "message": message, "status": "error"},
    )


@pytest.mark.parametrize(
    "rid", ["abc", "0", "-5", "99999999999999999999", GLOBEX_LEAD, "3652397000001790004", "1"]
)
def test_bad_path_ids_are_invalid_data(client: httpx.Client, rid: str) -> None:
    r = share(client, CARLA, "Leads", rid)
    assert (r.status_code, r.json()) == (400, INVALID_PATH_ID)


def test_record_the_caller_cannot_read_is_403(client: httpx.Client) -> None:
    r = share(client, BOYLE, "Leads", PAT_LEAD)
    assert (r.status_code, r.json()) == (
        403,
        {
            "code": "NO_PERMISSION",
            "details": {"permissions": ["Crm_Implied_View_Emails"]},
            "message": "permission denied",
            "status": "error",
        },
    )


@pytest.mark.parametrize(
    ("module", "code"),
    [
        ("Accounts", "NOT_SUPPORTED"),
        ("Deals", "NOT_SUPPORTED"),
        ("Tasks", "NOT_SUPPORTED"),
        ("Nope", "INVALID_MODULE"),
    ],
)
def test_modules_that_do_not_take_email_shares(
    client: httpx.Client, module: str, code: str
) -> None:
    r = share(client, CARLA, module, "3652397000001790004")
    assert r.status_code == 400
    assert r.json()["code"] == code
    assert r.json()["details"] == {"resource_path_index": 0}


def test_custom_module_and_case_insensitive_names(client: httpx.Client) -> None:
    assert share(client, CARLA, "projects", PROJECT, "unshare").status_code == 200
    assert CARLA_ID not in visible(client, ADA, "Projects", PROJECT)
    assert share(client, CARLA, "PROJECTS", PROJECT).status_code == 200
    assert CARLA_ID in visible(client, ADA, "Projects", PROJECT)


def test_scope_needed_to_share(client: httpx.Client, srv: Served) -> None:
    r = share(client, WILL_READ_ONLY, "Leads", PAT_LEAD)
    assert (r.status_code, r.json()["code"]) == (401, "OAUTH_SCOPE_MISMATCH")
    for scope, status in [
        ("ZohoCRM.modules.leads.CREATE", 200),
        ("zohocrm.modules.leads.all", 200),
        ("ZohoCRM.modules.contacts.ALL", 401),
        ("ZohoCRM.modules.READ", 401),
    ]:
        token = cli_token(srv.db_url, CARLA_ID, scope)
        r = share(client, token, "Leads", PAT_LEAD)
        assert r.status_code == status, (scope, r.text)
        if status == 200:
            assert share(client, token, "Leads", PAT_LEAD, "unshare").status_code == 200


@pytest.mark.parametrize(
    ("method", "version", "status", "code"),
    [
        ("GET", "v8", 400, "INVALID_REQUEST_METHOD"),
        ("PUT", "v8", 400, "INVALID_REQUEST_METHOD"),
        ("POST", "v7", 400, "API_NOT_SUPPORTED"),
        ("POST", "v4", 400, "API_NOT_SUPPORTED"),
        ("POST", "v9", 404, "INVALID_URL_PATTERN"),
    ],
)
def test_method_and_version(
    client: httpx.Client, method: str, version: str, status: int, code: str
) -> None:
    r = client.request(
        method, f"/crm/{version}/Leads/{PAT_LEAD}/actions/share_emails", headers=auth(CARLA)
    )
    assert (r.status_code, r.json()["code"]) == (status, code)
    if code == "API_NOT_SUPPORTED":
        assert r.json()["details"] == {"supported_version": 8}


def test_unknown_action_is_unknown_path(client: httpx.Client) -> None:
    r = client.post(f"/crm/v8/Leads/{PAT_LEAD}/actions/forward_emails", headers=auth(CARLA))
    assert (r.status_code, r.json()["code"]) == (404, "INVALID_URL_PATTERN")


def test_no_token(client: httpx.Client) -> None:
    r = client.post(f"/crm/v8/Leads/{PAT_LEAD}/actions/share_emails")
    assert (r.status_code, r.json()["code"]) == (401, "AUTHENTICATION_FAILURE")


def test_single_ignores_any_body(client: httpx.Client) -> None:
    r = client.post(
        f"/crm/v8/Leads/{PAT_LEAD}/actions/share_emails",
        headers=auth(CARLA),
        content=b"\xff\x00 not json at all",
    )
    assert r.status_code == 200
    assert share(client, CARLA, "Leads", PAT_LEAD, "unshare").status_code == 200


# --- bulk ---------------------------------------------------------------------------------


def test_bulk_all_succeed_then_partial_then_none(client: httpx.Client) -> None:
    ids = [PAT_LEAD, "3652397000001790020"]
    r = bulk(client, CARLA, "Leads", {"ids": [PAT_LEAD]})
    assert (r.status_code, r.json()) == (200, {"data": [success(PAT_LEAD, "Successfully shared")]})
    r = bulk(client, CARLA, "Leads", {"ids": [PAT_LEAD, "12345", "x1", PAT_LEAD]}, what="unshare")
    assert r.status_code == 207
    assert r.json() == {
        "data": [
            success(PAT_LEAD, "Sharing revoked successfully"),
            {
                "code": "INVALID_DATA",
                "details": {"id": "12345"},
                "message": "The id given seems to be invalid",
                "status": "error",
            },
            {
                "code": "INVALID_DATA",
                "details": {"id": "x1"},
                "message": "The id given seems to be invalid",
                "status": "error",
            },
            {
                "code": "DUPLICATE_DATA",
                "details": {"id": PAT_LEAD},
                "message": "Duplicate Data",
                "status": "error",
            },
        ]
    }
    r = bulk(client, CARLA, "Leads", {"ids": ids}, what="unshare")
    assert r.status_code == 400
    assert [e["code"] for e in r.json()["data"]] == ["NOT_SHARED", "INVALID_DATA"]


def test_bulk_entries_for_records_not_readable(client: httpx.Client) -> None:
    r = bulk(client, BOYLE, "Leads", {"ids": [PAT_LEAD, GLOBEX_LEAD]})
    assert r.status_code == 400
    data = r.json()["data"]
    assert data[0] == {
        "code": "NO_PERMISSION",
        "details": {"permissions": ["Crm_Implied_View_Emails"]},
        "message": "permission denied",
        "status": "error",
    }
    assert data[1]["code"] == "INVALID_DATA"  # another org's record is simply invalid


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"id": ["1"]}, [], {"ids": "1"}, {"ids": None}])
def test_bulk_without_ids(client: httpx.Client, body: Any) -> None:
    r = bulk(client, CARLA, "Leads", body)
    assert (r.status_code, r.json()) == (
        400,
        {
            "code": "MANDATORY_NOT_FOUND",
            "details": {"api_name": "ids"},
            "message": "expected key is missing",
            "status": "error",
        },
    )


def test_bulk_limits(client: httpx.Client) -> None:
    r = bulk(client, CARLA, "Leads", {"ids": [str(10**12 + i) for i in range(201)]})
    assert (r.status_code, r.json()["code"]) == (400, "LIMIT_EXCEEDED")
    r = bulk(client, CARLA, "Leads", {"ids": [str(10**12 + i) for i in range(200)]})
    assert r.status_code == 400
    assert len(r.json()["data"]) == 200
    r = bulk(client, CARLA, "Leads", b'{"ids":["' + b"1" * 200_000 + b'"]}')
    assert (r.status_code, r.json()["code"]) == (400, "LIMIT_EXCEEDED")


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"\xff\xfe", b"[" * 10_000 + b"]" * 10_000, b'{"ids": [NaN]}']
)
def test_bulk_bad_json(client: httpx.Client, raw: bytes) -> None:
    r = bulk(client, CARLA, "Leads", raw)
    assert r.status_code == 400
    assert r.json()["code"] == "INVALID_DATA"
    assert r.json()["status"] == "error"


def test_bulk_errors_for_the_caller_are_entries(client: httpx.Client) -> None:
    r = bulk(client, WILL, "Leads", {"ids": [CARLA_LEAD]})
    assert (r.status_code, r.json()) == (
        400,
        {
            "data": [
                {
                    "code": "NOT_ALLOWED",
                    "details": {},
                    "message": "User did not enable custom sharing",
                    "status": "error",
                }
            ]
        },
    )


def test_stored_data_survives_bad_requests(client: httpx.Client, tmp_path: Path) -> None:
    before = visible(client, ADA, "Leads", CARLA_LEAD)
    for raw in [b"{", b'{"ids":[' + b'"1",' * 300 + b'"1"]}', b"\x00" * 100]:
        bulk(client, CARLA, "Leads", raw)
    assert visible(client, ADA, "Leads", CARLA_LEAD) == before
