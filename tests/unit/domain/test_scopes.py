"""Scope checks (docs/contract.md §§2, 4, 8 and 11), every branch, called directly."""

from __future__ import annotations

import pytest

from emailshare.domain import scopes
from emailshare.domain.errors import OAuthScopeMismatch
from emailshare.domain.modules import SUPPORTED, Module, ModuleLookup

MODULE_READS = ("ZohoCRM.modules.READ", "ZohoCRM.modules.{s}.ALL", "ZohoCRM.modules.{s}.READ")
EMAILS_READS = ("ZohoCRM.modules.emails.ALL", "ZohoCRM.modules.emails.READ")


def granted(*names: str) -> frozenset[str]:
    return scopes.normalise(names)


def allows_details(names: tuple[str, ...], scope_name: str) -> bool:
    try:
        scopes.require_details_read(granted(*names), scope_name)
    except OAuthScopeMismatch:
        return False
    return True


# --- normalise -------------------------------------------------------------------------------


def test_normalise_folds_case_strips_and_drops_empty_names() -> None:
    assert scopes.normalise(["ZohoCRM.modules.ALL", " ZohoCRM.org.READ ", "", "  "]) == frozenset(
        {"zohocrm.modules.all", "zohocrm.org.read"}
    )


def test_normalise_of_nothing_is_empty() -> None:
    assert scopes.normalise([]) == frozenset()


# --- require_details_read ------------------------------------------------------------------------


@pytest.mark.parametrize("scope_name", [*SUPPORTED.values(), "custom"])
def test_modules_all_alone_covers_both_needs(scope_name: str) -> None:
    assert allows_details(("ZohoCRM.modules.ALL",), scope_name)


@pytest.mark.parametrize("scope_name", ["accounts", "salesorders", "custom"])
@pytest.mark.parametrize("module_read", MODULE_READS)
@pytest.mark.parametrize("emails_read", EMAILS_READS)
def test_any_module_read_with_any_emails_read_is_enough(
    scope_name: str, module_read: str, emails_read: str
) -> None:
    assert allows_details((module_read.format(s=scope_name), emails_read), scope_name)


@pytest.mark.parametrize("module_read", MODULE_READS)
def test_module_read_without_emails_read_is_refused(module_read: str) -> None:
    assert not allows_details((module_read.format(s="accounts"),), "accounts")


@pytest.mark.parametrize("emails_read", EMAILS_READS)
def test_emails_read_without_module_read_is_refused(emails_read: str) -> None:
    assert not allows_details((emails_read,), "accounts")


@pytest.mark.parametrize(
    "names",
    [
        ("ZohoCRM.modules.leads.READ", "ZohoCRM.modules.emails.READ"),  # another module
        ("ZohoCRM.modules.accounts.CREATE", "ZohoCRM.modules.emails.READ"),  # not a read
        ("ZohoCRM.modules.accounts.READ", "ZohoCRM.modules.emails.CREATE"),
        ("ZohoCRM.modules.accounts.WRITE", "ZohoCRM.modules.emails.READ"),
        ("ZohoCRM.modules.Accounts.READ.extra", "ZohoCRM.modules.emails.READ"),
        ("ZohoCRM.users.ALL", "ZohoCRM.org.ALL", "ZohoCRM.settings.ALL"),
        ("ZohoCRM.modules",),
        (),
    ],
)
def test_scopes_that_do_not_cover_accounts(names: tuple[str, ...]) -> None:
    assert not allows_details(names, "accounts")


@pytest.mark.parametrize(
    "names",
    [
        ("zohocrm.modules.all",),
        ("ZOHOCRM.MODULES.ALL",),
        ("zohocrm.modules.accounts.read", "ZOHOCRM.MODULES.EMAILS.READ"),
        ("ZohoCRM.Modules.Accounts.All", "ZohoCRM.Modules.Emails.All"),
    ],
)
def test_scopes_compare_case_insensitively(names: tuple[str, ...]) -> None:
    assert allows_details(names, "accounts")


def test_wanted_names_are_folded_too() -> None:
    """A scope name given in another case still matches the folded grant."""
    assert allows_details(
        ("ZohoCRM.modules.salesorders.READ", "ZohoCRM.modules.emails.READ"), "SalesOrders"
    )


def test_custom_modules_use_the_custom_scope_name_not_their_api_name() -> None:
    custom = Module("Projects", custom=True)
    assert allows_details(
        ("ZohoCRM.modules.custom.READ", "ZohoCRM.modules.emails.READ"), custom.scope_name
    )
    assert not allows_details(
        ("ZohoCRM.modules.projects.READ", "ZohoCRM.modules.emails.READ"), custom.scope_name
    )


# --- module scope names (docs/contract.md §2) ----------------------------------------------------


@pytest.mark.parametrize(
    ("api_name", "scope_name"),
    [
        ("Leads", "leads"),
        ("Accounts", "accounts"),
        ("Contacts", "contacts"),
        ("Deals", "deals"),
        ("Quotes", "quotes"),
        ("Invoices", "invoices"),
        ("Sales_Orders", "salesorders"),
        ("Purchase_Orders", "purchaseorders"),
    ],
)
def test_scope_names_of_standard_modules(api_name: str, scope_name: str) -> None:
    module = ModuleLookup.standard(api_name.upper())
    assert module == Module(api_name, custom=False)
    assert module.scope_name == scope_name


