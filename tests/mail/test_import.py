"""``emailshare import-mail``: .eml files, an mbox file and a Maildir, through the sync's parser,
each message stored once (docs/mailboxes.md)."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

from tests.mail.conftest import CARL, LEAD, WILL, Env, query, stored


def raw(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Zoë <{LEAD}>", "will@acme.test"
    msg["Subject"] = f"imported {i} — ü"
    msg["Message-ID"] = f"<imp-{i}@client.test>"
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0100"
    msg.set_content("hi")
    return msg.as_bytes()


def test_eml_mbox_and_maildir_each_message_once(env: Env, tmp_path: Path) -> None:
    one = tmp_path / "one.eml"
    one.write_bytes(raw(0))
    folder = tmp_path / "emls"
    folder.mkdir()
    for i in (0, 1):
        (folder / f"{i}.eml").write_bytes(raw(i))
    box = mailbox.mbox(tmp_path / "all.mbox")
    for i in (1, 2):
        box.add(raw(i))
    box.close()
    md = mailbox.Maildir(tmp_path / "Maildir")
    for i in (2, 3):
        md.add(raw(i))
    (tmp_path / "junk.eml").write_bytes(b"Subject: nobody\r\n\r\nx")
    outs = [
        env.cli("import-mail", "--db", env.db, "--user", str(WILL), str(p))
        for p in (one, folder, tmp_path / "all.mbox", tmp_path / "Maildir", tmp_path / "junk.eml")
    ]
    assert "1 new emails" in outs[0]
    assert "1 new emails, 1 stored already" in outs[1]
    assert "1 new emails, 1 stored already" in outs[2]
    assert "1 new emails, 1 stored already" in outs[3]
    assert "0 new emails, 0 stored already, 1 skipped" in outs[4]
    assert sorted(e["subject"] for e in stored(env.db, WILL)) == [
        f"imported {i} — ü" for i in range(4)
    ]
    assert query(env.db, "SELECT reason FROM mailbox_skipped") == [("no sender and no recipient",)]


def test_a_user_without_a_mailbox_is_refused(env: Env, tmp_path: Path) -> None:
    one = tmp_path / "one.eml"
    one.write_bytes(raw(0))
    out = env.cli("import-mail", "--db", env.db, "--user", str(CARL), str(one), check=False)
    assert "has no mailbox" in out
    not_mail = tmp_path / "notes.txt"
    not_mail.write_text("hello")
    out = env.cli("import-mail", "--db", env.db, "--user", str(WILL), str(not_mail), check=False)
    assert "not an .eml file, an mbox file or a Maildir" in out
