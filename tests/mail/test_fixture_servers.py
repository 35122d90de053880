"""Mailbox servers in fixtures (docs/contract.md §10.1): parsed, sealed with the operator's key,
refused without one, never written back out with their password."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emailshare.api.admin import HEADER
from emailshare.config import Settings
from emailshare.domain.errors import FixtureError
from emailshare.domain.mailserver import Security
from emailshare.service.fixtures import parse_fixture
from emailshare.service.fixtures.write import write_mailbox
from emailshare.testing import running_app
from tests.mail.conftest import LEAD, PASSWORDS, WILL, Env, org_doc, query, stored


def with_server(server: dict[str, Any], who: int = 0) -> dict[str, Any]:
    doc = org_doc()
    doc["orgs"][0]["users"][who]["mailbox"]["server"] = server
    return doc


def server_of(env: Env, port: str = "imap") -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": env.dovecot.ports[port],
        "security": "none",
        "login": "will@acme.test",
        "password": PASSWORDS["will@acme.test"],
    }


def test_fixture_server_loaded_sealed_and_synced(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(with_server(server_of(env))))
    env.cli("load", "--db", env.db, "--secret-key-file", str(env.key_file), str(path))
    env.dovecot.append(
        "will@acme.test", f"From: {LEAD}\r\nTo: will@acme.test\r\n\r\nx\r\n".encode()
    )
    assert "1 new" in env.sync()
    assert len(stored(env.db, WILL)) == 1
    enc = query(env.db, "SELECT password_enc FROM mailbox_servers")[0][0]
    assert PASSWORDS["will@acme.test"] not in enc


def test_fixture_password_without_a_key_is_refused(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(with_server(server_of(env))))
    out = env.cli("load", "--db", env.db, str(path), check=False)
    assert out.count("\n") == 1, out
    assert "$.orgs[0].users[0].mailbox.server.password" in out
    assert "emailshare secret-key" in out
    assert query(env.db, "SELECT COUNT(*) FROM mailbox_servers") == [(0,)]


def test_parsed_and_written_without_the_password() -> None:
    doc = with_server({"host": "imap.acme.test", "port": 993, "login": "w", "password": "pw"})
    mailbox = parse_fixture(doc)[0].users[0].mailbox
    assert mailbox is not None
    assert mailbox.server is not None
    assert mailbox.server.security is Security.TLS  # the default
    assert "pw" not in repr(mailbox)
    written = write_mailbox(mailbox)
    assert written is not None
    assert written["server"] == {
        "host": "imap.acme.test",
        "port": 993,
        "security": "tls",
        "login": "w",
    }


@pytest.mark.parametrize(
    ("server", "who", "where"),
    [
        ({"host": "h", "port": 0, "login": "w"}, 0, "mailbox.server.port"),
        ({"host": "h", "port": 143, "login": "w", "tls": True}, 0, "mailbox.server.tls"),
        ({"host": "h", "port": 143, "login": "w", "security": "ssl"}, 0, "mailbox.server.security"),
        ({"port": 143, "login": "w"}, 0, "mailbox.server.host"),
    ],
)
def test_bad_servers_name_the_place(server: dict[str, Any], who: int, where: str) -> None:
    with pytest.raises(FixtureError, match=f"users\\[{who}\\]\\.{where}"):
        parse_fixture(with_server(server, who))


def test_an_api_mailbox_has_no_server() -> None:
    doc = org_doc()
    doc["orgs"][0]["users"][0]["mailbox"] = {
        "protocol": "api",
        "address": "w@x.test",
        "server": {"host": "h", "port": 1, "login": "w"},
    }
    with pytest.raises(FixtureError, match="only an imap or pop mailbox has a server"):
        parse_fixture(doc)


def test_admin_state_shows_the_server_never_the_password(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(with_server(server_of(env))))
    env.cli("load", "--db", env.db, "--secret-key-file", str(env.key_file), str(path))
    env.dovecot.append(
        "will@acme.test", f"From: {LEAD}\r\nTo: will@acme.test\r\n\r\nx\r\n".encode()
    )
    env.connect(WILL, "will@acme.test", password="wrong")  # a failing pass: its error logged
    env.sync(check=False)
    settings = Settings(db_url=env.db, admin_key="k" * 32, log_requests=True)
    with running_app(db_url=env.db, settings=settings) as app:
        state = app.client.get("/__emailshare/state", headers={HEADER: "k" * 32})
        assert state.status_code == 200
        requests = app.client.get("/__emailshare/requests", headers={HEADER: "k" * 32})
        boxes = app.client.get("/__emailshare/mailboxes", headers={HEADER: "k" * 32})
    server = state.json()["orgs"][0]["users"][0]["mailbox"]["server"]
    assert server == {
        "host": "127.0.0.1",
        "port": env.dovecot.ports["imap"],
        "security": "none",
        "login": "will@acme.test",
    }
    [will] = boxes.json()["mailboxes"]
    assert will["user"] == str(WILL)
    assert will["last_error"].startswith("login refused")
    assert will["last_error_at"] is not None
    assert will["failures"] == 1
    assert will["next_try"] > will["last_error_at"]
    for text in (state.text, requests.text, boxes.text):
        assert PASSWORDS["will@acme.test"] not in text
        assert "wrong" not in text
