"""What the store answers the services: small read-only values, each shaped for one question.

They live in the domain so that both sides of a port can name them: the services, which
declare the ports (``service.ports``), and the store, which implements them and may import
only the domain. Plain values: no SQL, no wire spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from emailshare.domain.model import DataSharing


class TokenOwner(NamedTuple):
    """An access token joined with its user: everything authentication needs.

    A named tuple, not a frozen dataclass: made on every request whose caller is not kept
    (most of them at 1M records), and a tuple of twelve is made in ~0.3 µs where a frozen
    dataclass's ``__init__`` takes ~1.3 (docs/performance.md, "The caller on a miss")."""

    token_hash: str
    org_id: int
    user_id: int
    scopes: str
    expires_at: int
    status: str
    profile: str
    role_id: int | None
    name: str
    mailbox_protocol: str | None
    mailbox_enabled: bool
    email_sharing: str


@dataclass(frozen=True, slots=True)
class RecordAccess:
    """The facts about one live record that decide whether a caller may read it."""

    owner_id: int
    shared_with_caller: bool
    caller_role_above_owner: bool
    module_sharing: DataSharing


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A user as the Users and Org APIs show one."""

    id: int
    name: str
    email: str
    status: str
    profile: str
    role_id: int | None
    role_name: str | None


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """A registered OAuth client (its secret only as a hash); ``org_id`` None: any org's."""

    client_id: str
    org_id: int | None
    secret_hash: str
    redirect_uri: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    """What a refresh token or grant code stands for."""

    client_id: str
    org_id: int
    user_id: int
    scopes: str
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class Admission:
    """What the store decided for one request of an org under the emulated API limits."""

    admitted: bool
    reason: str | None = None  # "credits" or "concurrency" when refused
    remaining: int | None = None  # credits left in the window after this request (if counted)
    retry_after: int | None = None  # seconds until a refused request may succeed, at best


@dataclass(frozen=True, slots=True)
class OrgSummary:
    """One line of the org list: enough to choose an org."""

    id: int
    name: str
    users: int
    records: int
