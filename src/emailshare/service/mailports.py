"""The ports mailbox syncing needs (docs/contract.md §13): the store's side (``MailboxStore``)
and the mail server's side (``ImapSession``, ``PopSession``, opened by a ``Connector``).

Storage implements the first (storage/mailboxes.py), emailshare.mail the others (mail/imap.py,
mail/pop.py). Sessions are blocking (the standard library's clients); the use case runs them
on a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from emailshare.domain.errors import LeaseLost as LeaseLost  # raised by the store
from emailshare.domain.mail import Email
from emailshare.domain.mailserver import Mailbox as Mailbox  # crosses the port
from emailshare.domain.mailserver import MailServer, SyncState
from emailshare.mail.parse import Skipped


class FailureKind(StrEnum):
    """Why a mailbox could not be synced; what ``mailbox list`` and the admin state show."""

    LOGIN = "login refused"
    UNREACHABLE = "unreachable"
    TLS = "TLS verification failed"
    TIMEOUT = "timed out"
    PROTOCOL = "protocol error"
    KEY = "secret key"
    INTERNAL = "internal error"


class MailboxFailure(Exception):
    """A mailbox's server failed; the message never holds the password."""

    def __init__(self, kind: FailureKind, detail: str) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message as the server gave it: IMAP UID (POP3: 0), bytes, arrival time, \\Seen."""

    uid: int
    raw: bytes
    arrived: datetime | None
    seen: bool


class ImapSession(Protocol):
    def sent_folder(self) -> str | None:
        """The folder flagged ``\\Sent`` (RFC 6154), else one named Sent, else None."""
        ...

    def select(self, folder: str) -> int:
        """Open ``folder`` read-only; its UIDVALIDITY."""
        ...

    def uids_after(self, last_uid: int) -> list[int]: ...
    def fetch(self, uids: Sequence[int]) -> list[Fetched]: ...
    def close(self) -> None: ...


class PopSession(Protocol):
    def uidls(self) -> list[tuple[int, str]]:
        """(message number, UIDL) of every message in the maildrop."""
        ...

    def retrieve(self, number: int) -> bytes: ...
    def close(self) -> None: ...


class Connector(Protocol):
    """Opens sessions; raises ``MailboxFailure`` for a refused login, TLS or network fault."""

    def imap(self, server: MailServer) -> ImapSession: ...
    def pop(self, server: MailServer) -> PopSession: ...


class MailboxStore(Protocol):
    async def set_server(
        self, org_id: int, user_id: int, server: MailServer, password_enc: str | None
    ) -> bool:
        """Name a user's server (keeping the encrypted password when none is given); False
        when no such user has a mailbox."""
        ...

    async def states(self, user_id: int | None = None) -> list[SyncState]: ...
    async def password_enc(self, org_id: int, user_id: int) -> str | None: ...

    async def acquire(self, org_id: int, user_id: int, owner: str, now: int, ttl: int) -> bool:
        """Take the mailbox's lease unless another live instance holds it."""
        ...

    async def release(self, org_id: int, user_id: int, owner: str) -> None: ...
    async def folder(self, org_id: int, user_id: int, folder: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, last UID) stored for the folder."""
        ...

    async def pop_seen(self, org_id: int, user_id: int) -> set[str]: ...

    async def write_imap(
        self,
        box: Mailbox,
        lease: tuple[str, int],
        folder: tuple[str, int, int],
        emails: Sequence[Email],
        skipped: Sequence[Skipped],
    ) -> int:
        """In one transaction: the emails (each once per mailbox), the skipped reasons, the
        folder's (name, UIDVALIDITY, last UID), the lease renewed to ``lease[1]``. Returns the
        emails new to the store. Raises ``LeaseLost`` (nothing written) when the lease is gone.
        """
        ...

    async def write_pop(
        self,
        box: Mailbox,
        lease: tuple[str, int],
        uidls: Sequence[str],
        emails: Sequence[Email],
        skipped: Sequence[Skipped],
    ) -> int: ...

    async def add_emails(
        self, org_id: int, user_id: int, emails: Sequence[Email], skipped: Sequence[Skipped]
    ) -> int:
        """Imported messages (``import-mail``: no server, no lease), in one transaction."""
        ...

    async def finish(self, org_id: int, user_id: int, now: int, error: str | None) -> None:
        """Record a pass's end: success (clears the error, the failures) or its error."""
        ...
