"""Explain an answer: for a caller and a record, every check and rule, from the pure rules.

Given a whole org (read back by ``storage.snapshot``), :func:`explain` walks the checks of
docs/contract.md §3 that depend on the caller and the record, in order, as a request with a
valid token holding every scope would meet them: the caller's status (a token of a user who is
not active is ``INVALID_TOKEN``), the module, the record, who may read it (section 5, every
rule with the fact behind it), then each user of the org and why they are in or out of
``share_from_users`` (section 6). The answer itself comes from ``rules.sharing_details``, the
reference the live endpoint is held equal to. Nothing here knows HTTP: the caller of this
module turns :attr:`Explanation.outcome` into a status and a body, and
``service.explain_layout`` lays the explanation out with that answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from emailshare.domain import modules, rules
from emailshare.domain.errors import (
    InvalidData,
    InvalidToken,
    NotSupported,
    ZohoError,
    invalid_record_path,
    no_read_permission,
)
from emailshare.domain.model import Org, Record, Role, Status, User
from emailshare.domain.modules import Module
from emailshare.domain.numbers import parse_id
from emailshare.domain.rules import ReadRule, ShareDecision


@dataclass(frozen=True, slots=True)
class Check:
    """One check of docs/contract.md §3, as this caller and record meet it."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Fact:
    """One rule of docs/contract.md §5 and whether it holds here."""

    rule: ReadRule
    holds: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ReadDecision:
    """Whether the caller may read the record, by which rule, and every fact behind it."""

    rule: ReadRule | None
    facts: tuple[Fact, ...]
    caller_role: Role | None
    owner: User | None
    owner_role_chain: tuple[Role, ...]  # the owner's role, then each role above it

    @property
    def may_read(self) -> bool:
        return self.rule is not None


@dataclass(frozen=True, slots=True)
class Verdict:
    """One user of the org: the rule's decision, and their place in the answer if any."""

    user: User
    decision: ShareDecision
    position: int | None  # 1-based place in share_from_users; None when not in the answer
    detail: str

    @property
    def included(self) -> bool:
        return self.position is not None


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything that decides the answer for one caller and one record."""

    org: Org
    caller: User
    module_name: str
    module: Module | None
    record: Record | None
    checks: tuple[Check, ...]
    read: ReadDecision | None  # None when the record is not found
    users: tuple[Verdict, ...]  # every user of the org, in answer order
    outcome: rules.SharingDetails | ZohoError


def explain(org: Org, caller_id: int, record_text: str, module_name: str | None) -> Explanation:
    """Explain what ``GET …/{module}/{record}/__emails_sharing_details`` answers the caller.

    ``module_name`` is the URL's module as written (matched as the endpoint matches it); when
    None, the record's own module. Raises ``InvalidData`` naming the parameter when the caller
    is not a user of the org, or when no module is given and the org has no such record.
    """
    caller = org.user(caller_id)
    if caller is None:
        raise InvalidData({"param_name": "caller"}, "the caller is not a user of this org")
    record_id = parse_id(record_text)
    if module_name is None:
        found = org.record(record_id) if record_id is not None else None
        if found is None:
            raise InvalidData({"param_name": "record"}, "no such record in this org; name a module")
        module_name = found.module
    checks: list[Check] = []
    failure: ZohoError | None = None

    active = caller.status is Status.ACTIVE
    checks.append(
        Check(
            "caller_active",
            active,
            f"{caller.name} is {caller.status.value}"
            + ("" if active else ": any token of theirs is INVALID_TOKEN"),
        )
    )
    if not active:
        failure = InvalidToken()

    module, module_error = _resolve_module(org, module_name)
    if module is not None:
        kind = "custom" if module.custom else "standard"
        module_detail = f"{module_name!r} is the {kind} module {module.api_name}"
    elif isinstance(module_error, NotSupported):
        module_detail = f"{module_name!r} is a Zoho module this API does not serve"
    else:
        module_detail = f"{module_name!r} is neither a supported nor a custom module of the org"
    checks.append(Check("module", module is not None, module_detail))
    failure = failure or module_error
    checks.append(Check("scopes", True, "assumed held: a token with every scope the call needs"))

    record = None
    if module is not None:
        candidate = org.record(record_id) if record_id is not None else None
        if candidate and candidate.module == module.api_name and not candidate.deleted:
            record = candidate
        checks.append(Check("record", record is not None, _record_detail(org, record_text, module)))
        if record is None:
            failure = failure or invalid_record_path()

    read = _read_decision(org, caller, record) if record is not None else None
    if read is not None:
        checks.append(
            Check(
                "read",
                read.may_read,
                f"by rule {read.rule.value}" if read.rule else "no rule lets the caller read it",
            )
        )
        if not read.may_read:
            failure = failure or no_read_permission()

    outcome: rules.SharingDetails | ZohoError
    if failure is None and record is not None and module is not None:
        outcome = rules.sharing_details(org, caller, record, module.gathers_contacts)
    else:
        outcome = failure or invalid_record_path()
    return Explanation(
        org=org,
        caller=caller,
        module_name=module_name,
        module=module,
        record=record,
        checks=tuple(checks),
        read=read,
        users=_verdicts(org, caller, record, outcome),
        outcome=outcome,
    )


def _resolve_module(org: Org, name: str) -> tuple[Module | None, ZohoError | None]:
    """The URL's module, matched by ``domain.modules.resolve`` as the endpoints match it."""
    folded = name.casefold()
    custom = next((c for c in org.custom_modules if c.casefold() == folded), None)
    try:
        return modules.resolve(name, custom if modules.may_be_custom(name) else None), None
    except ZohoError as exc:
        return None, exc


