"""Schemathesis against Zoho's ``email_related_records.json`` with a live server (docs/contract.md
§12), as test_zoho_openapi.py does for the sharing-details file.

On a server loaded with tests/data/emails.json, hand-written examples (each required to reach its
branch) and generated cases of both operations, v7 and v8, run under ``not_a_server_error``,
``response_schema_conformance`` and ``content_type_conformance``:

* with ``zoho_oas_emails.PATCHES``: no failure;
* with Zoho's file as shipped: every failure is a schema failure that the patch list removes,
  and every relaxing entry of the list is needed by at least one real answer (the file with the
  list minus that entry rejects it). ``owner_id``'s entry is about requests, so its proof is
  the static one of test_zoho_openapi_emails.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st

from emailshare.testing import ServerProcess, start_server
from tests.api.emails_fixture import EMAILS, EMAILS_FIXTURE, ORG
from tests.conformance import zoho_oas, zoho_oas_emails
from tests.conformance.checks import Finding, draw, validate
from tests.conformance.test_zoho_openapi import selected_checks, zoho_auth
from tests.conftest import db_url_for

LOCATION = zoho_oas.locate()
pytestmark = pytest.mark.skipif(LOCATION.skip_reason is not None, reason=LOCATION.skip_reason or "")
GENERATED = 120  # per operation and version
TOKENS = {
    t["user"][-4:]: t["access_token"]
    for t in ORG["tokens"]
    if t["scopes"] == ["ZohoCRM.modules.ALL"]
}
BOB = TOKENS["1002"]
LEAD, ACCOUNT, DEAL = "900000000000002001", "900000000000002002", "900000000000002005"
RECORDS = [(r["module"], r["id"]) for r in ORG["records"]]
DAN = "900000000000001004"


@dataclass(frozen=True)
class Example:
    name: str
    one_email: bool
    status: int
    code: str | None
    module: str = "Leads"
    record: str = LEAD
    query: dict[str, str] = field(default_factory=dict)
    message: str = "m1bob"
    token: str | None = BOB
    method: str = "GET"


EXAMPLES = (
    Example("list", False, 200, None),
    Example("drafts", False, 200, None, query={"type": "drafts"}),
    Example(
        "account", False, 200, None, "Accounts", ACCOUNT, {"type": "all_contacts_sent_crm_emails"}
    ),
    Example("nothing", False, 204, None, "Deals", DEAL, {"type": "drafts"}),
    Example("bad type", False, 400, "INVALID_DATA", query={"type": "all_emails"}),
    Example("forged index", False, 400, "INVALID_DATA", query={"index": "deadbeef"}),
    Example(
        "colleague", False, 403, "NO_PERMISSION", query={"type": "user_emails", "owner_id": DAN}
    ),
    Example("unsupported module", False, 400, "NOT_SUPPORTED", "Tasks"),
    Example("unknown module", False, 400, "INVALID_MODULE", "Widgets"),
    Example("bad record", False, 400, "INVALID_DATA", record="abc"),
    Example("no token", False, 401, "AUTHENTICATION_FAILURE", token=None),
    Example("POST", False, 400, "INVALID_REQUEST_METHOD", method="POST"),
    Example("one", True, 200, None),
    Example(
        "one, no attachments, cc",
        True,
        200,
        None,
        message="m2carol",
        query={"owner_id": "900000000000001003"},
    ),
    Example("not of the record", True, 400, "INVALID_DATA", message="m5bobc1"),
    Example("not in the mailbox", True, 403, "NO_PERMISSION", message="m2carol"),
    Example("bad message id", True, 404, "INVALID_URL_PATTERN", message="m-1"),
    Example("DELETE one", True, 400, "INVALID_REQUEST_METHOD", method="DELETE"),
)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("zoho-oas-emails")
    server = start_server(db_url=db_url_for(folder), fixture=EMAILS_FIXTURE)
    yield server
    server.stop()


def load(base_url: str, patches: Sequence[zoho_oas_emails.Edit]) -> Any:
    schema = schemathesis.openapi.from_dict(
        zoho_oas_emails.build_document(base_url, patches), config=schemathesis.Config()
    )
    schema.config.update(base_url=base_url)
    return schema


def op_of(schema: Any, one_email: bool, version: str) -> Any:
    path = zoho_oas_emails.ONE_PATH if one_email else zoho_oas_emails.LIST_PATH
    return schema[zoho_oas_emails.path_for(path, version)]["GET"]


@dataclass
class Exchange:
    label: str
    one_email: bool
    case: Any
    response: Any
    findings: list[Finding]

    def describe(self) -> str:
        head = f"{self.label}: {self.case.method} {self.case.formatted_path} {self.case.query}"
        body = self.response.text[:300] if hasattr(self.response, "text") else ""
        return "\n".join(
            [
                f"{head} -> {self.response.status_code} {body}",
                *(f.describe() for f in self.findings),
            ]
        )


def example_case(op: Any, ex: Example) -> Any:
    params = {"module_name": ex.module, "record_id": ex.record}
    if ex.one_email:
        params["message_id"] = ex.message
    return op.Case(
        method=ex.method,
        path_parameters=params,
        query=dict(ex.query),
        headers=zoho_auth(ex.token) if ex.token else {},
    )


def generated(op: Any, one_email: bool) -> list[Any]:
    fixture = st.sampled_from(RECORDS).flatmap(
        lambda mr: st.sampled_from(sorted(EMAILS)).flatmap(
            lambda m: st.sampled_from(sorted(TOKENS.values())).flatmap(
                lambda t: op.as_strategy(
                    headers=zoho_auth(t),
                    path_parameters={"module_name": mr[0], "record_id": mr[1]}
                    | ({"message_id": m} if one_email else {}),
                )
            )
        )
    )
    cases = draw(st.one_of(op.as_strategy(headers=zoho_auth(BOB)), fixture), GENERATED)
    return [c for c in cases if all(_text(v) for v in (c.query or {}).values())]


def _text(value: Any) -> bool:
    """A query value the server takes as text: control characters and surrogates are refused
    before routing (docs/reliability.md), an answer Zoho's file cannot know of; such cases run
    against emailshare's own document in test_own_openapi_emails.py."""
    text = str(value)
    return all(ch >= " " and ch != "\x7f" and not 0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def exchanges(
    base_url: str, patches: Sequence[zoho_oas_emails.Edit]
) -> Iterator[tuple[Example | None, Exchange]]:
    schema = load(base_url, patches)
    checks = selected_checks()
    with requests.Session() as session:
        for version in zoho_oas.VERSIONS:
            for one_email in (False, True):
                op = op_of(schema, one_email, version)
                cases: list[tuple[Example | None, str, Any]] = [
                    (ex, f"{version} {ex.name!r}", example_case(op, ex))
                    for ex in EXAMPLES
                    if ex.one_email == one_email
                ]
                cases += [
                    (None, f"{version} generated #{i}", c)
                    for i, c in enumerate(generated(op, one_email))
                ]
                for ex, label, case in cases:
                    response = case.call(session=session, timeout=10)
                    findings = validate(case, response, checks)
                    yield ex, Exchange(label, one_email, case, response, findings)


def test_patched_file_passes(srv: ServerProcess) -> None:
    failed: list[Exchange] = []
    missed: list[str] = []
    for ex, x in exchanges(srv.url, zoho_oas_emails.PATCHES):
        if x.findings:
            failed.append(x)
        if ex is not None:
            body = x.response.json() if x.response.content else {}
            if (x.response.status_code, body.get("code")) != (ex.status, ex.code):
                missed.append(f"{x.label}: {x.response.status_code} {body}")
    assert not failed, f"{len(failed)} failures:\n\n" + "\n\n".join(
        f.describe() for f in failed[:8]
    )
    assert not missed, "examples that missed their branch:\n" + "\n".join(missed)


def test_unpatched_failures_are_explained(srv: ServerProcess) -> None:
    schema_check = {"response_schema_conformance": selected_checks()["response_schema_conformance"]}
    relax = [p for p in zoho_oas_emails.relax_patches() if p.action != "optional"]
    patched = load(srv.url, zoho_oas_emails.PATCHES)
    without = {p: load(srv.url, [q for q in zoho_oas_emails.PATCHES if q is not p]) for p in relax}

    def fails_with(schema: Any, x: Exchange) -> bool:
        version = x.case.path.split("/")[2]
        case = op_of(schema, x.one_email, version).Case(
            method=x.case.method,
            path_parameters=x.case.path_parameters,
            query=x.case.query,
            headers=x.case.headers,
        )
        return bool(validate(case, x.response, schema_check))

    unexplained: list[Exchange] = []
    needed = dict.fromkeys(relax, 0)
    for _, x in exchanges(srv.url, ()):
        if not x.findings:
            continue
        if {f.check for f in x.findings} != {"response_schema_conformance"} or fails_with(
            patched, x
        ):
            unexplained.append(x)
            continue
        for patch, schema in without.items():
            if fails_with(schema, x):
                needed[patch] += 1
    assert not unexplained, "\n\n".join(x.describe() for x in unexplained[:8])
    unneeded = [p.label for p, hits in needed.items() if hits == 0]
    assert not unneeded, f"relaxing entries no answer needs: {unneeded}"
