"""The shapes and spellings Zoho's own documents disagree on, served by a fake Zoho."""

from __future__ import annotations

from typing import Any

import pytest

from emailshare.client import (
    Client,
    ShareFromUser,
    SharingDetails,
    UnexpectedResponseError,
    ZohoAPIError,
)
from tests.client.conftest import Make
from tests.client.fake_zoho import FakeZoho, Scripted

DETAILS = "/crm/v8/Leads/1/__emails_sharing_details"
TOKEN = "1000.0000000000000000000000000000f001.0000000000000000000000000000f001"
BIG_ID = 412463000001213019  # above 2**53: a float would lose it

WILL = ShareFromUser(id=str(BIG_ID), name="Will Grandon", type="pop")


def serve_details(make: Make, fake: FakeZoho, answer: Scripted) -> SharingDetails:
    fake.on("GET", DETAILS, answer)
    return make(api_domain=fake.url, access_token=TOKEN).sharing_details("Leads", 1)


@pytest.mark.parametrize(
    "body",
    [
        # the API and both SDKs: an array of one object, ids as strings
        {
            "__emails_sharing_details": [
                {
                    "available_types": ["all_emails"],
                    "share_from_users": [
                        {"id": str(BIG_ID), "name": "Will Grandon", "_type": "pop"}
                    ],
                }
            ]
        },
        # the documentation page: a bare object
        {
            "__emails_sharing_details": {
                "available_types": ["all_emails"],
                "share_from_users": [{"id": str(BIG_ID), "name": "Will Grandon", "_type": "pop"}],
            }
        },
        # the 3.1 OpenAPI file: shared_from_users; and ids as JSON numbers, `type` for `_type`
        {
            "__emails_sharing_details": [
                {
                    "available_types": ["all_emails"],
                    "shared_from_users": [{"id": BIG_ID, "name": "Will Grandon", "type": "pop"}],
                }
            ]
        },
    ],
    ids=["array", "bare-object", "shared_from_users-numbers"],
)
def test_every_documented_shape_reads_the_same(make: Make, fake: FakeZoho, body: Any) -> None:
    assert serve_details(make, fake, Scripted(200, body)) == SharingDetails(
        available_types=["all_emails"], share_from_users=[WILL]
    )


def test_no_content_means_nothing_shared(make: Make, fake: FakeZoho) -> None:
    assert serve_details(make, fake, Scripted(204)) == SharingDetails([], [])


def test_null_users_read_as_none(make: Make, fake: FakeZoho) -> None:
    body = {
        "__emails_sharing_details": [{"available_types": ["all_emails"], "share_from_users": None}]
    }
    assert serve_details(make, fake, Scripted(200, body)).share_from_users == []


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"__emails_sharing_details": []},
        {"__emails_sharing_details": [{"share_from_users": [{"id": 1.5, "name": "x"}]}]},
        b"not json",
    ],
)
def test_other_bodies_are_unexpected(make: Make, fake: FakeZoho, body: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as exc:
        serve_details(make, fake, Scripted(200, body))
    assert exc.value.status == 200


def test_an_error_body_under_200_is_an_error(make: Make, fake: FakeZoho) -> None:
    # The official SDKs decide from the body, not the status; so does this client.
    body = {"code": "INVALID_DATA", "details": {}, "message": "bad", "status": "error"}
    with pytest.raises(ZohoAPIError) as exc:
        serve_details(make, fake, Scripted(200, body))
    assert (exc.value.status, exc.value.code) == (200, "INVALID_DATA")


def test_single_share_error_wrapped_in_data(make: Make, fake: FakeZoho) -> None:
    # record_share_email.json wraps the single-record ALREADY_SHARED in "data".
    entry = {
        "code": "ALREADY_SHARED",
        "details": {"id": 1},
        "message": "Emails are already shared to the colleagues already",
        "status": "error",
    }
    fake.on("POST", "/crm/v8/Leads/1/actions/share_emails", Scripted(400, {"data": [entry]}))
    with pytest.raises(ZohoAPIError) as exc:
        make(api_domain=fake.url, access_token=TOKEN).share_emails("Leads", "1")
    assert (exc.value.code, exc.value.details) == ("ALREADY_SHARED", {"id": 1})


def test_bulk_entries_without_ids_take_the_request_ids(make: Make, fake: FakeZoho) -> None:
    entries = [
        {"code": "SUCCESS", "message": "Successfully shared", "status": "success"},
        {
            "code": "SUCCESS",
            "details": {"id": 22},
            "message": "Successfully shared",
            "status": "success",
        },
    ]
    fake.on("POST", "/crm/v8/Leads/actions/share_emails", Scripted(200, {"data": entries}))
    results = make(api_domain=fake.url, access_token=TOKEN).share_emails_bulk("Leads", [11, "22"])
    assert [r.id for r in results] == ["11", "22"]


def test_users_and_org_with_numeric_ids_and_bare_org(make: Make, fake: FakeZoho) -> None:
    fake.on(
        "GET",
        "/crm/v8/users",
        Scripted(
            200, {"users": [{"id": BIG_ID, "full_name": "W", "email": "w@x", "status": "active"}]}
        ),
    )
    fake.on(
        "GET", "/crm/v8/org", Scripted(200, {"org": {"id": 7, "company_name": "X", "zgid": 70}})
    )
    api = make(api_domain=fake.url, access_token=TOKEN)
    assert api.current_user().id == str(BIG_ID)
    assert fake.requests("GET", "/crm/v8/users")[0].query == {"type": ["CurrentUser"]}
    org = api.org()
    assert (org.id, org.zgid) == ("7", "70")


def test_version_and_path_segments(fake: FakeZoho) -> None:
    fake.on("GET", "/crm/v7/Sales_Orders/9/__emails_sharing_details", Scripted(204))
    with Client(api_domain=fake.url, access_token=TOKEN, version="v7") as api:
        api.sharing_details("Sales_Orders", 9)
        with pytest.raises(ZohoAPIError) as exc:
            api.sharing_details("a/b", "1")  # quoted: one segment, so no route
    assert exc.value.status == 404
    assert fake.seen[-1].path == "/crm/v7/a%2Fb/1/__emails_sharing_details"
    assert fake.seen[0].headers["authorization"] == f"Zoho-oauthtoken {TOKEN}"
