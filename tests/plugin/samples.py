"""Data shared by the plugin's tests and the sample test files they run through pytester."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ACME = Path(__file__).parent.parent / "data" / "acme.json"

SEED_PATH = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
WILL_TOKEN = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
# docs/contract.md §1, verbatim.
SEED_ANSWER = (
    b'{"__emails_sharing_details":[{"available_types":["emails_sent_from_crm",'
    b'"all_contacts_emails","all_imap_shared_users","all_emails"],"share_from_users":['
    b'{"id":"412463000001213019","name":"Will Grandon","_type":"pop"},'
    b'{"id":"412463000000867017","name":"boyle","_type":"imap"}]}]}'
)

CARL = "11"  # custom email sharing, an imap mailbox, owns the lead
RITA = "12"  # administrator, no mailbox: reads the lead, lists whoever shares it
LEAD = "101"


def small(org_name: str = "Isolation Inc") -> dict[str, Any]:
    """One org, two users, one lead: Rita sees Carl on the lead only once Carl shares it."""
    return {
        "orgs": [
            {
                "id": "1",
                "name": org_name,
                "users": [
                    {
                        "id": CARL,
                        "name": "Carl Custom",
                        "mailbox": {"protocol": "imap"},
                        "email_sharing": "custom",
                    },
                    {"id": RITA, "name": "Rita Reader", "profile": "administrator"},
                ],
                "records": [{"module": "Leads", "id": LEAD, "owner": CARL}],
            }
        ]
    }


def small_yaml(org_name: str) -> str:
    """:func:`small` as YAML text (ids quoted, as YAML needs)."""
    return (
        "orgs:\n"
        '  - id: "1"\n'
        f"    name: {org_name}\n"
        "    users:\n"
        f'      - {{id: "{CARL}", name: Carl Custom, mailbox: {{protocol: imap}}, '
        "email_sharing: custom}\n"
        f'      - {{id: "{RITA}", name: Rita Reader, profile: administrator}}\n'
        "    records:\n"
        f'      - {{module: Leads, id: "{LEAD}", owner: "{CARL}"}}\n'
    )


def small_json(org_name: str) -> str:
    return json.dumps(small(org_name))


# The head of every sample test file that pytester writes: the samples run in a directory of
# their own, where this package cannot be imported, so the shared names are written out.
PRELUDE = f"""
import json
import pytest

SEED_PATH = {SEED_PATH!r}
SEED_ANSWER = {SEED_ANSWER!r}
WILL = {{"Authorization": "Zoho-oauthtoken {WILL_TOKEN}"}}
CARL, RITA, LEAD = {CARL!r}, {RITA!r}, {LEAD!r}
DETAILS = f"/crm/v8/Leads/{{LEAD}}/__emails_sharing_details"
SHARE = f"/crm/v8/Leads/{{LEAD}}/actions/share_emails"


def auth(token):
    return {{"Authorization": "Zoho-oauthtoken " + token}}


def org_name(es):
    r = es.client.get("/crm/v8/org", headers=auth(es.token(RITA)))
    assert r.status_code == 200, r.text
    return r.json()["org"][0]["company_name"]


def sharers(es):
    r = es.client.get(DETAILS, headers=auth(es.token(RITA)))
    assert r.status_code == 200, r.text
    return [u["name"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]]
"""


# The head of an async sample test: anyio on asyncio, and the small org loaded for each test.
ASYNC_HEAD = f"""
pytestmark = [pytest.mark.anyio, pytest.mark.emailshare(fixture={small()!r})]

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""