def _record_detail(org: Org, record_text: str, module: Module) -> str:
    record_id = parse_id(record_text)
    if record_id is None:
        return f"{record_text!r} is not a record id (1 to 19 digits, a positive 64-bit value)"
    found = org.record(record_id)
    if found is None:
        return f"no record {record_id} in {org.name}"
    if found.deleted:
        return f"record {record_id} {found.name!r} is deleted"
    if found.module != module.api_name:
        return f"record {record_id} is in {found.module}, not in {module.api_name}"
    return f"{found.module} record {record_id} {found.name!r}"


def _who(org: Org, user_id: int) -> str:
    user = org.user(user_id)
    return f"{user.name} ({user_id})" if user else str(user_id)


def _read_decision(org: Org, caller: User, record: Record) -> ReadDecision:
    facts = rules.read_facts(org, caller, record)
    roles = {r.id: r for r in org.roles}
    owner = org.user(record.owner)
    owner_role = roles.get(owner.role) if owner and owner.role is not None else None
    chain: tuple[Role, ...] = ()
    if owner_role is not None:
        chain = (owner_role, *(roles[i] for i in org.role_ancestors(owner_role.id)))
    caller_role = roles.get(caller.role) if caller.role is not None else None
    above_owner = ", ".join(r.name for r in chain[1:])
    if caller_role is None:
        above = "the caller has no role"
    elif owner_role is None:
        above = "the owner has no role, so no role is above it"
    else:
        verb = "is" if facts.caller_role_above_owner else "is not"
        above_it = f"roles above it: {above_owner}" if above_owner else "no role is above it"
        above = (
            f"the caller's role {caller_role.name} {verb} above the owner's role "
            f"{owner_role.name} ({above_it})"
        )
    shared = sorted(record.shared_with)
    module_level = facts.module_sharing.value
    found = (
        Fact(
            ReadRule.ADMINISTRATOR,
            facts.caller_is_admin,
            f"the caller's profile is {caller.profile.value}",
        ),
        Fact(
            ReadRule.OWNER,
            facts.caller_is_owner,
            f"the record's owner is {_who(org, record.owner)}",
        ),
        Fact(ReadRule.SUPERIOR_ROLE, facts.caller_role_above_owner, above),
        Fact(
            ReadRule.PUBLIC_MODULE,
            facts.module_sharing.everyone_reads,
            f"the org's data sharing for {record.module} is {module_level}",
        ),
        Fact(
            ReadRule.RECORD_SHARE,
            facts.shared_with_caller,
            "the record is shared with "
            + (", ".join(_who(org, u) for u in shared) if shared else "nobody"),
        ),
    )
    return ReadDecision(rules.read_rule(facts), found, caller_role, owner, chain)


_DETAILS: dict[ShareDecision, str] = {
    ShareDecision.CALLER: "the caller, with a mailbox: always first",
    ShareDecision.PUBLIC: "email sharing is public",
    ShareDecision.CUSTOM_SHARED: "email sharing is custom and they shared this record's emails",
    ShareDecision.NOT_ACTIVE: "the user is not active",
    ShareDecision.NO_MAILBOX: "no mailbox",
    ShareDecision.MAILBOX_DISABLED: "the mailbox is disabled",
    ShareDecision.PRIVATE: "email sharing is private",
    ShareDecision.CUSTOM_NOT_SHARED: "email sharing is custom but they did not share this record",
}


def _verdicts(
    org: Org, caller: User, record: Record | None, outcome: rules.SharingDetails | ZohoError
) -> tuple[Verdict, ...]:
    """Every user in answer order (caller first, then by name's case fold, then id)."""
    # Without a record (the answer is an error) there is no record-level share to count.
    shared_by = record.emails_shared_by if record is not None else frozenset()
    positions: dict[int, int] = {}
    if isinstance(outcome, rules.SharingDetails):
        positions = {u.id: i for i, u in enumerate(outcome.share_from_users, start=1)}
    ordered = sorted(org.users, key=lambda u: (u.id != caller.id, *rules.order_key(u.name, u.id)))
    verdicts: list[Verdict] = []
    for user in ordered:
        decision = rules.share_decision(user, caller.id, shared_by)
        detail = _DETAILS[decision]
        if decision is ShareDecision.NOT_ACTIVE:
            detail = f"the user is {user.status.value}"
        elif decision is ShareDecision.PRIVATE and user.id == caller.id:
            detail = "the caller, with no mailbox"
        position = positions.get(user.id)
        if decision.included and position is None:
            if isinstance(outcome, ZohoError):
                detail += "; but the answer is an error"
            else:
                detail += f"; but past the answer's cap of {rules.MAX_SHARE_FROM_USERS}"
        verdicts.append(Verdict(user, decision, position, detail))
    return tuple(verdicts)
