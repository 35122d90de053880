"""Small fixture documents built in code, for tests that need many users or records."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx


def token_for(org_id: int, n: int) -> str:
    """A fixed, valid and globally unique access token for user ``n`` of an org."""
    return f"1000.{org_id:032x}.{n:032x}"


@dataclass(frozen=True)
class SharingOrg:
    """An org where every member has custom email sharing and may read every Leads record."""

    org_id: int
    admin_id: int
    admin_token: str
    member_ids: list[int]
    member_tokens: list[str]
    record_ids: list[int]
    doc: dict[str, Any]

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.doc))
        return path


def sharing_org(org_id: int, members: int, records: int) -> SharingOrg:
    """An admin (token n=0) and ``members`` custom-sharing users with imap mailboxes."""
    admin_id = org_id + 1
    member_ids = [org_id + 100 + i for i in range(members)]
    record_ids = [org_id + 10_000 + i for i in range(records)]
    users: list[dict[str, Any]] = [
        {
            "id": str(admin_id),
            "name": "Admin",
            "profile": "administrator",
            "mailbox": {"protocol": "imap", "address": "admin@x.test"},
            "email_sharing": "private",
        },
    ]
    users += [
        {
            "id": str(uid),
            "name": f"Member {i:03d}",
            "mailbox": {"protocol": "imap", "address": f"m{i}@x.test"},
            "email_sharing": "custom",
        }
        for i, uid in enumerate(member_ids)
    ]
    scopes = ["ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ"]
    tokens = [
        {
            "access_token": token_for(org_id, 0),
            "user": str(admin_id),
            "scopes": scopes,
            "expires_in": 86400,
        }
    ]
    tokens += [
        {
            "access_token": token_for(org_id, i + 1),
            "user": str(uid),
            "scopes": scopes,
            "expires_in": 86400,
        }
        for i, uid in enumerate(member_ids)
    ]
    doc = {
        "orgs": [
            {
                "id": str(org_id),
                "name": f"Org {org_id}",
                "data_sharing": {"Leads": "public_read_only"},
                "users": users,
                "records": [
                    {
                        "module": "Leads",
                        "id": str(rid),
                        "name": f"Lead {rid}",
                        "owner": str(admin_id),
                    }
                    for rid in record_ids
                ],
                "tokens": tokens,
            }
        ]
    }
    return SharingOrg(
        org_id,
        admin_id,
        token_for(org_id, 0),
        member_ids,
        [token_for(org_id, i + 1) for i in range(members)],
        record_ids,
        doc,
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}"}


# The Acme org of tests/data/acme.json (tests.conftest.ACME_FIXTURE) and its OAuth client: the one
# place the tests spell them.
ACME_ID = "412463000000000001"
ACME_SOID = f"ZohoCRM.{ACME_ID}"
ACME_CLIENT = "1000.ACMECLIENT0000000000000000000001"
ACME_SECRET = "acme-client-secret"
ACME_REDIRECT = "http://localhost/callback"


def grant_code(
    db_url: str, user: str, scopes: str = "ZohoCRM.modules.ALL", client: str = ACME_CLIENT
) -> str:
    """A single-use grant code (valid 120 s) from ``emailshare grant`` (a real command, on the
    server's store); ``scopes`` comma-separated."""
    out = _store_command("grant", db_url, "--client", client, "--user", user, "--scope", scopes)
    lines = out.split()
    assert len(lines) == 1, f"emailshare grant printed {out!r}"
    return lines[0]


def cli_token(db_url: str, user: str, scopes: str = "ZohoCRM.modules.ALL", *more: str) -> str:
    """An access token from ``emailshare token`` (a real command, on the server's store);
    ``more`` are further flags (``--expires-in``, ``--org``)."""
    return _store_command("token", db_url, "--user", user, "--scope", scopes, *more).strip()


def store_command(
    db_url: str, name: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``emailshare NAME ARGS --db DB_URL`` (a real command, on the server's store; ``--db``
    last, after any subcommand in ``ARGS``) to its end;
    with ``check``, a failure or no end within 60 s fails the test with the command's output."""
    cmd = [sys.executable, "-m", "emailshare", name, *args, "--db", db_url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if check:
        context = f"emailshare {name}: rc={done.returncode}\n{done.stdout}\n{done.stderr}"
        assert done.returncode == 0, context
    return done


def _store_command(name: str, db_url: str, *args: str) -> str:
    return store_command(db_url, name, *args).stdout


def oauth_tokens(
    base_url: str, db_url: str, user: str, scopes: str = "ZohoCRM.modules.ALL"
) -> dict[str, Any]:
    """Access and refresh tokens of the acme client, by the real authorization-code flow."""
    answer: dict[str, Any] = httpx.post(
        f"{base_url}/oauth/v2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": ACME_CLIENT,
            "client_secret": ACME_SECRET,
            "redirect_uri": ACME_REDIRECT,
            "code": grant_code(db_url, user, scopes),
        },
        timeout=10,
    ).json()
    assert "access_token" in answer, answer
    return answer


C = TypeVar("C")


def one_per_worker(
    connect: Callable[[], C], pid_of: Callable[[C], int], close: Callable[[C], None], workers: int
) -> list[C]:
    """Connections, each answered by a different worker process (new connections land on
    workers as the kernel decides, so open them until every worker has one)."""
    found: dict[int, C] = {}
    for _ in range(60):
        conn = connect()
        pid = pid_of(conn)
        if pid in found:
            close(conn)
            continue
        found[pid] = conn
        if len(found) == workers:
            return list(found.values())
    for conn in found.values():
        close(conn)
    raise AssertionError(f"new connections never reached {workers} workers")


def one_client_per_worker(base_url: str, admin_key: str, workers: int = 2) -> list[httpx.Client]:
    """Keep-alive clients of one connection each, every one answered by a different worker
    (told apart by the admin API's ``stats``)."""

    def pid_of(c: httpx.Client) -> int:
        r = c.get("/__emailshare/stats", headers={"X-Emailshare-Admin-Key": admin_key})
        assert r.status_code == 200, r.text
        pid: int = r.json()["pid"]
        return pid

    def connect() -> httpx.Client:
        return httpx.Client(base_url=base_url, timeout=10, limits=httpx.Limits(max_connections=1))

    return one_per_worker(connect, pid_of, httpx.Client.close, workers)
