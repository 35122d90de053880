"""The client against a real emailshare server: answers, share/unshare, errors (sync and async)."""

from __future__ import annotations

import pytest

from emailshare.client import ActionResult, ShareFromUser, SharingDetails, ZohoAPIError
from emailshare.testing import ServerProcess
from tests.builders import ACME_ID
from tests.client.conftest import (
    ADA,
    BOYLE,
    BOYLE_ID,
    CARLA,
    CARLA_ID,
    CARLA_LEAD,
    PAT_LEAD,
    PROJECT,
    SEED_RECORD,
    WILL,
    WILL_EXPIRED,
    WILL_ID,
    Make,
)

SEED_ANSWER = SharingDetails(
    available_types=[
        "emails_sent_from_crm",
        "all_contacts_emails",
        "all_imap_shared_users",
        "all_emails",
    ],
    share_from_users=[
        ShareFromUser(id=WILL_ID, name="Will Grandon", type="pop"),
        ShareFromUser(id=BOYLE_ID, name="boyle", type="imap"),
    ],
)


def test_sharing_details_reads_the_contract_sample(es: ServerProcess, make: Make) -> None:
    api = make(api_domain=es.url, access_token=WILL)
    assert api.sharing_details("Accounts", SEED_RECORD) == SEED_ANSWER
    assert api.sharing_details("accounts", int(SEED_RECORD)) == SEED_ANSWER


def test_current_user_and_org(es: ServerProcess, make: Make) -> None:
    api = make(api_domain=es.url + "/", access_token=WILL)
    me = api.current_user()
    assert (me.id, me.full_name, me.email, me.status) == (
        WILL_ID,
        "Will Grandon",
        "will@acme.test",
        "active",
    )
    org = api.org()
    assert (org.id, org.company_name, org.zgid) == (ACME_ID, "Acme", ACME_ID)
    assert org.raw["primary_email"] == "will@acme.test"


def _error(exc: pytest.ExceptionInfo[ZohoAPIError]) -> tuple[int, str, str, dict[str, object]]:
    e = exc.value
    return e.status, e.code, e.message, e.details


@pytest.mark.parametrize(
    ("token", "module", "record", "expected"),
    [
        (
            WILL,
            "Tasks",
            SEED_RECORD,
            (
                400,
                "NOT_SUPPORTED",
                "the given module is not supported in api",
                {"resource_path_index": 0},
            ),
        ),
        (
            WILL,
            "Nope",
            SEED_RECORD,
            (
                400,
                "INVALID_MODULE",
                "the module name given seems to be invalid",
                {"resource_path_index": 0},
            ),
        ),
        (
            WILL,
            "Leads",
            "12x",
            (
                400,
                "INVALID_DATA",
                "the related id given seems to be invalid",
                {"resource_path_index": 1},
            ),
        ),
        (
            WILL,
            "Leads",
            PAT_LEAD,
            (
                403,
                "NO_PERMISSION",
                "permission denied",
                {"permissions": ["Crm_Implied_View_Emails"]},
            ),
        ),
        (WILL_EXPIRED, "Accounts", SEED_RECORD, (401, "INVALID_TOKEN", "invalid oauth token", {})),
    ],
)
def test_errors_are_raised_typed_and_verbatim(
    es: ServerProcess,
    make: Make,
    token: str,
    module: str,
    record: str,
    expected: tuple[int, str, str, dict[str, object]],
) -> None:
    api = make(api_domain=es.url, access_token=token, sleeps=[])
    with pytest.raises(ZohoAPIError) as exc:
        api.sharing_details(module, record)
    assert _error(exc) == expected
    assert exc.value.attempts == 1  # a 4xx is never retried; no credentials, no refresh
    assert not exc.value.uncertain_retry


def test_scope_mismatch_on_users(es: ServerProcess, make: Make) -> None:
    api = make(api_domain=es.url, access_token=BOYLE)
    with pytest.raises(ZohoAPIError) as exc:
        api.current_user()
    assert _error(exc) == (
        401,
        "OAUTH_SCOPE_MISMATCH",
        "invalid oauth scope to access this URL",
        {},
    )


