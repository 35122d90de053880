"""The sharing rules, in one pure module (docs/contract.md §§5 and 6, the **[model]** parts).

Two entry points serve two callers:

* ``read_rule`` and ``share_decision`` decide from small facts. The store's fast path gathers
  those facts in SQL and asks these functions, so a rule lives here and only here.
* ``sharing_details`` computes a whole answer from an in-memory :class:`Org`. It is the
  reference the property-based test holds the server's answer to, and what ``explain`` uses.
"""

from __future__ import annotations

import itertools
from bisect import insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter

from emailshare.domain.model import DataSharing, EmailSharing, Org, Profile, Record, User
from emailshare.domain.views import RecordAccess

MAX_SHARE_FROM_USERS = 50


class ReadRule(StrEnum):
    """Why a caller may read a record; checked in this order."""

    ADMINISTRATOR = "administrator"
    OWNER = "owner"
    SUPERIOR_ROLE = "superior_role"
    PUBLIC_MODULE = "public_data_sharing"
    RECORD_SHARE = "record_shared_with_caller"


@dataclass(frozen=True, slots=True)
class ReadFacts:
    """What decides whether the caller may read one record."""

    caller_is_admin: bool
    caller_is_owner: bool
    caller_role_above_owner: bool
    module_sharing: DataSharing
    shared_with_caller: bool


def read_rule(facts: ReadFacts) -> ReadRule | None:
    """The first rule that lets the caller read the record, or None (``NO_PERMISSION``)."""
    return _read_rule(
        facts.caller_is_admin,
        facts.caller_is_owner,
        facts.caller_role_above_owner,
        facts.module_sharing,
        facts.shared_with_caller,
    )


def _read_rule(
    caller_is_admin: bool,
    caller_is_owner: bool,
    caller_role_above_owner: bool,
    module_sharing: DataSharing,
    shared_with_caller: bool,
) -> ReadRule | None:
    """:func:`read_rule` of its facts given one by one (the rule's one spelling)."""
    if caller_is_admin:
        return ReadRule.ADMINISTRATOR
    if caller_is_owner:
        return ReadRule.OWNER
    if caller_role_above_owner:
        return ReadRule.SUPERIOR_ROLE
    if module_sharing.everyone_reads:
        return ReadRule.PUBLIC_MODULE
    if shared_with_caller:
        return ReadRule.RECORD_SHARE
    return None


def access_read_rule(
    access: RecordAccess, caller_id: int, caller_is_admin: bool
) -> ReadRule | None:
    """:func:`read_rule` for the facts the store gathered about one record (``RecordAccess``),
    on every computed answer: the facts go to the rule as they are, without a
    :class:`ReadFacts` (a frozen dataclass of five fields: ~1.5 µs to make)."""
    return _read_rule(
        caller_is_admin,
        caller_id == access.owner_id,
        access.caller_role_above_owner,
        access.module_sharing,
        access.shared_with_caller,
    )


class ShareDecision(StrEnum):
    """Why a user is in, or out of, ``share_from_users`` for one caller and record."""

    CALLER = "caller"
    PUBLIC = "public_email_sharing"
    CUSTOM_SHARED = "custom_sharing_record_shared"
    NOT_ACTIVE = "user_not_active"
    NO_MAILBOX = "no_mailbox"
    MAILBOX_DISABLED = "mailbox_disabled"
    PRIVATE = "private_email_sharing"
    CUSTOM_NOT_SHARED = "custom_sharing_record_not_shared"

    @property
    def included(self) -> bool:
        return self in _INCLUDED


_INCLUDED = frozenset({ShareDecision.CALLER, ShareDecision.PUBLIC, ShareDecision.CUSTOM_SHARED})


@dataclass(frozen=True, slots=True)
class MailboxFacts:
    """What decides whether a caller may read one user's mailbox emails on one record."""

    active: bool
    has_mailbox: bool
    mailbox_enabled: bool
    is_caller: bool
    email_sharing: EmailSharing
    shared_this_record: bool  # the user's record-level email share of the record is on


def mailbox_decision(facts: MailboxFacts) -> ShareDecision:
    """Whose mailbox emails on a record the caller may read, and why: the one definition.

    ``share_from_users`` (docs/contract.md §6) and the emails a caller may list
    (docs/contract.md §12.3) both come from this function.
    """
    if not facts.active:
        return ShareDecision.NOT_ACTIVE
    if not facts.has_mailbox:
        return ShareDecision.NO_MAILBOX
    if not facts.mailbox_enabled:
        return ShareDecision.MAILBOX_DISABLED
    if facts.is_caller:
        return ShareDecision.CALLER
    if facts.email_sharing is EmailSharing.PUBLIC:
        return ShareDecision.PUBLIC
    if facts.email_sharing is EmailSharing.CUSTOM:
        if facts.shared_this_record:
            return ShareDecision.CUSTOM_SHARED
        return ShareDecision.CUSTOM_NOT_SHARED
    return ShareDecision.PRIVATE


