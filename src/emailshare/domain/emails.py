"""Which emails of a record a caller sees (docs/contract.md §12.3), in one pure module.

Built on the sharing rules: whose mailbox emails the caller may read is
``rules.mailbox_decision`` (the same decision ``share_from_users`` comes from), and whether a
CRM email is visible is ``rules.read_rule`` applied to the org's ``Emails`` data-sharing level.

Two kinds of caller use this module, as with ``rules``:

* the store's path gathers small facts in SQL and asks the decisions here (``type_spec``,
  ``association_basis``, ``crm_visible``, ``check_open``, ``address_key``);
* ``listing`` and ``open_email`` compute everything from an in-memory :class:`Org`: the
  reference the property-based test holds the server to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from emailshare.domain import rules
from emailshare.domain.errors import (
    colleague_not_shared,
    invalid_message_id,
    no_read_permission,
    not_in_mailbox,
)
from emailshare.domain.mail import Email, EmailKind
from emailshare.domain.model import DataSharing, Org, Profile, Record, User
from emailshare.domain.modules import GATHERS_CONTACTS, SUPPORTED

PER_PAGE = 10
EMAILS_SHARING = "Emails"  # the data-sharing key that governs CRM emails
DEFAULT_EMAILS_SHARING = DataSharing.PUBLIC
# Standard modules whose records have email addresses (custom modules have them too).
ADDRESSED_STANDARD = frozenset({"Leads", "Contacts"})


def address_key(address: str) -> str:
    """An address as compared: ASCII letters folded to lower case, nothing else changed."""
    return address.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Basis(StrEnum):
    """How a record's mailbox emails are found (the association, defined once)."""

    OWN_ADDRESSES = "own_addresses"  # an address of from/to/cc is one of the record's
    CONTACTS_ADDRESSES = "contacts_addresses"  # ... one of its Contacts' (an Account)
    LINKED_DEAL = "linked_deal"  # the email is linked to the record (a Deal)
    NONE = "none"


def association_basis(module: str) -> Basis:
    """Which emails of a mailbox belong to a record of ``module`` (a custom module has
    addresses, like Leads and Contacts)."""
    if module in ADDRESSED_STANDARD or module not in SUPPORTED:
        return Basis.OWN_ADDRESSES
    if module == "Accounts":
        return Basis.CONTACTS_ADDRESSES
    if module == "Deals":
        return Basis.LINKED_DEAL
    return Basis.NONE


def has_addresses(module: str) -> bool:
    return association_basis(module) is Basis.OWN_ADDRESSES


class MailboxPart(StrEnum):
    NONE = "none"
    IF_CALLER_HAS_MAILBOX = "if_caller_has_mailbox"
    ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """What one ``type`` lists: CRM emails of these kinds (of the record, or of its
    Contacts), and maybe the record's mailbox emails."""

    crm_kinds: frozenset[EmailKind]
    on_contacts: bool
    mailbox: MailboxPart


_SENT, _SCHEDULED, _DRAFT = EmailKind.SENT, EmailKind.SCHEDULED, EmailKind.DRAFT
_TYPES: dict[str | None, TypeSpec] = {
    None: TypeSpec(frozenset({_SENT, _SCHEDULED}), False, MailboxPart.IF_CALLER_HAS_MAILBOX),
    "sent_from_crm": TypeSpec(frozenset({_SENT}), False, MailboxPart.NONE),
    "scheduled_in_crm": TypeSpec(frozenset({_SCHEDULED}), False, MailboxPart.NONE),
    "drafts": TypeSpec(frozenset({_DRAFT}), False, MailboxPart.NONE),
    "user_emails": TypeSpec(frozenset(), False, MailboxPart.ALWAYS),
    "all_contacts_sent_crm_emails": TypeSpec(frozenset({_SENT}), True, MailboxPart.NONE),
    "all_contacts_scheduled_crm_emails": TypeSpec(frozenset({_SCHEDULED}), True, MailboxPart.NONE),
    "all_contacts_draft_crm_emails": TypeSpec(frozenset({_DRAFT}), True, MailboxPart.NONE),
}


def type_spec(type_: str | None, module: str) -> TypeSpec | None:
    """The spec of a ``type`` value on a record of ``module``; None when it is not one."""
    spec = _TYPES.get(type_)
    if spec is None or (spec.on_contacts and module not in GATHERS_CONTACTS):
        return None
    return spec