def _visible(es: ServerProcess, make: Make, record: str) -> list[str]:
    admin = make(api_domain=es.url, access_token=ADA)
    return [u.id for u in admin.sharing_details("Leads", record).share_from_users]


def test_share_and_unshare_round_trip(es: ServerProcess, make: Make) -> None:
    carla = make(api_domain=es.url, access_token=CARLA)
    assert CARLA_ID not in _visible(es, make, PAT_LEAD)

    shared = carla.share_emails("Leads", PAT_LEAD)
    assert shared == ActionResult(
        id=PAT_LEAD,
        status="success",
        code="SUCCESS",
        message="Successfully shared",
        details={"id": PAT_LEAD},
    )
    assert shared.ok
    assert shared.in_effect
    assert CARLA_ID in _visible(es, make, PAT_LEAD)

    with pytest.raises(ZohoAPIError) as exc:
        carla.share_emails("Leads", PAT_LEAD)
    assert _error(exc) == (
        400,
        "ALREADY_SHARED",
        "Emails are already shared to the colleagues already",
        {"id": PAT_LEAD},
    )

    revoked = carla.unshare_emails("Leads", PAT_LEAD)
    assert (revoked.code, revoked.message) == ("SUCCESS", "Sharing revoked successfully")
    assert CARLA_ID not in _visible(es, make, PAT_LEAD)

    with pytest.raises(ZohoAPIError) as exc:
        carla.unshare_emails("Leads", PAT_LEAD)
    assert exc.value.code == "NOT_SHARED"


def test_share_refused_for_a_user_without_custom_sharing(es: ServerProcess, make: Make) -> None:
    will = make(api_domain=es.url, access_token=WILL)
    with pytest.raises(ZohoAPIError) as exc:
        will.share_emails("Leads", CARLA_LEAD)
    assert _error(exc) == (400, "NOT_ALLOWED", "User did not enable custom sharing", {})


def test_bulk_keeps_every_entry_and_never_raises_for_them(es: ServerProcess, make: Make) -> None:
    carla = make(api_domain=es.url, access_token=CARLA)
    # Carla's lead is shared already (fixture); Pat's lead is not: HTTP 207.
    results = carla.share_emails_bulk("Leads", [PAT_LEAD, int(CARLA_LEAD), "1"])
    assert [(r.id, r.code) for r in results] == [
        (PAT_LEAD, "SUCCESS"),
        (CARLA_LEAD, "ALREADY_SHARED"),
        ("1", "INVALID_DATA"),
    ]
    assert [r.ok for r in results] == [True, False, False]
    assert [r.in_effect for r in results] == [True, True, False]

    # Nothing succeeds (HTTP 400 with data entries): still entries, not an exception.
    again = carla.share_emails_bulk("Leads", [PAT_LEAD, CARLA_LEAD])
    assert [r.code for r in again] == ["ALREADY_SHARED", "ALREADY_SHARED"]

    undone = carla.unshare_emails_bulk("Leads", [PAT_LEAD])
    assert [(r.id, r.code, r.message) for r in undone] == [
        (PAT_LEAD, "SUCCESS", "Sharing revoked successfully")
    ]


def test_bulk_request_level_errors_raise(es: ServerProcess, make: Make) -> None:
    carla = make(api_domain=es.url, access_token=CARLA)
    with pytest.raises(ZohoAPIError) as exc:
        carla.share_emails_bulk("Projects", [])
    assert _error(exc) == (
        400,
        "MANDATORY_NOT_FOUND",
        "expected key is missing",
        {"api_name": "ids"},
    )
    with pytest.raises(ZohoAPIError) as exc:
        carla.share_emails_bulk("Accounts", [PROJECT])
    assert exc.value.code == "NOT_SUPPORTED"
