"""What one page of a record's emails costs (docs/emails.md, "What a list costs"), in process.

    .venv/bin/python bench/emails_list.py                       # SQLite, 20,000 emails
    .venv/bin/python bench/emails_list.py --db postgresql://…   # a PostgreSQL database
    .venv/bin/python bench/emails_list.py --emails 100000

One org of 5 users (public email sharing) and 50 Leads; the emails go round the Leads, one in
three sent from CRM, the others mailbox emails to the Lead's address. Then, for one Lead (the
org's emails / 50 of them): the first page and the 16th page (whose ``prev_index`` is computed
too), in milliseconds per request over ``--requests`` requests each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from emailshare.config import Settings  # noqa: E402
from emailshare.testing import InProcess  # noqa: E402

ORG = "700000000000000001"
USERS = [f"70000000000000100{i}" for i in range(5)]
TOKEN = "1000." + "c" * 32 + "." + "d" * 32


def document(emails: int) -> dict[str, Any]:
    users = [
        {
            "id": u,
            "name": f"user {i}",
            "mailbox": {"protocol": "imap", "address": f"u{i}@bench.test"},
            "email_sharing": "public",
        }
        for i, u in enumerate(USERS)
    ]
    leads = [
        {
            "module": "Leads",
            "id": f"7000000000000020{i:02d}",
            "owner": USERS[0],
            "emails": [f"lead{i}@customer.test"],
        }
        for i in range(50)
    ]
    items = []
    for n in range(emails):
        lead = leads[n % 50]
        crm = n % 3 == 0
        item: dict[str, Any] = {
            "message_id": f"m{n}",
            "kind": "sent" if crm else "mailbox",
            "owner": USERS[n % 5],
            "to": [{"user_name": None, "email": lead["emails"][0]}],
            "subject": f"email {n}",
            "time": f"2024-01-{1 + n // 86400 % 28:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:"
            f"{n % 60:02d}+00:00",
        }
        if crm:
            item["record"] = {"module": "Leads", "id": lead["id"]}
        items.append(item)
    org = {
        "id": ORG,
        "name": "Bench",
        "data_sharing": {"Leads": "public"},
        "users": users,
        "records": leads,
        "emails": items,
        "tokens": [{"access_token": TOKEN, "user": USERS[1], "scopes": ["ZohoCRM.modules.ALL"]}],
    }
    return {"orgs": [org]}


def per_request(client: httpx.Client, path: str, params: dict[str, str], n: int) -> float:
    headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}"}
    start = time.perf_counter()
    for _ in range(n):
        assert client.get(path, headers=headers, params=params).status_code == 200
    return (time.perf_counter() - start) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=20_000)
    parser.add_argument("--db", help="store URL (default: a new SQLite file)")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    db = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='emails-bench-')) / 'b.db'}"
    started = time.perf_counter()
    app = InProcess(fixture=document(args.emails), settings=Settings(db_url=db))
    app.start()
    print(f"loaded {args.emails} emails in {time.perf_counter() - started:.1f} s")
    try:
        with httpx.Client(transport=app.transport, base_url=app.url) as client:
            path = "/crm/v8/Leads/700000000000002007/Emails"
            headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}"}
            index = None
            for _ in range(15):
                params: dict[str, str] = {"index": index} if index else {}
                index = client.get(path, headers=headers, params=params).json()["info"][
                    "next_index"
                ]
            assert index is not None, "fewer than 16 pages: give more --emails"
            first = per_request(client, path, {}, args.requests)
            deep = per_request(client, path, {"index": index}, args.requests)
        print(f"first page      {first:7.2f} ms/request")
        print(f"16th page       {deep:7.2f} ms/request")
    finally:
        app.stop()


if __name__ == "__main__":
    main()
