"""The IMAP side of syncing (``service.mailports.ImapSession``) over the standard imaplib."""

from __future__ import annotations

import contextlib
import imaplib
import re
from collections.abc import Sequence
from datetime import datetime

from emailshare.domain.mailserver import MailServer
from emailshare.mail.connect import ClientSettings, guarded, logged_in
from emailshare.service.mailports import FailureKind, Fetched, MailboxFailure

_LIST = re.compile(rb'\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)')
_UID = re.compile(rb"UID (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def _login(conn: imaplib.IMAP4, login: str, password: str) -> None:
    """``LOGIN``, whose arguments imaplib spells in ASCII; a login or password it cannot spell
    goes as SASL ``PLAIN`` (RFC 4616: UTF-8) where the server offers it, else the login is
    refused here with what to do (docs/mailboxes.md, "Client libraries, and why")."""
    if login.isascii() and password.isascii():
        conn.login(login, password)
        return
    if "AUTH=PLAIN" not in conn.capabilities:
        raise MailboxFailure(
            FailureKind.LOGIN,
            "the login or password is not ASCII, which IMAP LOGIN cannot send, and the server"
            " offers no AUTH=PLAIN",
        )
    secret = b"\0" + login.encode() + b"\0" + password.encode()
    conn.authenticate("PLAIN", lambda _challenge: secret)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _check(typ: str, data: object) -> None:
    if typ != "OK":
        raise MailboxFailure(FailureKind.PROTOCOL, f"{typ} {data!r}"[:200])


class ImapClient:
    """A logged-in IMAP connection (``ImapSession``); folders opened read-only."""

    def __init__(self, server: MailServer, settings: ClientSettings) -> None:
        self._conn: imaplib.IMAP4 = logged_in(
            server,
            settings,
            tls=lambda context: imaplib.IMAP4_SSL(
                server.host, server.port, ssl_context=context, timeout=settings.timeout
            ),
            plain=lambda: imaplib.IMAP4(server.host, server.port, timeout=settings.timeout),
            starttls=lambda c, context: c.starttls(ssl_context=context),
            login=lambda c: _login(c, server.login, server.password or ""),
        )

    @guarded
    def sent_folder(self) -> str | None:
        typ, data = self._conn.list()
        _check(typ, data)
        named: str | None = None
        for line in data:
            match = _LIST.match(line) if isinstance(line, bytes) else None
            if match is None:
                continue
            name = _unquote(match.group("name"))
            flags = match.group("flags").lower().split()
            if b"\\sent" in flags:
                return name
            if name.lower() == "sent":
                named = name
        return named

    @guarded
    def select(self, folder: str) -> int:
        typ, data = self._conn.select(_quote(folder), readonly=True)
        _check(typ, data)
        _, codes = self._conn.response("UIDVALIDITY")
        value = codes[0] if codes else None
        if not isinstance(value, bytes) or not value.isdigit():
            raise MailboxFailure(FailureKind.PROTOCOL, f"{folder}: no UIDVALIDITY")
        return int(value)

    @guarded
    def uids_after(self, last_uid: int) -> list[int]:
        typ, data = self._conn.uid("SEARCH", "UID", f"{last_uid + 1}:*")
        _check(typ, data)
        return sorted(int(u) for part in data if part for u in part.split())

    @guarded
    def fetch(self, uids: Sequence[int]) -> list[Fetched]:
        if not uids:
            return []
        typ, data = self._conn.uid(
            "FETCH", ",".join(map(str, uids)), "(UID FLAGS INTERNALDATE BODY.PEEK[])"
        )
        _check(typ, data)
        found: list[Fetched] = []
        for item in data:
            if not isinstance(item, tuple) or len(item) < 2:
                continue
            head, raw = item[0], item[1]
            uid = _UID.search(head)
            if uid is None:
                continue
            flags = _FLAGS.search(head)
            seen = flags is not None and b"\\seen" in flags.group(1).lower().split()
            found.append(Fetched(int(uid.group(1)), raw, _internaldate(head), seen))
        return found

    def close(self) -> None:
        try:
            self._conn.logout()
        except Exception:  # a dead connection: only the socket is left to close
            with contextlib.suppress(Exception):
                self._conn.shutdown()


def _internaldate(head: bytes) -> datetime | None:
    match = _DATE.search(head)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None
