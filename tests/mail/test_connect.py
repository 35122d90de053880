"""Connecting securely: a refused STARTTLS upgrade closes the plain connection it started on
(docs/mailboxes.md, "A failing mailbox"), and so does a login stopped by anything at all. Over a
real socket, against a listener that offers STARTTLS and then refuses it, the way a
misconfigured server does."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from emailshare.domain.mailserver import MailServer, Security
from emailshare.mail.connect import ClientSettings
from emailshare.mail.imap import ImapClient
from emailshare.mail.pop import PopClient
from emailshare.service.mailports import FailureKind, MailboxFailure
from tests.dovecot import Dovecot

IMAP_LINES = {
    b"CAPABILITY": b"* CAPABILITY IMAP4rev1 STARTTLS\r\n{tag} OK done\r\n",
    b"STARTTLS": b"{tag} NO TLS is not available now\r\n",
}

POP_LINES = {b"CAPA": b"+OK\r\nSTLS\r\n.\r\n", b"STLS": b"-ERR TLS is not available now\r\n"}


def _serve_once(
    listener: socket.socket, greeting: bytes, pop: bool, closed: threading.Event
) -> None:
    conn, _ = listener.accept()
    with conn:
        conn.sendall(greeting)
        buffer = b""
        while True:
            data = conn.recv(4096)
            if not data:  # the client closed the connection
                closed.set()
                return
            buffer += data
            while b"\r\n" in buffer:
                line, buffer = buffer.split(b"\r\n", 1)
                if pop:
                    conn.sendall(POP_LINES.get(line.upper(), b"-ERR what\r\n"))
                    continue
                tag, _, command = line.partition(b" ")
                reply = IMAP_LINES.get(command.split(b" ")[0].upper(), b"{tag} BAD what\r\n")
                conn.sendall(reply.replace(b"{tag}", tag))


def _listen(protocol: str) -> tuple[socket.socket, int, threading.Event]:
    """A listener that serves one connection (``_serve_once``) on a thread; ``closed`` is set
    once the client closed it."""
    listener = socket.create_server(("127.0.0.1", 0))
    closed = threading.Event()
    greeting = b"* OK ready\r\n" if protocol == "imap" else b"+OK ready\r\n"
    threading.Thread(
        target=_serve_once, args=(listener, greeting, protocol == "pop", closed), daemon=True
    ).start()
    return listener, listener.getsockname()[1], closed


@pytest.mark.parametrize("protocol", ["imap", "pop"])
def test_a_refused_starttls_closes_the_plain_connection(protocol: str) -> None:
    listener, port, closed = _listen(protocol)
    mailbox = MailServer("127.0.0.1", port, Security.STARTTLS, "will", "pw")
    client = ImapClient if protocol == "imap" else PopClient
    with pytest.raises(MailboxFailure) as failed:
        client(mailbox, ClientSettings(timeout=5))
    assert failed.value.kind in (FailureKind.TLS, FailureKind.PROTOCOL)
    assert closed.wait(5), "the plain connection was left open after STARTTLS failed"
    listener.close()


def test_a_login_imap_cannot_spell_without_auth_plain_is_refused_and_closed() -> None:
    """A password imaplib's ``LOGIN`` cannot spell (not ASCII) goes as ``AUTHENTICATE PLAIN``;
    a server that offers no ``AUTH=PLAIN`` (this listener) gets no attempt: a ``LOGIN``
    failure saying why, and the socket closed."""
    listener, port, closed = _listen("imap")
    mailbox = MailServer("127.0.0.1", port, Security.NONE, "will", "pässwort")
    with pytest.raises(MailboxFailure) as failed:
        ImapClient(mailbox, ClientSettings(timeout=5))
    assert failed.value.kind is FailureKind.LOGIN
    assert "not ASCII" in str(failed.value)
    assert "AUTH=PLAIN" in str(failed.value)
    # Held as a caller holds what it reports: its traceback keeps the client's frame, so only
    # an explicit close (not the collector) can have closed the socket.
    assert closed.wait(5), "the connection was left open after its login failed"
    assert failed.traceback
    listener.close()


NON_ASCII = {"zoë@acme.test": "pässwört-Ω-7c", "ann@acme.test": "pässwört-2b"}


@pytest.fixture(scope="module")
def utf8_dovecot() -> Iterator[Dovecot]:
    server = Dovecot.create(NON_ASCII)
    server.start()
    yield server
    server.destroy()


@pytest.mark.parametrize("login", sorted(NON_ASCII))
def test_non_ascii_passwords_log_in_to_a_real_server(utf8_dovecot: Dovecot, login: str) -> None:
    """Against a real Dovecot: IMAP by ``AUTHENTICATE PLAIN`` (a non-ASCII login too), POP3's
    ``PASS`` in UTF-8; and the wrong non-ASCII password is a refused login, not a crash."""
    ports = utf8_dovecot.ports
    imap = ImapClient(
        MailServer("127.0.0.1", ports["imap"], Security.NONE, login, NON_ASCII[login]),
        ClientSettings(timeout=10),
    )
    assert imap.sent_folder() == "Sent"
    imap.close()
    pop = PopClient(
        MailServer("127.0.0.1", ports["pop3"], Security.NONE, login, NON_ASCII[login]),
        ClientSettings(timeout=10),
    )
    assert pop.uidls() == []
    pop.close()
    wrong = MailServer("127.0.0.1", ports["imap"], Security.NONE, login, "fälsch")
    with pytest.raises(MailboxFailure) as failed:
        ImapClient(wrong, ClientSettings(timeout=10))
    assert failed.value.kind is FailureKind.LOGIN
