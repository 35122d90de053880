"""The POP3 side of syncing (``service.mailports.PopSession``) over the standard poplib.
Read-only: it never sends DELE, so the maildrop stays as it is (docs/contract.md §13)."""

from __future__ import annotations

import contextlib
import poplib

from emailshare.domain.mailserver import MailServer
from emailshare.mail.connect import ClientSettings, guarded, logged_in


class PopClient:
    """A logged-in POP3 connection (``PopSession``)."""

    def __init__(self, server: MailServer, settings: ClientSettings) -> None:
        def login(conn: poplib.POP3) -> None:
            conn.user(server.login)
            conn.pass_(server.password or "")

        self._conn: poplib.POP3 = logged_in(
            server,
            settings,
            tls=lambda context: poplib.POP3_SSL(
                server.host, server.port, context=context, timeout=settings.timeout
            ),
            plain=lambda: poplib.POP3(server.host, server.port, timeout=settings.timeout),
            starttls=lambda c, context: c.stls(context=context),
            login=login,
        )

    @guarded
    def uidls(self) -> list[tuple[int, str]]:
        _, lines, _ = self._conn.uidl()
        found: list[tuple[int, str]] = []
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                found.append((int(parts[0]), parts[1].decode("ascii", "replace")))
        return found

    @guarded
    def retrieve(self, number: int) -> bytes:
        _, lines, _ = self._conn.retr(number)
        return b"\r\n".join(lines) + b"\r\n"

    def close(self) -> None:
        try:
            self._conn.quit()  # no DELE was sent: QUIT deletes nothing
        except Exception:  # a dead connection: only the socket is left to close
            with contextlib.suppress(Exception):
                self._conn.close()
