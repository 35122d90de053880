"""Zoho's ``email_related_records.json`` against docs/contract.md §12: the patch list of
``zoho_oas_emails`` is explicit, applies to today's file, and every relaxing entry is needed.

Each relaxing entry has a *witness*: an answer (or request) that docs/contract.md §12 says is
correct. The witness must pass the patched file and fail the patched file without that one
entry, checked by schemathesis' own ``response_schema_conformance`` (so with the same reading of
OpenAPI 3.0 as the runs against the server). The witnesses are the contract's samples of §§12.4
and 12.5, and the error bodies of §§2 and 7, as the server sends them.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks

from tests.conformance import zoho_oas, zoho_oas_emails
from tests.conformance.checks import validate
from tests.conformance.zoho_oas_emails import PATCHES, Edit

LOCATION = zoho_oas.locate()
pytestmark = pytest.mark.skipif(LOCATION.skip_reason is not None, reason=LOCATION.skip_reason or "")
BASE = "http://127.0.0.1:1"
CONTENT_TYPE = "application/json;charset=UTF-8"

# docs/contract.md §12.4, the list sample, as sent.
LIST_SAMPLE: dict[str, Any] = json.loads(
    '{"Emails":[{"cc":null,"has_thread_attachment":false,"summary":null,"owner":{"name":'
    '"Patricia Boyle","id":"2313985000000470001"},"read":true,"subject":"test with attachment",'
    '"message_id":"f1605986931c500d26ac22b396077e87736b40ac35a094851466f1918966b2e703ad757140074'
    'c63cd7cc78b5140ed45","has_attachment":false,"source":"individual","sent":true,"intent":null,'
    '"sentiment_info":null,"linked_record":null,"related_to_record":null,"emotion":null,"from":'
    '{"user_name":"Patricia Boyle","email":"p.boyle@abc.com"},"to":[{"user_name":"John Smith",'
    '"email":"smith.j@gmail.com"}],"time":"2023-12-06T11:55:16+05:30","status":[{"type":"sent"}]}'
    '],"info":{"per_page":10,"next_index":null,"count":1,"prev_index":"0","more_records":false}}'
)
# docs/contract.md §12.5, the one-email sample, as sent.
ONE_SAMPLE: dict[str, Any] = json.loads(
    '{"Emails":[{"attachments":[{"size":"24792","name":"email_templates.png","id":'
    '"72daf06349c51ce66"}],"subject":"test with attachment","editable":false,"mail_format":'
    '"html","intent":"purchase","content":"<div>test with attachment</div>","sentiment_info":'
    '"positive","sent_time":"2022-12-06T04:51:14+05:30","thread_id":"12343212343","emotion":'
    '"gratitude","reply_to":{"user_name":null,"email":""},"from":{"user_name":"Patricia Boyle",'
    '"email":"p.boyle@abc.com"},"to":[{"user_name":"John Smith","email":"smith.j@gmail.com"}],'
    '"status":[{"type":"sent"}]}]}'
)
ONE_WITHOUT_ATTACHMENTS = {"Emails": [{**ONE_SAMPLE["Emails"][0], "attachments": None}]}
ONE_WITHOUT_THREAD = {"Emails": [{**ONE_SAMPLE["Emails"][0], "thread_id": None}]}
NOT_SUPPORTED = {
    "code": "NOT_SUPPORTED",
    "details": {"resource_path_index": 0},
    "message": "the given module is not supported in api",
    "status": "error",
}
BAD_METHOD = {
    "code": "INVALID_REQUEST_METHOD",
    "details": {},
    "message": "The http request method type is not a valid one",
    "status": "error",
}


@dataclass(frozen=True)
class Witness:
    """A contract-correct answer to one operation."""

    name: str
    one_email: bool
    status: int
    body: Any


LIST_OK = Witness("§12.4 list sample", False, 200, LIST_SAMPLE)
ONE_OK = Witness("§12.5 one-email sample", True, 200, ONE_SAMPLE)
ONE_NO_ATTACHMENTS = Witness("§12.5 with no attachments", True, 200, ONE_WITHOUT_ATTACHMENTS)
ONE_NO_THREAD = Witness("§12.5 with no thread", True, 200, ONE_WITHOUT_THREAD)
MODULE_NOT_SUPPORTED = Witness("§2 NOT_SUPPORTED", False, 400, NOT_SUPPORTED)
METHOD = Witness("§7 INVALID_REQUEST_METHOD", False, 400, BAD_METHOD)
RESPONSE_WITNESSES = (
    LIST_OK,
    ONE_OK,
    ONE_NO_ATTACHMENTS,
    ONE_NO_THREAD,
    MODULE_NOT_SUPPORTED,
    METHOD,
)


def _entry(action: str, pointer_end: str, value: Any = None) -> Edit:
    found = [
        p
        for p in PATCHES
        if p.action == action
        and p.pointer.endswith(pointer_end)
        and (value is None or p.value == value)
    ]
    assert len(found) == 1, (action, pointer_end)
    return found[0]


# Which witness proves each relaxing entry necessary (every relaxing entry must be here).
NEEDED_BY: list[tuple[Edit, Witness]] = [
    (_entry("drop", "/email/required", ["activity_info"]), LIST_OK),
    (_entry("drop", "/email/required", list(zoho_oas_emails.ONE_EMAIL_LACKS)), ONE_OK),
    (_entry("drop", "/wrapper/required"), ONE_OK),
    (_entry("nullable", "/properties/cc"), LIST_OK),
    (_entry("nullable", "/properties/linked_record"), LIST_OK),
    (_entry("nullable", "/properties/attachments"), ONE_NO_ATTACHMENTS),
    (_entry("nullable", "/properties/thread_id"), ONE_NO_THREAD),
    (_entry("drop", "/status/required"), LIST_OK),
    (_entry("extend", "/InvalidUrlError/properties/code/enum"), MODULE_NOT_SUPPORTED),
    (_entry("extend", "/oneOf"), METHOD),
]
OWNER_OPTIONAL = _entry("optional", "/parameters/owner_id")


def schema_check() -> dict[str, Any]:
    load_all_checks()
    return {"response_schema_conformance": CHECKS.get_one("response_schema_conformance")}


def rejections(patches: tuple[Edit, ...] | list[Edit], witness: Witness) -> list[str]:
    """What schemathesis finds wrong with the witness against the file with ``patches``."""
    schema = schemathesis.openapi.from_dict(
        zoho_oas_emails.build_document(BASE, patches), config=schemathesis.Config()
    )
    path = zoho_oas_emails.ONE_PATH if witness.one_email else zoho_oas_emails.LIST_PATH
    params = {"module_name": "Contacts", "record_id": "3652397000001790020"}
    if witness.one_email:
        params["message_id"] = "abc123"
    case = schema[path]["GET"].Case(method="GET", path_parameters=params)
    request = httpx.Request("GET", BASE + case.formatted_path)
    response = httpx.Response(
        witness.status,
        content=json.dumps(witness.body).encode(),
        headers={"Content-Type": CONTENT_TYPE},
        request=request,
    )
    response.elapsed = datetime.timedelta(0)  # schemathesis reads it; nothing was sent
    return [f.describe() for f in validate(case, response, schema_check())]


def test_every_entry_applies_and_names_its_evidence() -> None:
    doc = zoho_oas_emails.build_document(BASE, ())
    text = json.dumps(doc)
    assert "raw.githubusercontent.com" not in text, "a remote $ref is left"
    for version in zoho_oas.VERSIONS:
        assert zoho_oas_emails.path_for(zoho_oas_emails.ONE_PATH, version) in doc["paths"]
    for patch in PATCHES:
        assert patch.zoho_says, patch.label
        assert "docs/contract.md §" in patch.why, patch.label
    zoho_oas_emails.build_document(BASE)  # every entry's precondition holds today


def test_every_relaxing_entry_has_a_witness() -> None:
    relaxing = set(zoho_oas_emails.relax_patches())
    assert relaxing == {p for p, _ in NEEDED_BY} | {OWNER_OPTIONAL}


@pytest.mark.parametrize("witness", RESPONSE_WITNESSES, ids=lambda w: w.name)
def test_contract_answers_pass_the_patched_file(witness: Witness) -> None:
    assert rejections(PATCHES, witness) == []


@pytest.mark.parametrize(("patch", "witness"), NEEDED_BY, ids=[p.label[:60] for p, _ in NEEDED_BY])
def test_each_relaxation_is_needed(patch: Edit, witness: Witness) -> None:
    """Without this one entry, Zoho's file rejects a contract-correct answer."""
    assert rejections([p for p in PATCHES if p is not patch], witness), (
        f"{patch.label} is not needed by {witness.name}: remove it"
    )


