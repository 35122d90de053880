"""Which of a record's emails the caller sees, decided row by row, and a run of them read in
as few statements as the store can serve (the emails list, docs/contract.md §12.3).

The decisions are the domain's: a CRM email is shown when ``domain.emails.crm_visible``, a
mailbox email when its owner is in S (``domain.rules.mailbox_decision``, the function that
``share_from_users`` comes from), from the org's :class:`~emailshare.domain.email_reads.People`
and what the store read beside each email (its owner's record-level share).
"""

from __future__ import annotations

from typing import Protocol

from emailshare.domain import emails as rules
from emailshare.domain.email_reads import Bound, Found, Head, Hidden, Item, People, Selection
from emailshare.domain.mail import EmailKind
from emailshare.domain.model import EmailSharing
from emailshare.domain.rules import MailboxFacts, mailbox_decision
from emailshare.service.auth import Caller

_MAX_HIDDEN = 500  # owners left out in SQL; past that, other hidden owners' rows are skipped


class CandidateReads(Protocol):
    async def candidates(
        self, org_id: int, selection: Selection, bound: Bound | None, limit: int, hidden: Hidden
    ) -> list[Head]: ...


def mailbox_facts(people: People, user_id: int, caller_id: int, shared: bool) -> MailboxFacts:
    """What decides whether the caller reads ``user_id``'s mailbox emails on a record on which
    the user's record-level share is ``shared``; a user unknown to the org has no mailbox."""
    person = people.users.get(user_id)
    if person is None:
        return MailboxFacts(False, False, False, user_id == caller_id, EmailSharing.PRIVATE, shared)
    return MailboxFacts(
        person.active,
        person.has_mailbox,
        person.mailbox_enabled,
        user_id == caller_id,
        person.email_sharing,
        shared,
    )


def shown(people: People, caller: Caller, kind: str, owner: int, owner_shared: bool) -> bool:
    """Whether the caller sees an email of the record of ``kind`` by ``owner`` (for a mailbox
    email, ``owner_shared``: the owner's record-level share of it; docs/contract.md §12.3)."""
    if kind != EmailKind.MAILBOX:
        person = people.users.get(owner)
        above = person is not None and people.above(caller.role_id, person.role)
        return rules.crm_visible(
            people.emails_sharing, caller.is_admin, owner == caller.user_id, above
        )
    return mailbox_decision(mailbox_facts(people, owner, caller.user_id, owner_shared)).included


def owner_name(people: People, user_id: int) -> str:
    """The name an email of ``user_id`` shows ("" when no user)."""
    person = people.users.get(user_id)
    return person.name if person is not None else ""


def listed(people: People, found: Found) -> rules.Listed:
    """The one email as the answer shows it."""
    name = owner_name(people, found.email.owner)
    return rules.Listed(found.email, name, found.linked_name, found.thread_attachment)


async def run(
    reads: CandidateReads,
    people: People,
    caller: Caller,
    selection: Selection,
    bound: Bound | None,
    want: int,
) -> list[Item]:
    """Up to ``want`` emails of ``selection`` that the caller sees, past ``bound``, each with
    its owner's name.

    The store reads ``want`` candidates in order; each is decided here. When some were hidden
    and more may follow, the next read starts after the last candidate, leaves the hidden
    owners out in SQL and reads twice as many: an owner the caller may not read costs one more
    statement at most, never one per email, and a record's emails are never all read in
    Python to fill a page.
    """
    found: list[Item] = []
    hidden_crm: set[int] = set()
    hidden_mailbox: set[int] = set()
    limit = want
    while True:
        hidden = Hidden(frozenset(hidden_crm), frozenset(hidden_mailbox))
        rows = await reads.candidates(caller.org_id, selection, bound, limit, hidden)
        for row in rows:
            if shown(people, caller, row.kind, row.owner, row.owner_shared):
                found.append((row, owner_name(people, row.owner)))
                continue
            skipped = hidden_mailbox if row.kind == EmailKind.MAILBOX else hidden_crm
            if len(skipped) < _MAX_HIDDEN:
                skipped.add(row.owner)
        if len(found) >= want or len(rows) < limit:
            return found[:want]
        backwards = bound is not None and bound.backwards
        bound = Bound(rows[-1].position, backwards, False)
        limit *= 2