def test_supported_modules_are_exactly_the_contracts_eight() -> None:
    assert set(SUPPORTED) == {
        "Leads",
        "Accounts",
        "Contacts",
        "Deals",
        "Quotes",
        "Invoices",
        "Sales_Orders",
        "Purchase_Orders",
    }


@pytest.mark.parametrize(
    "name",
    [
        "Tasks",
        "events",
        "CALLS",
        "Products",
        "Vendors",
        "Price_Books",
        "Campaigns",
        "Cases",
        "Solutions",
        "Notes",
        "Attachments",
    ],
)
def test_unsupported_standard_modules(name: str) -> None:
    assert ModuleLookup.standard(name) is None
    assert ModuleLookup.is_unsupported_standard(name)
    assert ModuleLookup.is_reserved(name)


@pytest.mark.parametrize("name", ["Projects", "Widgets", "Account", "SalesOrders"])
def test_other_names_are_neither_standard_nor_reserved(name: str) -> None:
    assert ModuleLookup.standard(name) is None
    assert not ModuleLookup.is_unsupported_standard(name)
    assert not ModuleLookup.is_reserved(name)


@pytest.mark.parametrize(
    ("api_name", "custom", "gathers", "takes_shares"),
    [
        ("Accounts", False, True, False),
        ("Deals", False, True, False),
        ("Leads", False, False, True),
        ("Contacts", False, False, True),
        ("Quotes", False, False, False),
        ("Projects", True, False, True),
    ],
)
def test_module_properties(api_name: str, custom: bool, gathers: bool, takes_shares: bool) -> None:
    module = Module(api_name, custom)
    assert module.gathers_contacts is gathers
    assert module.takes_email_shares is takes_shares


# --- require_share_write, require_users_read, require_org_read ----------------------------------


@pytest.mark.parametrize(
    ("names", "allowed"),
    [
        (("ZohoCRM.modules.ALL",), True),
        (("ZohoCRM.modules.leads.ALL",), True),
        (("ZohoCRM.modules.leads.CREATE",), True),
        (("zohocrm.modules.leads.create",), True),
        (("ZohoCRM.modules.leads.READ",), False),
        (("ZohoCRM.modules.READ",), False),
        (("ZohoCRM.modules.contacts.ALL",), False),
        ((), False),
    ],
)
def test_require_share_write(names: tuple[str, ...], allowed: bool) -> None:
    if allowed:
        scopes.require_share_write(granted(*names), "leads")
    else:
        with pytest.raises(OAuthScopeMismatch):
            scopes.require_share_write(granted(*names), "leads")


@pytest.mark.parametrize(
    ("names", "allowed"),
    [
        (("ZohoCRM.users.READ",), True),
        (("ZohoCRM.users.ALL",), True),
        (("zohocrm.users.read",), True),
        (("ZohoCRM.modules.ALL",), False),
        (("ZohoCRM.org.ALL",), False),
    ],
)
def test_require_users_read(names: tuple[str, ...], allowed: bool) -> None:
    if allowed:
        scopes.require_users_read(granted(*names))
    else:
        with pytest.raises(OAuthScopeMismatch):
            scopes.require_users_read(granted(*names))


@pytest.mark.parametrize(
    ("names", "allowed"),
    [
        (("ZohoCRM.org.READ",), True),
        (("ZohoCRM.org.ALL",), True),
        (("ZOHOCRM.ORG.ALL",), True),
        (("ZohoCRM.modules.ALL",), False),
        (("ZohoCRM.users.ALL",), False),
    ],
)
def test_require_org_read(names: tuple[str, ...], allowed: bool) -> None:
    if allowed:
        scopes.require_org_read(granted(*names))
    else:
        with pytest.raises(OAuthScopeMismatch):
            scopes.require_org_read(granted(*names))


# --- require_details_read's memo -------------------------------------------------------------


def test_details_read_memo_answers_as_the_check_does_for_each_set_and_module() -> None:
    # The memo is keyed by the set and the module: one set's answer is never another's.
    scopes._details_read.cache_clear()
    leads_only = ("ZohoCRM.modules.Leads.READ", "ZohoCRM.modules.emails.READ")
    for _ in range(2):  # the first pass fills the memo, the second reads it
        assert allows_details(leads_only, "Leads")
        assert not allows_details(leads_only, "Deals")
        assert not allows_details(("ZohoCRM.modules.Leads.READ",), "Leads")
        assert allows_details(("ZohoCRM.modules.ALL",), "Deals")
    assert scopes._details_read.cache_info().currsize == 4


def test_details_read_memo_is_bounded() -> None:
    scopes._details_read.cache_clear()
    for n in range(scopes._DETAILS_READ_MAX + 10):
        assert not allows_details((f"ZohoCRM.modules.m{n}.READ",), "Leads")
    assert 0 < scopes._details_read.cache_info().currsize <= scopes._DETAILS_READ_MAX