def test_one_email_sample_lacks_every_dropped_key() -> None:
    """The 'drop' of the one-email keys is minimal: the §12.5 sample has none of them, and
    each is one of the keys Zoho's file requires."""
    zoho = zoho_oas_emails.build_document(BASE, ())
    required = set(zoho["components"]["schemas"]["email"]["required"])
    for key in zoho_oas_emails.ONE_EMAIL_LACKS:
        assert key in required, key
        assert key not in ONE_SAMPLE["Emails"][0], key
    assert set(LIST_SAMPLE["Emails"][0]) >= required - {"activity_info"}


def test_owner_id_must_be_optional() -> None:
    """Zoho's file requires owner_id on both operations; docs/contract.md §12.2 (and the SDKs,
    which send it only when given) call the list and one email without it."""
    unpatched = zoho_oas_emails.build_document(BASE, ())
    patched = zoho_oas_emails.build_document(BASE)
    pointer = OWNER_OPTIONAL.pointer
    assert zoho_oas.resolve_pointer(unpatched, pointer)["required"] is True
    assert zoho_oas.resolve_pointer(patched, pointer)["required"] is False
    for path in (zoho_oas_emails.LIST_PATH, zoho_oas_emails.ONE_PATH):
        refs = [p["$ref"] for p in patched["paths"][path]["get"]["parameters"]]
        assert "#/components/parameters/owner_id" in refs


def test_tightenings_reject_what_the_contract_forbids() -> None:
    """The tightening entries bite: a 200 with no emails, a time without an offset, a
    numeric owner id and an unknown 403 fail the patched file."""
    item = LIST_SAMPLE["Emails"][0]
    bad_bodies = [
        {"Emails": [], "info": LIST_SAMPLE["info"]},
        {"Emails": [{**item, "time": "2023-12-06 11:55:16"}], "info": LIST_SAMPLE["info"]},
        {"Emails": [{**item, "owner": {"name": "P", "id": 5}}], "info": LIST_SAMPLE["info"]},
        {"Emails": [item], "info": {**LIST_SAMPLE["info"], "per_page": 200}},
    ]
    for body in bad_bodies:
        assert rejections(PATCHES, Witness("bad", False, 200, body)), body
    forbidden = {**BAD_METHOD, "code": "NO_PERMISSION"}
    assert rejections(PATCHES, Witness("bad 403", False, 403, forbidden))
