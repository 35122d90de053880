"""The errors of the emails calls (docs/contract.md §§3, 12.1, 12.2, 12.5, 12.6): every check in
order, every bad parameter, and hostile values answered with Zoho's error, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import conftest
from tests.api.emails_fixture import CONTENT_TYPE, ORG, RECORDS, token
from tests.api.test_emails_answers import LEAD, ordered

ACME_USER = "412463000001213019"  # a user of another org (tests/data/acme.json)


@pytest.fixture(scope="module")
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp("emails-errors")
    both = {"orgs": [*conftest.acme()["orgs"], ORG]}
    server = conftest.serve(request, tmp, fixture=both)
    try:
        with conftest.open_client(server, timeout=30.0) as c:
            yield c
    finally:
        server.stop()


def error(code: str, details: dict[str, Any], message: str) -> dict[str, Any]:
    return {"code": code, "details": details, "message": message, "status": "error"}


def param(name: str) -> dict[str, Any]:
    return error("INVALID_DATA", {"param_name": name}, "invalid data")


NO_PERMISSION = error(
    "NO_PERMISSION", {"permissions": ["Crm_Implied_View_Emails"]}, "permission denied"
)
BAD_MESSAGE = error(
    "INVALID_DATA", {"resource_path_index": 3}, "Invalid message id has been provided"
)
NOT_IN_MAILBOX = error(
    "NO_PERMISSION",
    {},
    "Do not have any email with this message id in user configured email account",
)
COLLEAGUE = error(
    "NO_PERMISSION",
    {},
    "Your colleague has not provided viewing permissions for the email messages related to this"
    " record.",
)
URL = error("INVALID_URL_PATTERN", {}, "Please check if the URL trying to access is a correct one")


def call(
    client: httpx.Client, path: str, who: str | None = "Bob", method: str = "GET", **params: str
) -> httpx.Response:
    headers = {"Authorization": f"Zoho-oauthtoken {token(who)}"} if who else {}
    return client.request(method, path, params=params, headers=headers)


def check(response: httpx.Response, status: int, body: dict[str, Any]) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    assert json.loads(response.content, object_pairs_hook=list) == ordered(body)


LIST = f"/crm/v8/Leads/{LEAD}/Emails"
ONE = f"/crm/v8/Leads/{LEAD}/Emails/m1bob"


@pytest.mark.parametrize("path", [LIST, ONE])
def test_checks_in_order(client: httpx.Client, path: str) -> None:
    check(
        call(client, path, method="POST"),
        400,
        error("INVALID_REQUEST_METHOD", {}, "The http request method type is not a valid one"),
    )
    check(
        call(client, path.replace("v8", "v3"), method="GET"),
        400,
        error(
            "API_NOT_SUPPORTED",
            {"supported_version": 4},
            "the api is not supported in this version",
        ),
    )
    check(call(client, path.replace("v8", "v9")), 404, URL)
    check(
        call(client, path, who=None),
        401,
        error("AUTHENTICATION_FAILURE", {}, "Authentication failed"),
    )
    check(
        call(client, path.replace("Leads", "Nope")),
        400,
        error(
            "INVALID_MODULE",
            {"resource_path_index": 0},
            "the module name given seems to be invalid",
        ),
    )
    check(
        call(client, path.replace("Leads", "Tasks")),
        400,
        error(
            "NOT_SUPPORTED", {"resource_path_index": 0}, "the given module is not supported in api"
        ),
    )
    scoped = client.get(
        path, headers={"Authorization": "Zoho-oauthtoken 1000." + f"{9:032x}." + "e" * 32}
    )
    check(scoped, 401, error("OAUTH_SCOPE_MISMATCH", {}, "invalid oauth scope to access this URL"))
    for bad in ("0", "x1", "99999999999999999999", RECORDS["Customer Inc"]["id"]):
        check(
            call(client, path.replace(LEAD, bad)),
            400,
            error(
                "INVALID_DATA",
                {"resource_path_index": 1},
                "the related id given seems to be invalid",
            ),
        )


def test_bad_parameters(client: httpx.Client) -> None:
    for bad in (
        "",
        "all_emails",
        "emails_sent_from_crm",
        "all_contacts_sent_crm_emails",
        "USER_EMAILS",
    ):
        check(call(client, LIST, type=bad), 400, param("type"))
        check(call(client, ONE, type=bad), 400, param("type"))
    for bad in ("x", "0", "-1", ACME_USER, "9" * 19):
        check(call(client, LIST, type="user_emails", owner_id=bad), 400, param("owner_id"))
        check(call(client, ONE, owner_id=bad), 400, param("owner_id"))
        check(call(client, ONE, user_id=bad), 400, param("user_id"))
    for bad in ("1", "zz", "00" * 40, "A" * 60):
        check(call(client, LIST, index=bad), 400, param("index"))
    # filter is deprecated: accepted and ignored.
    assert call(client, LIST, filter='{"comparator":"equal"}').status_code == 200


def test_foreign_and_stale_index(client: httpx.Client) -> None:
    carol = "900000000000001003"
    first = call(client, LIST, who="Alice", type="user_emails")
    assert first.status_code == 200
    # A token of the right shape that this server did not sign (tests/api/test_emails_paging
    # shows real tokens refused for another caller, record, type or owner).
    forged = "00" * 8 + "6d31626f62" + "ab" * 16
    for who, params in [
        ("Alice", {"type": "user_emails"}),
        ("Bob", {}),
        ("Bob", {"owner_id": carol}),
    ]:
        check(call(client, LIST, who=who, index=forged, **params), 400, param("index"))


def test_message_errors(client: httpx.Client) -> None:
    # Not an email of this record: another record's, unknown, another org's id space.
    for mid in ("c4bobc2", "nosuchmessage", "m5bobc1"):
        check(call(client, f"/crm/v8/Leads/{LEAD}/Emails/{mid}"), 400, BAD_MESSAGE)
    # A mailbox email of another owner than asked for (default: the caller).
    check(call(client, f"/crm/v8/Leads/{LEAD}/Emails/m2carol"), 403, NOT_IN_MAILBOX)
    # Asked for as Dan's, whose sharing is private: a colleague not in S.
    check(
        call(client, f"/crm/v8/Leads/{LEAD}/Emails/m3dan", owner_id="900000000000001004"),
        403,
        COLLEAGUE,
    )
    # A CRM email hidden by Emails = private.
    check(call(client, f"/crm/v8/Leads/{LEAD}/Emails/c1dansent"), 403, NO_PERMISSION)
    # Eve, without a mailbox, opening her "own" mailbox email: none there.
    check(call(client, f"/crm/v8/Leads/{LEAD}/Emails/m1bob", who="Eve"), 403, NOT_IN_MAILBOX)
    for bad in ("a-b", "a.b", "x" * 201, "%C3%A9"):
        check(call(client, f"/crm/v8/Leads/{LEAD}/Emails/{bad}"), 404, URL)


def test_long_values_are_zoho_errors(client: httpx.Client) -> None:
    long = "a" * 10_000
    for params in ({"type": long}, {"owner_id": long}, {"index": long}, {"filter": long}):
        response = call(client, LIST, **params)
        assert response.status_code == 400
        assert response.json()["code"] == "LIMIT_EXCEEDED"
    response = call(client, f"/crm/v8/Leads/{LEAD}/Emails/{long}")
    assert response.status_code == 400
    assert response.json()["code"] == "LIMIT_EXCEEDED"
    mid = "a" * 1_000
    check(call(client, f"/crm/v8/Leads/{LEAD}/Emails/{mid}"), 404, URL)
    check(call(client, LIST, owner_id="9" * 1_000, type="user_emails"), 400, param("owner_id"))
    check(call(client, LIST, index="ab" * 1_000), 400, param("index"))


def test_other_orgs_caller_sees_nothing_of_this_org(client: httpx.Client) -> None:
    acme_token = conftest.acme()["orgs"][0]["tokens"][0]["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {acme_token}"}
    response = client.get(LIST, headers=headers)
    check(
        response,
        400,
        error(
            "INVALID_DATA", {"resource_path_index": 1}, "the related id given seems to be invalid"
        ),
    )
