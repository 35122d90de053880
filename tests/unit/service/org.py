"""One small org for the service unit tests, written as domain values (no fixture document),
and the callers and helpers the tests share. Every fact a test relies on is named here."""

from __future__ import annotations

from typing import Any

import pytest

from emailshare.domain import scopes
from emailshare.domain.errors import ZohoError
from emailshare.domain.model import (
    Client,
    DataSharing,
    EmailSharing,
    Mailbox,
    Org,
    Profile,
    Protocol,
    Record,
    Role,
    Status,
    User,
)
from emailshare.service.auth import Caller

ORG = 10
OTHER_ORG = 20
CEO_ROLE, MANAGER_ROLE, REP_ROLE = 1, 2, 3

ADMIN = 100  # administrator, imap, public sharing
MANAGER = 101  # role above REP, pop, custom sharing
REP = 102  # owns the records below, imap, custom sharing
PEER = 103  # same role as nobody, imap, private sharing
NOMAIL = 104  # custom sharing, no mailbox
GONE = 105  # inactive, public sharing
OUTSIDER = 200  # a user of the other org

LEAD = 1_000  # Leads (private in this org), owner REP, shared with PEER
CONTACT = 1_001  # Contacts (public_read_only), owner REP
ACCOUNT = 1_002  # Accounts (private), owner REP: takes no email shares
PROJECT = 1_003  # Projects (custom module), owner REP; MANAGER shared its emails
DELETED = 1_004  # Leads, deleted
LEAD2 = 1_005  # Leads, owner REP
OTHER_LEAD = 2_000  # Leads of the other org

CLIENT_ID = "1000.CLIENT00000000000000000000000001"
CLIENT_SECRET = "client-secret"
REDIRECT = "https://app.example/callback"

ALL = ("ZohoCRM.modules.ALL",)


def imap(address: str) -> Mailbox:
    return Mailbox(Protocol.IMAP, address)


def org() -> Org:
    users = (
        User(
            ADMIN,
            "Ada Admin",
            "ada@acme.test",
            profile=Profile.ADMINISTRATOR,
            role=CEO_ROLE,
            mailbox=imap("ada@acme.test"),
            email_sharing=EmailSharing.PUBLIC,
        ),
        User(
            MANAGER,
            "Max Manager",
            "max@acme.test",
            role=MANAGER_ROLE,
            mailbox=Mailbox(Protocol.POP, "max@acme.test"),
            email_sharing=EmailSharing.CUSTOM,
        ),
        User(
            REP,
            "Rita Rep",
            "rita@acme.test",
            role=REP_ROLE,
            mailbox=imap("rita@acme.test"),
            email_sharing=EmailSharing.CUSTOM,
        ),
        User(PEER, "Pat Peer", "pat@acme.test", mailbox=imap("pat@acme.test")),
        User(
            NOMAIL,
            "Nina Nomail",
            "nina@acme.test",
            role=REP_ROLE,
            email_sharing=EmailSharing.CUSTOM,
        ),
        User(
            GONE,
            "Gus Gone",
            "gus@acme.test",
            status=Status.INACTIVE,
            mailbox=imap("gus@acme.test"),
            email_sharing=EmailSharing.PUBLIC,
        ),
    )
    records = (
        Record("Leads", LEAD, "A lead", REP, shared_with=frozenset({PEER})),
        Record("Contacts", CONTACT, "A contact", REP),
        Record("Accounts", ACCOUNT, "An account", REP),
        Record("Projects", PROJECT, "A project", REP, emails_shared_by=frozenset({MANAGER})),
        Record("Leads", DELETED, "A deleted lead", REP, deleted=True),
        Record("Leads", LEAD2, "Another lead", REP),
    )
    return Org(
        ORG,
        "Acme",
        data_sharing={"Contacts": DataSharing.PUBLIC_READ_ONLY},
        custom_modules=("Projects",),
        roles=(
            Role(CEO_ROLE, "CEO"),
            Role(MANAGER_ROLE, "Manager", CEO_ROLE),
            Role(REP_ROLE, "Rep", MANAGER_ROLE),
        ),
        users=users,
        records=records,
        clients=(Client(CLIENT_ID, CLIENT_SECRET, REDIRECT),),
    )


def other_org() -> Org:
    return Org(
        OTHER_ORG,
        "Globex",
        users=(
            User(
                OUTSIDER,
                "Otto Outsider",
                "otto@globex.test",
                profile=Profile.ADMINISTRATOR,
                mailbox=imap("otto@globex.test"),
            ),
        ),
        records=(Record("Leads", OTHER_LEAD, "Their lead", OUTSIDER),),
    )


def caller(user_id: int, granted: tuple[str, ...] = ALL, org_id: int = ORG) -> Caller:
    """The caller that authentication makes of a live token of ``user_id``."""
    found = (org() if org_id == ORG else other_org()).user(user_id)
    assert found is not None
    return Caller(
        org_id,
        found.id,
        found.name,
        found.profile.value,
        found.role,
        scopes.normalise(granted),
        found.mailbox.protocol.value if found.mailbox else None,
        found.mailbox is not None and found.mailbox.enabled,
        found.email_sharing.value,
        expires_at=10**10,
    )


def same_error(exc: pytest.ExceptionInfo[ZohoError], expected: ZohoError) -> None:
    """``exc`` is ``expected``: same class, code, message and details (what a body shows)."""
    got = exc.value
    assert (type(got), got.code, got.message, got.details) == (
        type(expected),
        expected.code,
        expected.message,
        expected.details,
    )


def error_of(value: Any) -> tuple[str, str, dict[str, Any]]:
    assert isinstance(value, ZohoError), value
    return value.code, value.message, value.details
