"""Explain the emails list: for a caller and a record, why each email is or is not listed.

Built on the pure rules of ``domain.emails`` (docs/contract.md §12.3) and the one mailbox
decision of ``domain.rules`` (the one ``share_from_users`` comes from): what is listed, and in
which place, is ``emails.listing`` itself; each email's reason is read from the same decisions
(``type_spec``, ``associated``, ``share_decision``, ``crm_visible``), never derived again. The
caller of this module (the admin API) has already checked that the caller may read the record.

Reasons (:class:`Reason`): a listed email is ``crm_visible`` or ``mailbox_shared``; one left out
is ``not_associated`` (no address of the record matches), ``owner_not_shared`` (the owner's
sharing is private, custom and not shared, or they have no usable mailbox: the detail names
which), ``caller_no_mailbox`` (the default list has mailbox emails only for a caller with a
mailbox), ``crm_hidden`` (``Emails`` is private), ``contact_not_readable``, ``other_owner``
(``owner_id`` names someone else) or ``kind_not_in_type``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from emailshare.domain import emails as rules
from emailshare.domain import rules as sharing
from emailshare.domain.errors import ZohoError, invalid_param
from emailshare.domain.mail import Email, EmailKind
from emailshare.domain.model import DataSharing, Org, Record, User
from emailshare.domain.rules import ShareDecision
from emailshare.service.explain_layout import printable

MAX_EXPLAINED = 500  # emails explained per answer; the rest are counted


class Reason(StrEnum):
    CRM_VISIBLE = "crm_visible"
    MAILBOX_SHARED = "mailbox_shared"
    NOT_ASSOCIATED = "not_associated"
    OWNER_NOT_SHARED = "owner_not_shared"
    CALLER_NO_MAILBOX = "caller_no_mailbox"
    CRM_HIDDEN = "crm_hidden"
    CONTACT_NOT_READABLE = "contact_not_readable"
    OTHER_OWNER = "other_owner"
    KIND_NOT_IN_TYPE = "kind_not_in_type"


_OWNER_DETAIL = {
    ShareDecision.CALLER: "the caller's own mailbox",
    ShareDecision.PUBLIC: "the owner's email sharing is public",
    ShareDecision.CUSTOM_SHARED: "the owner's sharing is custom and they shared this record",
    ShareDecision.NOT_ACTIVE: "the owner is not active",
    ShareDecision.NO_MAILBOX: "the owner has no mailbox",
    ShareDecision.MAILBOX_DISABLED: "the owner's mailbox is disabled",
    ShareDecision.PRIVATE: "the owner's email sharing is private",
    ShareDecision.CUSTOM_NOT_SHARED: "the owner's sharing is custom and they have not shared "
    "this record",
}


@dataclass(frozen=True, slots=True)
class EmailVerdict:
    """One email: listed or not (and where), and why."""

    email: Email
    position: int | None  # 1-based place in the whole list (page = (position - 1) // 10 + 1)
    reason: Reason
    detail: str

    @property
    def listed(self) -> bool:
        return self.position is not None


@dataclass(frozen=True, slots=True)
class EmailsExplanation:
    """The list for one caller, record, ``type`` and ``owner_id``: its outcome (the number of
    emails listed, or the error) and a verdict for each email that could concern the record."""

    type: str | None
    owner_id: int | None
    outcome: int | ZohoError
    verdicts: tuple[EmailVerdict, ...]
    left_out: int  # emails past MAX_EXPLAINED


def explain(
    org: Org, caller: User, record: Record, type_: str | None, owner_id: int | None
) -> EmailsExplanation:
    """Why each email of the org is or is not in ``GET …/{record}/Emails`` for ``caller``."""
    spec = rules.type_spec(type_, record.module)
    if spec is None:
        return EmailsExplanation(type_, owner_id, invalid_param("type"), (), 0)
    try:
        shown = rules.listing(org, caller, record, spec, owner_id)
    except ZohoError as error:
        return EmailsExplanation(type_, owner_id, error, (), 0)
    places = {x.email.message_id: i for i, x in enumerate(shown, start=1)}
    contacts = {c.id: c for c in rules.contacts_of(org, record)}
    candidates = [
        e
        for e in org.mail.emails
        if e.kind is EmailKind.MAILBOX or e.record == record.id or e.record in contacts
    ]
    candidates.sort(key=lambda e: (e.message_id not in places, *rules.order_key(e)))
    verdicts = [
        _verdict(org, caller, record, spec, owner_id, contacts, e, places.get(e.message_id))
        for e in candidates[:MAX_EXPLAINED]
    ]
    left_out = max(0, len(candidates) - MAX_EXPLAINED)
    return EmailsExplanation(type_, owner_id, len(shown), tuple(verdicts), left_out)


def _addresses(org: Org, record: Record) -> list[str]:
    basis = rules.association_basis(record.module)
    sources = rules.contacts_of(org, record) if basis is rules.Basis.CONTACTS_ADDRESSES else []
    if basis is rules.Basis.OWN_ADDRESSES:
        sources = [record]
    return [a for r in sources for a in org.mail.addresses.get(r.id, ())]


def _verdict(
    org: Org,
    caller: User,
    record: Record,
    spec: rules.TypeSpec,
    owner_id: int | None,
    contacts: dict[int, Record],
    email: Email,
    position: int | None,
) -> EmailVerdict:
    if email.kind.from_crm:
        reason, detail = _crm_reason(org, caller, record, spec, contacts, email)
    else:
        reason, detail = _mailbox_reason(org, caller, record, spec, owner_id, email)
    listed_reason = reason in (Reason.CRM_VISIBLE, Reason.MAILBOX_SHARED)
    if listed_reason != (position is not None):  # the rules and the list disagree: say so
        detail += "; but the list says otherwise"
    return EmailVerdict(email, position, reason, detail)


def _crm_reason(
    org: Org,
    caller: User,
    record: Record,
    spec: rules.TypeSpec,
    contacts: dict[int, Record],
    email: Email,
) -> tuple[Reason, str]:
    kind = email.kind.value
    on_contact = email.record in contacts
    if email.kind not in spec.crm_kinds or on_contact != spec.on_contacts:
        where = "a Contact of the record" if on_contact else "the record"
        return Reason.KIND_NOT_IN_TYPE, f"a {kind} CRM email of {where}: not what this type lists"
    if on_contact and not rules._may_read(org, caller, contacts[email.record or 0]):
        return Reason.CONTACT_NOT_READABLE, "a CRM email of a Contact the caller may not read"
    if not rules._crm_visible(org, caller, email):
        return Reason.CRM_HIDDEN, (
            "Emails data sharing is private: only the owner, users above the owner's role "
            "and administrators see CRM emails"
        )
    level = rules.emails_sharing(org)
    why = "Emails data sharing is " + level.value
    if level is DataSharing.PRIVATE:
        why += ", and the caller is the owner, above the owner's role or an administrator"
    return Reason.CRM_VISIBLE, f"a {kind} CRM email; {why}"


def _mailbox_reason(
    org: Org,
    caller: User,
    record: Record,
    spec: rules.TypeSpec,
    owner_id: int | None,
    email: Email,
) -> tuple[Reason, str]:
    if spec.mailbox is rules.MailboxPart.NONE:
        return Reason.KIND_NOT_IN_TYPE, "a mailbox email: this type lists CRM emails only"
    if not rules.associated(org, record, email):
        basis = rules.association_basis(record.module)
        if basis is rules.Basis.LINKED_DEAL:
            return Reason.NOT_ASSOCIATED, "not linked to this Deal"
        known = ", ".join(_addresses(org, record)) or "none"
        return Reason.NOT_ASSOCIATED, (
            f"no address of the record matches (from/to/cc: {', '.join(email.addresses)}; "
            f"the record's: {known})"
        )
    owner = org.user(email.owner)
    decision = (
        sharing.share_decision(owner, caller.id, record.emails_shared_by)
        if owner is not None
        else ShareDecision.NOT_ACTIVE
    )
    name = owner.name if owner else str(email.owner)
    if (
        spec.mailbox is rules.MailboxPart.ALWAYS
        and owner_id is not None
        and owner_id != email.owner
    ):
        return Reason.OTHER_OWNER, f"{name}'s email; owner_id names another user"
    if not decision.included:
        return Reason.OWNER_NOT_SHARED, f"{name}'s mailbox: {_OWNER_DETAIL[decision]}"
    if spec.mailbox is rules.MailboxPart.IF_CALLER_HAS_MAILBOX and not caller.mailbox_readable:
        return Reason.CALLER_NO_MAILBOX, (
            "the list without type has mailbox emails only for a caller with an active, "
            "enabled mailbox"
        )
    return Reason.MAILBOX_SHARED, f"{name}'s mailbox: {_OWNER_DETAIL[decision]}"


# --- layouts --------------------------------------------------------------------------------


def as_document(exp: EmailsExplanation) -> dict[str, Any]:
    """The explanation as plain JSON values (the admin API adds it to the explain document)."""
    outcome = exp.outcome
    return {
        "type": exp.type,
        "owner_id": str(exp.owner_id) if exp.owner_id is not None else None,
        "listed": outcome if isinstance(outcome, int) else None,
        "error": (
            {"code": outcome.code, "message": outcome.message, "details": outcome.details}
            if isinstance(outcome, ZohoError)
            else None
        ),
        "emails": [
            {
                "message_id": v.email.message_id,
                "kind": v.email.kind.value,
                "owner": str(v.email.owner),
                "subject": v.email.subject,
                "time": v.email.time.isoformat(),
                "listed": v.listed,
                "position": v.position,
                "page": (v.position - 1) // rules.PER_PAGE + 1 if v.position else None,
                "reason": v.reason.value,
                "detail": v.detail,
            }
            for v in exp.verdicts
        ],
        "left_out": exp.left_out,
    }


def as_text(exp: EmailsExplanation) -> str:
    """The explanation for a terminal: one line per email."""
    head = f"emails (type {exp.type or 'absent'}"
    head += f", owner_id {exp.owner_id})" if exp.owner_id is not None else ")"
    if isinstance(exp.outcome, ZohoError):
        return (
            printable(f"{head}: the list answers {exp.outcome.code} {exp.outcome.message}") + "\n"
        )
    lines = [f"{head}: {exp.outcome} listed (docs/contract.md §12.3)"]
    rows: list[Sequence[str]] = [("#", "in", "message_id", "kind", "reason", "why")]
    for v in exp.verdicts:
        place = str(v.position) if v.position else "-"
        rows.append(
            (
                place,
                "yes" if v.listed else "no",
                v.email.message_id,
                v.email.kind.value,
                v.reason.value,
                v.detail,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    if exp.left_out:
        lines.append(f"  ... and {exp.left_out} more emails not explained")
    return "\n".join(printable(line) for line in lines) + "\n"