def crm_visible(
    emails_sharing: DataSharing, caller_is_admin: bool, caller_is_owner: bool, above_owner: bool
) -> bool:
    """A CRM email is visible unless ``Emails`` is private; then only to its owner, users
    whose role is above the owner's, and administrators: the record read rule, no shares."""
    facts = rules.ReadFacts(caller_is_admin, caller_is_owner, above_owner, emails_sharing, False)
    return rules.read_rule(facts) is not None


@dataclass(frozen=True, slots=True)
class MailboxScope:
    """Whether a list holds the record's mailbox emails at all, and whose: every owner in S
    (``owner`` None) or only ``owner``'s (``type=user_emails&owner_id=U``)."""

    listed: bool
    owner: int | None


def mailbox_scope(spec: TypeSpec, caller_has_mailbox: bool, owner: int | None) -> MailboxScope:
    """Which of the record's mailbox emails a list of ``spec`` may hold (before S)."""
    if spec.mailbox is MailboxPart.NONE:
        return MailboxScope(False, None)
    if spec.mailbox is MailboxPart.IF_CALLER_HAS_MAILBOX and not caller_has_mailbox:
        return MailboxScope(False, None)
    return MailboxScope(True, owner if spec.mailbox is MailboxPart.ALWAYS else None)


def mailbox_owners(
    spec: TypeSpec, caller_has_mailbox: bool, readable: Iterable[int], owner: int | None
) -> frozenset[int]:
    """The owners whose mailbox emails of the record are listed: S, maybe cut to ``owner``."""
    scope = mailbox_scope(spec, caller_has_mailbox, owner)
    if not scope.listed:
        return frozenset()
    s = frozenset(readable)
    return s if scope.owner is None else s & {scope.owner}


def check_owner(spec: TypeSpec, owner: int | None, caller_id: int, readable: bool) -> None:
    """``type=user_emails&owner_id=U`` with U a colleague whose emails the caller may not
    read: ``NO_PERMISSION`` (docs/contract.md §12.3)."""
    colleague = owner is not None and owner != caller_id
    if spec.mailbox is MailboxPart.ALWAYS and colleague and not readable:
        raise colleague_not_shared()


def check_open(
    email: Email, requested_owner: int, caller_id: int, owner_readable: bool, visible: bool
) -> None:
    """Whether one email of the record may be opened (docs/contract.md §12.5), else the error.

    ``requested_owner`` is ``owner_id``/``user_id`` (the caller when absent); for a mailbox
    email ``owner_readable`` says whether its owner is in S; for a CRM email ``visible`` says
    whether the caller may see it (``crm_visible``, and the Contact readable when it is a
    Contact's email opened through its Account or Deal).
    """
    if email.kind.from_crm:
        if not visible:
            raise no_read_permission()
        return
    if email.owner != requested_owner:
        raise not_in_mailbox()
    if not owner_readable:
        raise not_in_mailbox() if requested_owner == caller_id else colleague_not_shared()


def editable(email: Email, caller_id: int) -> bool:
    """Only a draft, and only by its owner [model]."""
    return email.kind is EmailKind.DRAFT and email.owner == caller_id


Position = tuple[int, str]  # (time in epoch seconds, message id): the keyset of the order


def order_key(email: Email) -> tuple[int, str]:
    """Newest first, then by message id (code point order)."""
    return (-email.epoch, email.message_id)


def position(email: Email) -> Position:
    return (email.epoch, email.message_id)


def after(pos: Position, email: Email) -> bool:
    """Whether ``email`` comes after ``pos`` in newest-first order."""
    return (-email.epoch, email.message_id) > (-pos[0], pos[1])


