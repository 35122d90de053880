"""Hypothesis strategies of random valid orgs as domain values (docs/contract.md §10): any
text the fixture format allows, ids up to 2^63-1, role trees, users of every kind, records
with shares, clients and tokens. Shared by the fixture writer's and the bulk writer's tests.
"""

from __future__ import annotations

from hypothesis import strategies as st

from emailshare.domain.model import (
    Client,
    DataSharing,
    EmailSharing,
    FixedToken,
    Mailbox,
    Org,
    Profile,
    Protocol,
    Record,
    Role,
    Status,
    User,
)
from emailshare.domain.modules import SUPPORTED, ModuleLookup
from emailshare.service.fixtures import keys

MAX_ID = 2**63 - 1
ids = st.integers(1, MAX_ID)
# Any character the format takes: no NUL, no lone surrogate (not UTF-8).
chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


def text(max_size: int, blank: bool = False) -> st.SearchStrategy[str]:
    """Strings of the format: up to ``max_size`` characters, not blank unless ``blank``."""
    found = st.text(chars, max_size=max_size)
    return found if blank else found.filter(lambda s: s.strip() != "")


def addresses() -> st.SearchStrategy[str]:
    """``email`` and ``mailbox.address``: their default "" or a string."""
    return st.one_of(st.just(""), text(keys.MAX_ADDRESS))


custom_module = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,49}", fullmatch=True).filter(
    lambda name: not ModuleLookup.is_reserved(name)
)
hex32 = st.text("0123456789abcdef", min_size=32, max_size=32)
tokens = st.builds(lambda a, b: f"1000.{a}.{b}", hex32, hex32)


@st.composite
def orgs_of(draw: st.DrawFn, org_id: int) -> Org:
    """One valid org: a role tree, users, records referring to them, clients and tokens."""
    custom = draw(st.lists(custom_module, max_size=3, unique_by=str.casefold))
    modules = [*SUPPORTED, *custom]
    sharing = draw(
        st.dictionaries(st.sampled_from(modules), st.sampled_from(list(DataSharing)), max_size=4)
    )
    role_ids = draw(st.lists(ids, max_size=5, unique=True))
    roles = tuple(
        Role(
            rid,
            draw(text(keys.MAX_NAME)),
            draw(st.none() | st.sampled_from(role_ids[:i])) if i else None,
        )
        for i, rid in enumerate(role_ids)
    )
    user_ids = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    mailboxes = st.none() | st.builds(
        Mailbox, st.sampled_from(list(Protocol)), addresses(), st.booleans()
    )
    users = tuple(
        User(
            id=uid,
            name=draw(text(keys.MAX_PERSON)),
            email=draw(addresses()),
            status=draw(st.sampled_from(list(Status))),
            profile=draw(st.sampled_from(list(Profile))),
            role=draw(st.none() | st.sampled_from(role_ids)) if role_ids else None,
            mailbox=draw(mailboxes),
            email_sharing=draw(st.sampled_from(list(EmailSharing))),
        )
        for uid in user_ids
    )
    some_users = st.frozensets(st.sampled_from(user_ids), max_size=3)
    records = tuple(
        Record(
            module=draw(st.sampled_from(modules)),
            id=rid,
            name=draw(text(keys.MAX_PERSON, blank=True)),
            owner=draw(st.sampled_from(user_ids)),
            shared_with=draw(some_users),
            emails_shared_by=draw(some_users),
            deleted=draw(st.booleans()),
        )
        for rid in draw(st.lists(ids, max_size=5, unique=True))
    )
    clients = tuple(
        Client(
            f"{org_id}.{n}",
            draw(text(keys.MAX_SECRET)),
            draw(st.none() | text(keys.MAX_REDIRECT)),
        )
        for n in range(draw(st.integers(0, 2)))
    )
    fixed = tuple(
        FixedToken(
            draw(tokens),
            draw(st.sampled_from(user_ids)),
            tuple(draw(st.lists(text(keys.MAX_SCOPE), min_size=1, max_size=3))),
            draw(st.integers(-keys.MAX_INT, keys.MAX_INT)),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    return Org(
        org_id,
        draw(text(keys.MAX_NAME)),
        sharing,
        tuple(custom),
        roles,
        users,
        records,
        clients,
        fixed,
    )


@st.composite
def documents(draw: st.DrawFn) -> list[Org]:
    """Up to three orgs of distinct ids whose tokens are distinct across the document."""
    org_ids = draw(st.lists(ids, max_size=3, unique=True))
    orgs = [draw(orgs_of(i)) for i in org_ids]
    every = [t.access_token for o in orgs for t in o.tokens]
    if len(every) != len(set(every)):
        orgs = [
            Org(
                o.id,
                o.name,
                o.data_sharing,
                o.custom_modules,
                o.roles,
                o.users,
                o.records,
                o.clients,
            )
            for o in orgs
        ]
    return orgs
