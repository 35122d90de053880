"""What the server trusts (docs/reliability.md "Trust"): not the Host header, not the names
in its data (explain's text), not a copy of its store (client secrets), not ``ps`` (the admin
key); ids within 64 bits; the users list a page at a time. Each finding of issue 16 repeated
as filed, on the suite's store (SQLite, or PostgreSQL under ``EMAILSHARE_TEST_PG``).
"""

from __future__ import annotations

import asyncio
import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from emailshare import cli, options
from emailshare.domain import tokens
from emailshare.domain.numbers import MAX_INT64
from emailshare.storage.db import connect
from tests.builders import ACME_CLIENT, ACME_ID, ACME_SECRET
from tests.conftest import acme, db_url_for, serve

KEY = "trust-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": KEY}
WILL, CARLA = "412463000001213019", "412463000000500001"
CC = {
    "grant_type": "client_credentials",
    "client_id": ACME_CLIENT,
    "scope": "ZohoCRM.modules.ALL,ZohoCRM.users.READ",
    "soid": f"ZohoCRM.{ACME_ID}",
}


def sql(db_url: str, statement: str, params: tuple[object, ...] = ()) -> list[Any]:
    async def run() -> list[Any]:
        db = await connect(db_url)
        try:
            if statement.startswith("SELECT"):
                return list(await db.fetchall(statement, params))
            async with db.transaction() as tx:
                await tx.execute(statement, params)
            return []
        finally:
            await db.close()

    return asyncio.run(run())


