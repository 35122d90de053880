"""Zoho's modules: which this API serves, their canonical names and their scope names."""

from __future__ import annotations

from dataclasses import dataclass

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
