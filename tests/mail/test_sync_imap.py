"""IMAP syncing against a real Dovecot (docs/contract.md §13): plain and TLS, unicode,
attachments, the sent folder, UIDVALIDITY, faults."""

from __future__ import annotations

from email.message import EmailMessage

from tests.mail.conftest import LEAD, PASSWORDS, WILL, Env, query, stored


def message(
    subject: str,
    sender: str,
    to: str,
    *,
    mid: str,
    attach: bytes | None = None,
    reply_to: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0100"
    msg["Message-ID"] = f"<{mid}>"
    if reply_to:
        msg["In-Reply-To"] = f"<{reply_to}>"
    msg.set_content("Bonjour")
    msg.add_alternative("<p>Bonjour</p>", subtype="html")
    if attach is not None:
        msg.add_attachment(attach, maintype="application", subtype="pdf", filename="offre.pdf")
    return msg.as_bytes()


def test_inbox_and_sent_folder_synced_once(env: Env) -> None:
    d = env.dovecot
    d.append(
        "will@acme.test",
        message(
            "Angebot für Sie — 見積もり",
            f"Zoë Müller <{LEAD}>",
            "Will <will@acme.test>",
            mid="in1@client.test",
            attach=b"%PDF" * 1000,
        ),
    )
    d.append(
        "will@acme.test",
        message(
            "Re: Angebot",
            "Will <will@acme.test>",
            LEAD,
            mid="out1@acme.test",
            reply_to="in1@client.test",
        ),
        "Sent",
    )
    env.connect(WILL, "will@acme.test")
    out = env.sync()
    assert "2 new" in out, out
    got = stored(env.db, WILL)
    assert len(got) == 2
    incoming = next(e for e in got if e["subject"].startswith("Angebot"))
    reply = next(e for e in got if e["subject"].startswith("Re:"))
    assert incoming["subject"] == "Angebot für Sie — 見積もり"
    assert (incoming["from_name"], incoming["from_email"]) == ("Zoë Müller", LEAD)
    assert incoming["sent"] is False
    assert reply["sent"] is True
    assert [(a["name"], a["size"]) for a in incoming["attachments"]] == [("offre.pdf", 4000)]
    assert incoming["offset"] == 60
    assert incoming["mail_format"] == "html"
    assert incoming["thread_id"] == reply["thread_id"]
    assert len(incoming["message_id"]) == 96
    # Nothing new: nothing stored twice.
    assert "0 new" in env.sync()
    assert len(stored(env.db, WILL)) == 2
    listed = env.cli("mailbox", "list", "--db", env.db)
    assert "2 emails" in listed
    assert "last sync never" not in listed


def test_incremental_and_uidvalidity_change(env: Env) -> None:
    d = env.dovecot
    for i in range(3):
        d.append("will@acme.test", message(f"m{i}", LEAD, "will@acme.test", mid=f"u{i}@c.test"))
    env.connect(WILL, "will@acme.test")
    assert "3 new" in env.sync()
    d.append("will@acme.test", message("m3", LEAD, "will@acme.test", mid="u3@c.test"))
    assert "1 new" in env.sync()
    before = query(env.db, "SELECT uidvalidity FROM mailbox_folders WHERE folder = 'INBOX'")
    d.reset_uidvalidity("will@acme.test")
    d.append("will@acme.test", message("m4", LEAD, "will@acme.test", mid="u4@c.test"))
    assert "1 new" in env.sync()  # the folder read again, only the new message stored
    after = query(env.db, "SELECT uidvalidity FROM mailbox_folders WHERE folder = 'INBOX'")
    assert before != after
    assert sorted(e["subject"] for e in stored(env.db, WILL)) == [f"m{i}" for i in range(5)]


def test_tls_verified_with_the_operators_ca(env: Env) -> None:
    env.dovecot.append("will@acme.test", message("tls", LEAD, "will@acme.test", mid="t@c.test"))
    env.connect(WILL, "will@acme.test", port="imaps", security="tls")
    assert "1 new" in env.sync()
    env.dovecot.append("will@acme.test", message("tls2", LEAD, "will@acme.test", mid="t2@c"))
    env.connect(WILL, "will@acme.test", port="imap", security="starttls")
    assert "1 new" in env.sync()


def test_tls_failure_recorded_emails_kept(env: Env) -> None:
    env.dovecot.append("will@acme.test", message("kept", LEAD, "will@acme.test", mid="k@c"))
    env.connect(WILL, "will@acme.test", port="imaps", security="tls")
    assert "1 new" in env.sync()
    # Without the test CA the self-signed chain cannot be verified.
    out = env.cli("sync", "--db", env.db, "--secret-key-file", str(env.key_file), check=False)
    assert "TLS verification failed" in out, out
    listed = env.cli("mailbox", "list", "--db", env.db)
    assert "last error" in listed
    assert "TLS verification failed" in listed
    assert "1 emails" in listed
    assert len(stored(env.db, WILL)) == 1


def test_wrong_password_recorded_and_retried(env: Env) -> None:
    env.connect(WILL, "will@acme.test", password="not-the-password")
    out = env.sync(check=False)
    assert "login refused" in out, out
    row = query(env.db, "SELECT failures, next_try_at > last_error_at FROM mailbox_servers")
    assert row == [(1, True)]
    env.connect(WILL, "will@acme.test")  # fixed: the error clears on the next good pass
    assert "ok" in env.sync()
    assert "last error" not in env.cli("mailbox", "list", "--db", env.db)


def test_password_never_in_the_store_or_output(env: Env) -> None:
    env.dovecot.append("will@acme.test", message("p", LEAD, "will@acme.test", mid="p@c"))
    outputs = [
        env.connect(WILL, "will@acme.test"),
        env.sync(),
        env.cli("mailbox", "list", "--db", env.db),
    ]
    env.connect(WILL, "will@acme.test", password="wrong-" + PASSWORDS["will@acme.test"])
    outputs.append(env.sync(check=False))
    secret = PASSWORDS["will@acme.test"]
    for out in outputs:
        assert secret not in out
    tables_sql = (
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if env.db.startswith("sqlite")
        else "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    tables = [r[0] for r in query(env.db, tables_sql)]
    for table in tables:
        for row in query(env.db, f"SELECT * FROM {table}"):
            assert all(secret not in str(v) for v in row), table
    enc = query(env.db, "SELECT password_enc FROM mailbox_servers")[0][0]
    assert enc.startswith("gAAAAA")  # a Fernet token


def test_a_password_without_a_key_is_refused(env: Env) -> None:
    out = env.cli(
        "mailbox",
        "set",
        "--db",
        env.db,
        "--user",
        str(WILL),
        "--host",
        "127.0.0.1",
        "--port",
        "143",
        "--login",
        "will@acme.test",
        "--password-stdin",
        stdin="x\n",
        check=False,
    )
    assert out.count("\n") == 1
    assert "emailshare secret-key" in out
    assert query(env.db, "SELECT COUNT(*) FROM mailbox_servers") == [(0,)]


def test_sync_without_the_key_is_refused_before_touching_any_mailbox(env: Env) -> None:
    env.connect(WILL, "will@acme.test")
    out = env.cli("sync", "--db", env.db, check=False)
    assert out.count("\n") == 1, out
    assert "emailshare secret-key" in out
    assert query(env.db, "SELECT failures, last_error FROM mailbox_servers") == [(0, None)]
