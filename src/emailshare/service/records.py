"""A record as a URL names it, resolved once for every endpoint: its module, its id, and whether
the caller may read it (docs/contract.md §5). The details, share and emails endpoints all use
these; the rules themselves live in ``domain.modules`` and ``domain.rules``."""

from __future__ import annotations

from emailshare.domain import modules, rules
from emailshare.domain.errors import (
    InvalidData,
    NoPermission,
    ZohoError,
    invalid_record_path,
    no_read_permission,
)
from emailshare.domain.modules import Module
from emailshare.domain.numbers import parse_id
from emailshare.domain.views import RecordAccess
from emailshare.service.auth import Caller
from emailshare.service.ports import ModuleReads, RecordReads

# URL module names seen that name a standard module (any org's, whatever its custom modules:
# a standard name is never a custom module's), resolved once. Bounded: case variants are many.
_STANDARD: dict[str, Module] = {}
_MAX_STANDARD = 1024


async def resolve_module(reads: ModuleReads, org_id: int, name: str) -> Module:
    """A URL module name to the org's module, or ``INVALID_MODULE`` / ``NOT_SUPPORTED``."""
    found = _STANDARD.get(name)
    if found is not None:
        return found
    custom = await reads.custom_module(org_id, name) if modules.may_be_custom(name) else None
    module = modules.resolve(name, custom)
    if not module.custom and len(_STANDARD) < _MAX_STANDARD:
        _STANDARD[name] = module
    return module


def record_id_of(text: str) -> int:
    """The record id of a URL segment, or ``INVALID_DATA`` for the record path."""
    record_id = parse_id(text)
    if record_id is None:
        raise invalid_record_path()
    return record_id


async def require_readable(
    reads: RecordReads,
    caller: Caller,
    module: Module,
    record_id: int,
    missing: ZohoError | None = None,
) -> rules.ReadRule:
    """The rule that lets the caller read this live record of ``module``; else raise
    ``missing`` (default: ``INVALID_DATA`` for the record path) when there is no such record,
    or ``NO_PERMISSION`` when the caller may not read it. One indexed query."""
    access = await reads.record_access(
        caller.org_id, module.api_name, record_id, caller.user_id, caller.role_id
    )
    return read_rule_of(access, caller, missing)


def read_rule_of(
    access: RecordAccess | None, caller: Caller, missing: ZohoError | None = None
) -> rules.ReadRule:
    """:func:`require_readable` for the facts already read (``None``: no such live record)."""
    if access is None:
        raise missing if missing is not None else invalid_record_path()
    rule = rules.access_read_rule(access, caller.user_id, caller.is_admin)
    if rule is None:
        raise no_read_permission()
    return rule


async def readable(reads: RecordReads, caller: Caller, module: Module, record_id: int) -> bool:
    """Whether the live record of ``module`` exists and the caller may read it."""
    try:
        await require_readable(reads, caller, module, record_id)
    except (InvalidData, NoPermission):
        return False
    return True
