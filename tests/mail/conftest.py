"""A real Dovecot (tests/dovecot.py) and a store whose org has mailboxes on it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emailshare.mail import vault
from emailshare.storage.db import connect
from emailshare.testing import load_fixture
from tests.conftest import db_url_for
from tests.dovecot import Dovecot

ORG = 700000000000000001
WILL, PAT, CARL, DORA = (
    700000000000000101,
    700000000000000102,
    700000000000000103,
    700000000000000104,
)
PASSWORDS = {
    "will@acme.test": "pw-Will-7f3a9c",
    "pat@acme.test": "pw-Pat-2b8e1d",
    "dora@acme.test": "pw-Dora-5c1f0e",
}
LEAD = "lead@client.test"
LEAD_ID = 700000000000001001
# What the official SDKs need too (docs/contract.md §11): the current user and the org.
SCOPES = ["ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ"]


def token(user: int) -> str:
    """The fixed access token of a user of ``org_doc``."""
    return f"1000.{user:032x}.{'d' * 32}"


def org_doc() -> dict[str, Any]:
    """Will (IMAP) and Pat (POP3) share their mailboxes publicly; Dora's are private; Carl has
    no mailbox."""

    def user(uid: int, name: str, protocol: str | None, sharing: str) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": str(uid),
            "name": name,
            "email": f"{name.lower()}@acme.test",
            "email_sharing": sharing,
        }
        if protocol:
            found["mailbox"] = {"protocol": protocol, "address": f"{name.lower()}@acme.test"}
        return found

    return {
        "orgs": [
            {
                "id": str(ORG),
                "name": "Acme Mail",
                "data_sharing": {"Leads": "public_read_only"},
                "users": [
                    user(WILL, "Will", "imap", "public"),
                    user(PAT, "Pat", "pop", "public"),
                    user(CARL, "Carl", None, "private"),
                    user(DORA, "Dora", "imap", "private"),
                ],
                "records": [
                    {
                        "module": "Leads",
                        "id": str(LEAD_ID),
                        "name": "Zoë Lead",
                        "owner": str(WILL),
                        "emails": [LEAD.upper()],  # matched ASCII case-insensitively
                    }
                ],
                "tokens": [
                    {"access_token": token(u), "user": str(u), "scopes": SCOPES}
                    for u in (WILL, PAT, CARL, DORA)
                ],
            }
        ]
    }


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot.create(PASSWORDS)
    server.start()
    yield server
    server.destroy()


@dataclass
class Env:
    """A store loaded with ``org_doc``, a secret key file, and the CLI to drive them."""

    db: str
    key_file: Path
    dovecot: Dovecot

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        """``emailshare ARGS`` as a child process (the real command); its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "emailshare", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"emailshare {' '.join(args)}: {done.stderr}{done.stdout}")
        return done.stdout + done.stderr

    def connect(
        self,
        user: int,
        login: str,
        port: str = "imap",
        security: str = "none",
        password: str | None = None,
    ) -> str:
        return self.cli(
            "mailbox",
            "set",
            "--db",
            self.db,
            "--secret-key-file",
            str(self.key_file),
            "--user",
            str(user),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.dovecot.ports[port]),
            "--security",
            security,
            "--login",
            login,
            "--password-stdin",
            stdin=(password if password is not None else PASSWORDS[login]) + "\n",
        )

    def sync(self, *extra: str, check: bool = True) -> str:
        return self.cli(
            "sync",
            "--db",
            self.db,
            "--secret-key-file",
            str(self.key_file),
            "--mail-ca-file",
            str(self.dovecot.ca_file),
            "--mail-timeout",
            "10",
            *extra,
            check=check,
        )


def query(db: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of the store at ``db`` (what the sync left there)."""

    async def run() -> list[tuple[Any, ...]]:
        store = await connect(db)
        try:
            return await store.fetchall(sql, params)
        finally:
            await store.close()

    return asyncio.run(run())


def stored(db: str, owner: int) -> list[dict[str, Any]]:
    """The mailbox emails of ``owner``, oldest first."""
    rows = query(
        db,
        "SELECT message_id, subject, from_name, from_email, to_json, sent, attachments_json,"
        " time_epoch, time_offset, mail_format, content, thread_id FROM emails"
        " WHERE owner_id = ? AND kind = 'mailbox' ORDER BY time_epoch, message_id",
        (owner,),
    )
    keys = (
        "message_id",
        "subject",
        "from_name",
        "from_email",
        "to",
        "sent",
        "attachments",
        "epoch",
        "offset",
        "mail_format",
        "content",
        "thread_id",
    )
    found = [dict(zip(keys, r, strict=True)) for r in rows]
    for f in found:
        f["to"], f["attachments"] = json.loads(f["to"]), json.loads(f["attachments"])
        f["sent"] = bool(f["sent"])
    return found


@pytest.fixture
def env(tmp_path: Path, dovecot: Dovecot) -> Env:
    db = db_url_for(tmp_path)
    load_fixture(db, json.dumps(org_doc()), reset=True)
    key_file = tmp_path / "emailshare.key"
    key_file.write_text(vault.new_key())
    return Env(db, key_file, dovecot)
