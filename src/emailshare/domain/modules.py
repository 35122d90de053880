"""Zoho's modules: which this API serves, their canonical names and their scope names."""

from __future__ import annotations

from dataclasses import dataclass

from emailshare.domain.errors import InvalidModule, NotSupported

# Canonical api name -> scope name (docs/contract.md §2).
SUPPORTED: dict[str, str] = {
    "Leads": "leads",
    "Accounts": "accounts",
    "Contacts": "contacts",
    "Deals": "deals",
    "Quotes": "quotes",
    "Invoices": "invoices",
    "Sales_Orders": "salesorders",
    "Purchase_Orders": "purchaseorders",
}

# Standard modules that exist in Zoho but do not serve this API.
UNSUPPORTED: tuple[str, ...] = (
    "Tasks",
    "Events",
    "Calls",
    "Products",
    "Vendors",
    "Price_Books",
    "Campaigns",
    "Cases",
    "Solutions",
    "Notes",
    "Attachments",
)

# Modules whose records gather the emails of their contacts (``all_contacts_emails``).
GATHERS_CONTACTS: frozenset[str] = frozenset({"Accounts", "Deals"})

# Modules that take record-level email sharing (docs/contract.md §8), besides custom ones.
SHARE_EMAILS_STANDARD: frozenset[str] = frozenset({"Leads", "Contacts"})

CUSTOM_SCOPE = "custom"
MAX_CUSTOM_NAME = 100  # longer URL module names are never looked up as a custom module

_SUPPORTED_FOLD = {name.casefold(): name for name in SUPPORTED}
_UNSUPPORTED_FOLD = frozenset(name.casefold() for name in UNSUPPORTED)


@dataclass(frozen=True, slots=True)
class Module:
    """A module as resolved for one org: its canonical name and whether it is custom."""

    api_name: str
    custom: bool

    @property
    def scope_name(self) -> str:
        """The name used in ``ZohoCRM.modules.{scope name}.*`` scopes."""
        return CUSTOM_SCOPE if self.custom else SUPPORTED[self.api_name]

    @property
    def gathers_contacts(self) -> bool:
        return self.api_name in GATHERS_CONTACTS

    @property
    def takes_email_shares(self) -> bool:
        return self.custom or self.api_name in SHARE_EMAILS_STANDARD


class ModuleLookup:
    """Resolves a URL module name against the standard catalogue and one org's custom modules."""

    __slots__ = ()

    @staticmethod
    def standard(name: str) -> Module | None:
        canonical = _SUPPORTED_FOLD.get(name.casefold())
        return Module(canonical, custom=False) if canonical else None

    @staticmethod
    def is_unsupported_standard(name: str) -> bool:
        return name.casefold() in _UNSUPPORTED_FOLD

    @staticmethod
    def is_reserved(name: str) -> bool:
        """A standard name (supported or not) cannot be a custom module's name."""
        folded = name.casefold()
        return folded in _SUPPORTED_FOLD or folded in _UNSUPPORTED_FOLD


def may_be_custom(name: str) -> bool:
    """Whether resolving ``name`` needs the org's custom module of that name (a lookup)."""
    return (
        len(name) <= MAX_CUSTOM_NAME
        and ModuleLookup.standard(name) is None
        and not ModuleLookup.is_unsupported_standard(name)
    )


def resolve(name: str, custom_api_name: str | None) -> Module:
    """A URL module name to the org's module: a supported standard module (any case), else
    ``NOT_SUPPORTED`` for the standard modules this API does not serve, else the org's custom
    module of that name (``custom_api_name``, found when :func:`may_be_custom`), else
    ``INVALID_MODULE``. The one place the order lives: the endpoints and ``explain`` use it."""
    module = ModuleLookup.standard(name)
    if module is not None:
        return module
    if ModuleLookup.is_unsupported_standard(name):
        raise NotSupported({"resource_path_index": 0})
    if custom_api_name is not None and len(name) <= MAX_CUSTOM_NAME:
        return Module(custom_api_name, custom=True)
    raise InvalidModule({"resource_path_index": 0})