def test_api_domain_is_not_the_host_header(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    srv = serve(request, tmp_path, fixture=acme())
    try:
        r = srv.client.post(
            "/oauth/v2/token",
            data={**CC, "client_secret": ACME_SECRET},
            headers={"Host": "www.zohoapis.com"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["api_domain"] == srv.url.rstrip("/")
    finally:
        srv.stop()


def test_api_domain_is_the_public_url_when_given(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    srv = serve(request, tmp_path, fixture=acme(), public_url="https://crm.example.test")
    try:
        r = srv.client.post(
            "/oauth/v2/token",
            data={**CC, "client_secret": ACME_SECRET},
            headers={"Host": "www.zohoapis.com"},
        )
        assert r.json()["api_domain"] == "https://crm.example.test"
    finally:
        srv.stop()


def test_explain_text_escapes_control_characters(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    doc = acme()
    users = doc["orgs"][0]["users"]
    forged = "Will\nanswer  HTTP 200\x1b[2J\u2028x"
    next(u for u in users if u["id"] == WILL)["name"] = forged
    srv = serve(request, tmp_path, fixture=doc, admin_key=KEY)
    try:
        r = srv.client.get(
            "/__emailshare/explain",
            params={"caller": WILL, "record": "3652397000001790004", "format": "text"},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        lines = r.text.split("\n")
        assert sum(line.startswith("answer  HTTP") for line in lines) == 1
        assert "\x1b" not in r.text
        assert "\u2028" not in r.text
        assert "Will\\nanswer  HTTP 200\\x1b[2J\\u2028x" in r.text
    finally:
        srv.stop()


def test_client_secrets_are_stored_salted_and_slow(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db_url = db_url_for(tmp_path)
    srv = serve(request, tmp_path, fixture=acme(), db_url=db_url)
    try:
        ((stored,),) = sql(
            db_url, "SELECT secret_hash FROM oauth_clients WHERE client_id = ?", (ACME_CLIENT,)
        )
        scheme, n, r, p, salt, key = stored.split("$")
        assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
        assert len(bytes.fromhex(salt)) == 16
        assert len(bytes.fromhex(key)) == 32
        assert tokens.token_hash(ACME_SECRET) not in stored
        assert tokens.secret_hash(ACME_SECRET) != stored  # a fresh salt each time
        ok = srv.client.post("/oauth/v2/token", data={**CC, "client_secret": ACME_SECRET}).json()
        assert "access_token" in ok
        bad = srv.client.post("/oauth/v2/token", data={**CC, "client_secret": ACME_SECRET + "x"})
        assert bad.json() == {"error": "invalid_client_secret"}
    finally:
        srv.stop()


def test_a_legacy_sha256_secret_still_verifies_and_is_rehashed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db_url = db_url_for(tmp_path)
    srv = serve(request, tmp_path, fixture=acme(), db_url=db_url)
    try:
        legacy = tokens.token_hash(ACME_SECRET)  # the form stores made before migration 0012 hold
        sql(
            db_url,
            "UPDATE oauth_clients SET secret_hash = ? WHERE client_id = ?",
            (legacy, ACME_CLIENT),
        )
        bad = srv.client.post("/oauth/v2/token", data={**CC, "client_secret": "guess"})
        assert bad.json() == {"error": "invalid_client_secret"}
        assert sql(db_url, "SELECT secret_hash FROM oauth_clients")[0][0] == legacy
        ok = srv.client.post("/oauth/v2/token", data={**CC, "client_secret": ACME_SECRET}).json()
        assert "access_token" in ok
        ((stored,),) = sql(
            db_url, "SELECT secret_hash FROM oauth_clients WHERE client_id = ?", (ACME_CLIENT,)
        )
        assert stored.startswith("scrypt$")
        assert tokens.secret_matches(stored, ACME_SECRET)
    finally:
        srv.stop()


def test_a_19_digit_org_id_gives_profile_ids_within_64_bits(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    doc = copy.deepcopy(acme())
    org = doc["orgs"][0]
    org["id"] = str(MAX_INT64)
    org.pop("clients", None)
    srv = serve(request, tmp_path, fixture=doc)
    try:
        for user in (WILL, CARLA):
            token = srv.token(user, ["ZohoCRM.users.READ"], org_id=MAX_INT64)
            r = srv.client.get(
                "/crm/v8/users?type=CurrentUser",
                headers={"Authorization": f"Zoho-oauthtoken {token}"},
            )
            assert r.status_code == 200, r.text
            profile = int(r.json()["users"][0]["profile"]["id"])
            assert 0 < profile <= MAX_INT64
    finally:
        srv.stop()


def test_all_users_reads_one_page(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    doc = acme()
    users = doc["orgs"][0]["users"]
    base = copy.deepcopy(next(u for u in users if u["id"] == WILL))
    for i in range(250):
        extra = {**base, "id": str(412463000100000000 + i), "email": f"u{i}@acme.test"}
        extra.pop("mailbox", None)
        users.append(extra)
    srv = serve(request, tmp_path, fixture=doc)
    try:
        token = srv.token(WILL, ["ZohoCRM.users.READ"])
        r = srv.client.get(
            "/crm/v8/users?type=AllUsers", headers={"Authorization": f"Zoho-oauthtoken {token}"}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["users"]) == 200
        assert body["info"]["more_records"] is True
    finally:
        srv.stop()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emailshare", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


def test_the_admin_key_can_come_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "admin.key"
    key_file.write_text("from-a-file\n")
    assert options.key_file(str(key_file)) == "from-a-file"
    parser = cli.build_parser()
    args = parser.parse_args(["serve", "--admin-key-file", str(key_file)])
    assert args.admin_key_file == "from-a-file"
    assert args.admin_key is None  # not on the command line, so not in ps
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    done = _cli("serve", "--admin-key-file", str(empty))
    assert done.returncode != 0
    assert "holds no admin key" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_admin_key_file_turns_the_admin_api_on(tmp_path: Path) -> None:
    from emailshare.testing import start_server

    key_file = tmp_path / "admin.key"
    key_file.write_text(KEY + "\n")
    srv = start_server(
        db_url=db_url_for(tmp_path), fixture=acme(), args=["--admin-key-file", str(key_file)]
    )
    try:
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.get("/__emailshare/state?summary=1", headers=ADMIN).status_code == 200
            assert c.get("/__emailshare/state?summary=1").status_code == 401
        cmdline = Path(f"/proc/{srv.proc.pid}/cmdline").read_bytes()
        assert b"--admin-key-file" in cmdline
        assert KEY.encode() not in cmdline
    finally:
        srv.stop()