def share_decision(user: User, caller_id: int, emails_shared_by: frozenset[int]) -> ShareDecision:
    """Whether ``user``'s mailbox emails on the record are readable by the caller, and why."""
    return mailbox_decision(
        MailboxFacts(
            active=user.status.value == "active",
            has_mailbox=user.mailbox is not None,
            mailbox_enabled=user.mailbox is not None and user.mailbox.enabled,
            is_caller=user.id == caller_id,
            email_sharing=user.email_sharing,
            shared_this_record=user.id in emails_shared_by,
        )
    )


def order_key(name: str, user_id: int) -> tuple[str, int]:
    """Order after the caller: the name's case fold by code point, then the numeric id."""
    return (name.casefold(), user_id)


def available_types(gathers_contacts: bool, any_share_from_users: bool) -> list[str]:
    """The email filter types, always in Zoho's order, each only when its rule holds."""
    types = ["emails_sent_from_crm"]
    if gathers_contacts:
        types.append("all_contacts_emails")
    if any_share_from_users:
        types.append("all_imap_shared_users")
    types.append("all_emails")
    return types


@dataclass(frozen=True, slots=True)
class ShareFromUser:
    id: int
    name: str
    protocol: str
    key: tuple[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The sort key, computed once: answers sort the same users again and again.
        object.__setattr__(self, "key", order_key(self.name, self.id))


@dataclass(frozen=True, slots=True)
class SharingDetails:
    """The answer of ``__emails_sharing_details``, free of any wire spelling."""

    available_types: Sequence[str]
    share_from_users: Sequence[ShareFromUser]


_KEY = attrgetter("key")


def assemble(
    caller: ShareFromUser | None, others: Iterable[ShareFromUser], gathers_contacts: bool
) -> SharingDetails:
    """Caller first, then ``others`` in :func:`order_key` order, at most 50 in all."""
    return assemble_ordered(caller, ordered(others), gathers_contacts)


def assemble_ordered(
    caller: ShareFromUser | None, others: Sequence[ShareFromUser], gathers_contacts: bool
) -> SharingDetails:
    """:func:`assemble` for ``others`` already in :func:`order_key` order (the server keeps
    each org's public sharers so: an answer then sorts nothing)."""
    if caller is None:
        users = list(others[:MAX_SHARE_FROM_USERS])
    else:
        users = [caller, *others[: MAX_SHARE_FROM_USERS - 1]]
    return SharingDetails(available_types(gathers_contacts, bool(users)), users)


def ordered(users: Iterable[ShareFromUser]) -> list[ShareFromUser]:
    """``users`` in :func:`order_key` order."""
    return sorted(users, key=_KEY)


_FEW = 8  # at most this many in the second list: inserted one by one


def merged(*lists: Iterable[ShareFromUser]) -> list[ShareFromUser]:
    """Lists each in :func:`order_key` order, merged into one in that order, those of an
    earlier list first among equal keys (as a stable sort of them all).

    An answer merges the record's custom sharers, one or two, into its org's public sharers
    (~50): each is inserted where ``bisect`` says (after any equal key), ~0.5 µs, where sorting
    the ~52 again took 3-7 µs. Otherwise Timsort finds the ordered runs and merges them
    (faster here than ``heapq.merge``'s generator)."""
    if len(lists) == 2:
        first, second = lists
        few = isinstance(second, list | tuple) and len(second) <= _FEW
        if few and isinstance(first, list | tuple):
            out = list(first)
            for user in second:
                insort(out, user, key=_KEY)
            return out
    return sorted(itertools.chain(*lists), key=_KEY)


# --- the reference: everything computed from an in-memory Org ------------------------------


def read_facts(org: Org, caller: User, record: Record) -> ReadFacts:
    """Gather :class:`ReadFacts` from an in-memory org (the store does this in SQL)."""
    owner = org.user(record.owner)
    owner_role = owner.role if owner else None
    above = caller.role is not None and caller.role in org.role_ancestors(owner_role)
    return ReadFacts(
        caller_is_admin=caller.profile is Profile.ADMINISTRATOR,
        caller_is_owner=caller.id == record.owner,
        caller_role_above_owner=above,
        module_sharing=org.sharing_of(record.module),
        shared_with_caller=caller.id in record.shared_with,
    )


def share_decisions(org: Org, caller: User, record: Record) -> dict[int, ShareDecision]:
    """Every user of the org with the reason they are in or out of ``share_from_users``."""
    return {u.id: share_decision(u, caller.id, record.emails_shared_by) for u in org.users}


def readable_mailboxes(org: Org, caller: User, record: Record) -> frozenset[int]:
    """S: the users whose mailbox emails on ``record`` the caller may read; that is
    ``share_from_users`` without its cap of 50 (docs/contract.md §12.3)."""
    return frozenset(uid for uid, d in share_decisions(org, caller, record).items() if d.included)


def sharing_details(
    org: Org, caller: User, record: Record, gathers_contacts: bool
) -> SharingDetails:
    """The whole answer for a caller who may read ``record`` (checked apart)."""
    readable = readable_mailboxes(org, caller, record)
    entries = {
        u.id: ShareFromUser(u.id, u.name, u.mailbox.protocol.value)
        for u in org.users
        if u.id in readable and u.mailbox is not None
    }
    me = entries.pop(caller.id, None)
    return assemble(me, entries.values(), gathers_contacts)
