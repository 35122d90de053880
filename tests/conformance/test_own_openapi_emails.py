"""Schemathesis against the Emails operations of emailshare's own OpenAPI document
(``getRecordEmails``, ``getRecordEmail``; docs/contract.md §12), on a server loaded with
tests/data/emails.json, where lists and emails exist (tests/conformance/test_own_openapi.py runs
the whole document on acme.json, which has no emails, and leaves these two operations' 200s to
this module).

Hand-written examples reach each branch (200, 204, each 400, 403 and 404 of §12), then
generated cases: schemathesis' positive and negative generation, and cases drawn over the
fixture's modules, records, tokens, types, owners and message ids. The checks are those of the
whole-document run (``test_own_openapi.CHECK_NAMES``), each run on its own; the cases are
deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from hypothesis import strategies as st
from schemathesis import GenerationMode

from emailshare.testing import ServerProcess, start_server
from tests.api.emails_fixture import EMAILS, EMAILS_FIXTURE, ORG
from tests.conformance.checks import draw, validate
from tests.conformance.test_own_openapi import (
    REQUEST_TIMEOUT,
    load_schema,
    operations,
    selected_checks,
    zoho_auth,
)
from tests.conftest import db_url_for

LIST, ONE = "getRecordEmails", "getRecordEmail"
GENERATED = 150  # per operation
TOKENS = [t["access_token"] for t in ORG["tokens"]]
BOB = next(t["access_token"] for t in ORG["tokens"] if t["user"].endswith("1002"))
EVE = next(t["access_token"] for t in ORG["tokens"] if t["user"].endswith("1005"))
LEAD, ACCOUNT, DEAL = "900000000000002001", "900000000000002002", "900000000000002005"
RECORDS = [(r["module"], r["id"]) for r in ORG["records"]]
USER_IDS = [u["id"] for u in ORG["users"]]
TYPES = [
    "sent_from_crm",
    "scheduled_in_crm",
    "drafts",
    "user_emails",
    "all_contacts_sent_crm_emails",
    "all_emails",
]


@dataclass(frozen=True)
class Example:
    name: str
    operation: str
    status: int
    code: str | None
    path: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    token: str = BOB


def _lead(**extra: str) -> dict[str, str]:
    return {"version": "v8", "module": "Leads", "record_id": LEAD, **extra}


EXAMPLES = (
    Example("list", LIST, 200, None, _lead()),
    Example("v4 drafts", LIST, 200, None, {**_lead(), "version": "v4"}, {"type": "drafts"}),
    Example(
        "account contacts",
        LIST,
        200,
        None,
        {**_lead(), "module": "Accounts", "record_id": ACCOUNT},
        {"type": "all_contacts_sent_crm_emails"},
    ),
    Example(
        "nothing",
        LIST,
        204,
        None,
        {**_lead(), "module": "Deals", "record_id": DEAL},
        {"type": "drafts"},
    ),
    Example("bad type", LIST, 400, "INVALID_DATA", _lead(), {"type": "all_emails"}),
    Example(
        "bad owner", LIST, 400, "INVALID_DATA", _lead(), {"type": "user_emails", "owner_id": "abc"}
    ),
    Example("forged index", LIST, 400, "INVALID_DATA", _lead(), {"index": "deadbeef"}),
    Example(
        "colleague",
        LIST,
        403,
        "NO_PERMISSION",
        _lead(),
        {"type": "user_emails", "owner_id": USER_IDS[3]},
    ),
    Example("long value", LIST, 400, "LIMIT_EXCEEDED", _lead(), {"type": "x" * 10_000}),
    Example("one", ONE, 200, None, _lead(message_id="m1bob")),
    Example("one, user_id", ONE, 200, None, _lead(message_id="m2carol"), {"user_id": USER_IDS[2]}),
    Example("not of the record", ONE, 400, "INVALID_DATA", _lead(message_id="m5bobc1")),
    Example("not in the mailbox", ONE, 403, "NO_PERMISSION", _lead(message_id="m2carol")),
    Example("bad message id", ONE, 404, "INVALID_URL_PATTERN", _lead(message_id="m-1")),
    Example(
        "no Authorization", ONE, 401, "AUTHENTICATION_FAILURE", _lead(message_id="m1bob"), token=""
    ),
)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("own-oas-emails")
    server = start_server(db_url=db_url_for(folder), fixture=EMAILS_FIXTURE)
    yield server
    server.stop()


def fixture_cases(op_id: str, op: Any) -> st.SearchStrategy[Any]:
    """Cases over the fixture's records, tokens, types, owners and message ids."""
    query = st.fixed_dictionaries(
        {},
        optional={"type": st.sampled_from(TYPES), "owner_id": st.sampled_from(USER_IDS)},
    )
    target = st.sampled_from(RECORDS)
    if op_id == ONE:
        message = st.sampled_from(sorted(EMAILS))
        target_params = st.tuples(target, message).map(
            lambda tm: {"module": tm[0][0], "record_id": tm[0][1], "message_id": tm[1]}
        )
    else:
        target_params = target.map(lambda t: {"module": t[0], "record_id": t[1]})
    return st.tuples(st.sampled_from(TOKENS), target_params, query).flatmap(
        lambda x: op.as_strategy(
            headers=zoho_auth(x[0]), path_parameters={"version": "v8", **x[1]}, query=x[2]
        )
    )


def test_emails_operations_conform(srv: ServerProcess) -> None:
    doc = requests.get(f"{srv.url}/openapi.json", timeout=REQUEST_TIMEOUT).json()
    ops = operations(load_schema(doc, srv.url))
    checks = selected_checks()
    failures: list[str] = []
    statuses: dict[str, set[int]] = {LIST: set(), ONE: set()}
    with requests.Session() as session:

        def send(op_id: str, label: str, case: Any) -> Any:
            response = case.call(session=session, timeout=REQUEST_TIMEOUT)
            statuses[op_id].add(response.status_code)
            for finding in validate(case, response, checks):
                failures.append(
                    f"{label}: {case.formatted_path} {case.query} -> "
                    f"{response.status_code} {response.text[:300]}\n{finding.describe()}"
                )
            return response

        for ex in EXAMPLES:
            headers = zoho_auth(ex.token) if ex.token else {}
            case = ops[ex.operation].Case(
                method="GET", path_parameters=dict(ex.path), query=dict(ex.query), headers=headers
            )
            response = send(ex.operation, f"example {ex.name!r}", case)
            code = response.json().get("code") if response.content else None
            assert (response.status_code, code) == (ex.status, ex.code), (ex.name, response.text)
        for op_id in (LIST, ONE):
            op = ops[op_id]
            strategy = st.one_of(
                op.as_strategy(headers=zoho_auth(BOB)),
                op.as_strategy(GenerationMode.NEGATIVE, headers=zoho_auth(BOB)),
                fixture_cases(op_id, op),
            )
            for i, case in enumerate(draw(strategy, GENERATED)):
                send(op_id, f"{op_id} generated #{i}", case)
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:10])
    assert {200, 204, 400, 403} <= statuses[LIST]
    assert {200, 400, 403, 404} <= statuses[ONE]
