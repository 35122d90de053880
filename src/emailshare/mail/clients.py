"""The ``service.mailports.Connector`` over imaplib and poplib."""

from __future__ import annotations

from emailshare.domain.mailserver import MailServer
from emailshare.mail.connect import ClientSettings
from emailshare.mail.imap import ImapClient
from emailshare.mail.pop import PopClient


class Clients:
    """Opens IMAP and POP3 sessions with one ``ClientSettings`` (CA file, timeout)."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings

    def imap(self, server: MailServer) -> ImapClient:
        return ImapClient(server, self.settings)

    def pop(self, server: MailServer) -> PopClient:
        return PopClient(server, self.settings)
