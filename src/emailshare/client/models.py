"""What the client returns: plain, typed, immutable values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SUCCESS = "SUCCESS"
# The share/unshare codes that say "the state you asked for already holds".
STATE_ALREADY_HOLDS = frozenset({"ALREADY_SHARED", "NOT_SHARED"})


@dataclass(frozen=True)
class ShareFromUser:
    """A user whose mailbox emails on the record the caller may read.

    ``id`` is always a string of digits (Zoho sends strings; numbers are converted without
    loss). ``type`` is the mailbox protocol, Zoho's ``_type``: ``imap``, ``pop`` or ``api``.
    """

    id: str
    name: str
    type: str


@dataclass(frozen=True)
class SharingDetails:
    """The answer of ``__emails_sharing_details``: who shares emails of a record, and how."""

    available_types: list[str]
    share_from_users: list[ShareFromUser]


@dataclass(frozen=True)
class ActionResult:
    """One entry of a share/unshare answer: the outcome for one record id.

    ``status`` is ``success`` or ``error``; ``code``, ``message`` and ``details`` are Zoho's.
    ``id`` is the record id (from ``details.id``, or the request's id at that position).
    """

    id: str | None
    status: str
    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The server applied the change for this record."""
        return self.status == "success"

    @property
    def in_effect(self) -> bool:
        """The state asked for holds: applied now, or already so (``ALREADY_SHARED`` for a
        share, ``NOT_SHARED`` for an unshare). Use this after retries, where an entry may
        report the effect of an earlier attempt of the same call."""
        return self.ok or self.code in STATE_ALREADY_HOLDS


@dataclass(frozen=True)
class CurrentUser:
    """The token's user, from ``GET /crm/{v}/users?type=CurrentUser``. ``raw`` has every
    field Zoho sent."""

    id: str
    full_name: str
    email: str
    status: str
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Org:
    """The token's org, from ``GET /crm/{v}/org``. ``raw`` has every field Zoho sent."""

    id: str
    company_name: str
    zgid: str
    raw: Mapping[str, Any] = field(default_factory=dict)
