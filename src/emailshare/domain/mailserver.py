"""A mailbox's real server and its sync state, as plain values (docs/contract.md §§10.1, 13)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Security(StrEnum):
    """How the connection is protected: TLS from the start, STARTTLS, or not at all."""

    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class MailServer:
    """Where a mailbox lives. ``password`` is clear text in memory only; never in ``repr``."""

    host: str
    port: int
    security: Security
    login: str
    password: str | None = field(default=None, repr=False)
    # The password sealed with the operator's key (service.mailsync.seal): what the store keeps.
    password_enc: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class SyncState:
    """What ``mailbox list`` and the admin state show of one mailbox's syncing."""

    org_id: int
    user_id: int
    protocol: str
    address: str
    server: MailServer
    last_sync_at: int | None
    message_count: int
    last_error: str | None
    last_error_at: int | None
    failures: int
    next_try_at: int


ENV_KEY_FILE = "EMAILSHARE_SECRET_KEY_FILE"
#: How to give emailshare a key: the end of every refusal for the want of one.
KEY_HOW = (
    "make one with `emailshare secret-key > emailshare.key` and pass "
    f"--secret-key-file emailshare.key (or set {ENV_KEY_FILE})"
)


def backoff(failures: int) -> int:
    """Seconds before trying a failing mailbox again: 30 s doubling, at most an hour."""
    return int(min(3600, 30 * 2 ** max(0, failures - 1)))


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A mailbox to sync: its owner, protocol and address, its server (password decrypted)."""

    org_id: int
    user_id: int
    protocol: str
    address: str
    server: MailServer
