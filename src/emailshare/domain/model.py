"""The org's data as plain values: what fixtures describe and what the pure rules read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from emailshare.domain.mail import OrgMail
from emailshare.domain.mailserver import MailServer


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"


class Profile(StrEnum):
    ADMINISTRATOR = "administrator"
    STANDARD = "standard"


class Protocol(StrEnum):
    IMAP = "imap"
    POP = "pop"
    API = "api"


class EmailSharing(StrEnum):
    PRIVATE = "private"
    PUBLIC = "public"
    CUSTOM = "custom"


class DataSharing(StrEnum):
    PRIVATE = "private"
    PUBLIC_READ_ONLY = "public_read_only"
    PUBLIC_READ_WRITE = "public_read_write"
    PUBLIC = "public"

    @property
    def everyone_reads(self) -> bool:
        return self is not DataSharing.PRIVATE


@dataclass(frozen=True, slots=True)
class Role:
    id: int
    name: str
    reports_to: int | None = None


@dataclass(frozen=True, slots=True)
class Mailbox:
    protocol: Protocol
    address: str
    enabled: bool = True
    server: MailServer | None = None  # a real server to sync (docs/contract.md §13)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str
    status: Status = Status.ACTIVE
    profile: Profile = Profile.STANDARD
    role: int | None = None
    mailbox: Mailbox | None = None
    email_sharing: EmailSharing = EmailSharing.PRIVATE

    @property
    def mailbox_readable(self) -> bool:
        """An active user with an enabled mailbox: the only kind that can appear in an answer."""
        return self.status is Status.ACTIVE and self.mailbox is not None and self.mailbox.enabled


@dataclass(frozen=True, slots=True)
class Record:
    module: str
    id: int
    name: str
    owner: int
    shared_with: frozenset[int] = frozenset()
    emails_shared_by: frozenset[int] = frozenset()
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str | None = None


@dataclass(frozen=True, slots=True)
class FixedToken:
    access_token: str
    user: int
    scopes: tuple[str, ...]
    expires_in: int = 3600


@dataclass(frozen=True, slots=True)
class Org:
    """One org and everything in it, as a fixture document describes it."""

    id: int
    name: str
    data_sharing: dict[str, DataSharing] = field(default_factory=dict)
    custom_modules: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()
    users: tuple[User, ...] = ()
    records: tuple[Record, ...] = ()
    clients: tuple[Client, ...] = ()
    tokens: tuple[FixedToken, ...] = ()
    mail: OrgMail = field(default_factory=OrgMail)  # emails and what ties them to records

    def sharing_of(self, module: str) -> DataSharing:
        """The org's data-sharing default for a module (``private`` unless named)."""
        return self.data_sharing.get(module, DataSharing.PRIVATE)

    def user(self, user_id: int) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def record(self, record_id: int) -> Record | None:
        return next((r for r in self.records if r.id == record_id), None)

    def role_ancestors(self, role_id: int | None) -> list[int]:
        """The roles above ``role_id``, nearest first (the fixture loader rejects cycles)."""
        parents = {r.id: r.reports_to for r in self.roles}
        chain: list[int] = []
        seen: set[int] = set()  # a set, not the list: linear in the depth
        current = parents.get(role_id) if role_id is not None else None
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            current = parents.get(current)
        return chain