@dataclass(frozen=True, slots=True)
class Listed:
    """One email as a list or one-email answer shows it, with what it needs from the org."""

    email: Email
    owner_name: str
    linked_name: str | None  # the linked Deal's name, None when not linked (or gone)
    thread_attachment: bool  # an email of the same owner and thread has attachments


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a list: its items, where the next page starts (None: the last page) and
    where the previous page starts (None: the first page, ``"0"`` on the wire)."""

    items: Sequence[Listed]
    next_after: Position | None
    prev_after: Position | None
    first: bool  # this is the first page (its prev_index is "0")


def paginate(ordered: Sequence[Listed], start: Position | None) -> Page:
    """The page after ``start`` (None: the first), from every listed email in order."""
    rest = [x for x in ordered if start is None or after(start, x.email)]
    before = [x for x in ordered if start is not None and not after(start, x.email)]
    items = rest[:PER_PAGE]
    next_after = position(items[-1].email) if len(rest) > PER_PAGE else None
    prev_after = None
    if len(before) > PER_PAGE:  # the previous page starts after the 11th email back
        prev_after = position(before[-PER_PAGE - 1].email)
    return Page(items, next_after, prev_after, start is None)


# --- the reference: everything computed from an in-memory Org ------------------------------


def emails_sharing(org: Org) -> DataSharing:
    return org.data_sharing.get(EMAILS_SHARING, DEFAULT_EMAILS_SHARING)


def contacts_of(org: Org, record: Record) -> list[Record]:
    """The live Contacts of an Account or a Deal, by id."""
    if record.module == "Accounts":
        ids = [c for c, a in org.mail.accounts.items() if a == record.id]
    elif record.module == "Deals":
        ids = list(org.mail.contacts.get(record.id, ()))
    else:
        return []
    found = [org.record(i) for i in sorted(ids)]
    return [r for r in found if r is not None and not r.deleted and r.module == "Contacts"]


def associated(org: Org, record: Record, email: Email) -> bool:
    """Whether a mailbox email belongs to ``record`` (docs/contract.md §12.3)."""
    basis = association_basis(record.module)
    if basis is Basis.LINKED_DEAL:
        return email.linked_deal == record.id
    if basis is Basis.OWN_ADDRESSES:
        sources = [record]
    elif basis is Basis.CONTACTS_ADDRESSES:
        sources = contacts_of(org, record)
    else:
        return False
    keys = {address_key(a) for r in sources for a in org.mail.addresses.get(r.id, ())}
    return any(address_key(a) in keys for a in email.addresses)


def listed(org: Org, email: Email) -> Listed:
    owner = org.user(email.owner)
    deal = org.record(email.linked_deal) if email.linked_deal is not None else None
    thread = email.thread_id is not None and any(
        e.attachments
        for e in org.mail.emails
        if e.owner == email.owner and e.thread_id == email.thread_id
    )
    return Listed(
        email,
        owner.name if owner else "",
        deal.name if deal is not None and not deal.deleted else None,
        thread or bool(email.attachments),
    )


def _may_read(org: Org, caller: User, record: Record) -> bool:
    return rules.read_rule(rules.read_facts(org, caller, record)) is not None


def _crm_visible(org: Org, caller: User, email: Email) -> bool:
    owner = org.user(email.owner)
    above = caller.role is not None and caller.role in org.role_ancestors(
        owner.role if owner else None
    )
    admin = caller.profile is Profile.ADMINISTRATOR
    return crm_visible(emails_sharing(org), admin, caller.id == email.owner, above)


def listing(
    org: Org, caller: User, record: Record, spec: TypeSpec, owner: int | None
) -> list[Listed]:
    """Every email the list shows, in order, for a caller who may read ``record``; raises
    ``NO_PERMISSION`` for ``user_emails`` of a colleague not in S."""
    readable = rules.readable_mailboxes(org, caller, record)
    check_owner(spec, owner, caller.id, owner in readable)
    crm_records = {record.id}
    if spec.on_contacts:
        crm_records = {c.id for c in contacts_of(org, record) if _may_read(org, caller, c)}
    owners = mailbox_owners(spec, caller.mailbox_readable, readable, owner)
    shown = [
        e
        for e in org.mail.emails
        if (e.kind in spec.crm_kinds and e.record in crm_records and _crm_visible(org, caller, e))
        or (e.kind is EmailKind.MAILBOX and e.owner in owners and associated(org, record, e))
    ]
    return [listed(org, e) for e in sorted(shown, key=order_key)]


def open_email(
    org: Org, caller: User, record: Record, message_id: str, owner: int | None
) -> Listed:
    """One email of ``record`` for a caller who may read the record, or its error."""
    email = org.mail.email(message_id)
    contacts = {c.id: c for c in contacts_of(org, record)}
    if email is None:
        raise invalid_message_id()
    if email.kind.from_crm:
        if email.record != record.id and email.record not in contacts:
            raise invalid_message_id()
    elif not associated(org, record, email):
        raise invalid_message_id()
    visible = _crm_visible(org, caller, email)
    if email.kind.from_crm and email.record in contacts:
        visible = visible and _may_read(org, caller, contacts[email.record])
    readable = email.owner in rules.readable_mailboxes(org, caller, record)
    check_open(email, owner if owner is not None else caller.id, caller.id, readable, visible)
    return listed(org, email)
