"""``emailshare gen --emails-per-record N --emails-requests-out FILE`` (synth_emails): the store
holds N emails per record, and every request line is a call the caller may make, answered 200
by a real server (the list holds the record's emails, the one email opens)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from emailshare.cli import main
from emailshare.testing import start_server

RECORDS = 300
PER_RECORD = 4


def test_gen_writes_emails_and_callable_request_lines(tmp_path: Path) -> None:
    db = tmp_path / "gen.db"
    lines_file = tmp_path / "emails.tsv"
    argv = ["gen", "--db", f"sqlite:///{db}", "--users", "40", "--records", str(RECORDS)]
    argv += ["--emails-per-record", str(PER_RECORD), "--emails-requests-out", str(lines_file)]
    assert main([*argv, "--no-progress", "--seed", "3"]) == 0
    with sqlite3.connect(db) as conn:
        (emails,) = conn.execute("SELECT COUNT(*) FROM emails").fetchone()
        (kinds,) = conn.execute("SELECT COUNT(DISTINCT kind) FROM emails").fetchone()
        (addressed,) = conn.execute("SELECT COUNT(*) FROM record_addresses").fetchone()
    assert emails == RECORDS * PER_RECORD
    assert kinds == 4
    assert 0 < addressed < RECORDS
    lines = [line.split("\t") for line in lines_file.read_text().splitlines()]
    assert len(lines) > RECORDS  # a list and a one-email line for most records
    server = start_server(db_url=f"sqlite:///{db}")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            listed = opened = 0
            for path, token in lines[:200]:
                r = client.get(path, headers={"Authorization": f"Zoho-oauthtoken {token}"})
                assert r.status_code == 200, (path, r.text)
                body = r.json()
                if path.endswith("/Emails"):
                    listed += 1
                    assert 1 <= body["info"]["count"] <= 10
                else:
                    opened += 1
                    assert body["Emails"][0]["content"].startswith("<div>")
            assert listed
            assert opened
    finally:
        server.stop()


def test_gen_without_emails_is_unchanged(tmp_path: Path) -> None:
    """The emails' draws are their own: the users and records of a seed stay the same."""
    dumps = []
    for name, extra in (("a", []), ("b", ["--emails-per-record", "2"])):
        db = tmp_path / f"{name}.db"
        argv = ["gen", "--db", f"sqlite:///{db}", "--users", "20", "--records", "50"]
        assert main([*argv, "--no-progress", *extra]) == 0
        with sqlite3.connect(db) as conn:
            dumps.append(conn.execute("SELECT id, module, owner_id FROM records").fetchall())
    assert dumps[0] == dumps[1]
