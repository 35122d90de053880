"""``emailshare gen``: a realistic synthetic data set, written into the store.

Each org is built as domain values (:class:`~emailshare.domain.model.Org`) and written by the
storage layer's bulk API (:func:`emailshare.storage.bulk.replace_org`, the same path every
fixture load takes), one transaction per org, with no fixture validation on the way (the
generator only makes valid data): 100k users and 1M records take seconds on SQLite.
``--requests-out`` writes one readable request per record, ``<path>\\t<token>``,
for load generators. ``--writes-out`` writes one share line per record whose owner may share
their emails on it and does not yet, ``POST\\t<path>\\t<token>`` (the same path with
``unshare_emails`` undoes it). ``--emails-per-record`` adds emails to every record after its
org is written (:mod:`emailshare.synth_emails`, in transactions of their own). The same seed
gives the same data; tokens are always fresh randoms.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import IO, Generic, TypeVar

from emailshare import synth_emails
from emailshare.domain.model import (
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
from emailshare.domain.modules import SUPPORTED
from emailshare.domain.tokens import new_access_token
from emailshare.storage import bulk
from emailshare.storage.repo import Store
from emailshare.synth_emails import EmailsPlan

FIRST = [
    "Will",
    "Ada",
    "Carla",
    "Boyle",
    "Nora",
    "Pat",
    "Ian",
    "Dee",
    "Zoë",
    "Émile",
    "Şule",
    "Łukasz",
    "Björn",
    "Ngozi",
    "Hiroshi",
    "Ана",
    "Δήμητρα",
    "Ömer",
    "ßen",
    "Chloé",
]
LAST = [
    "Grandon",
    "Lovelace",
    "Custom",
    "Smith",
    "García",
    "Müller",
    "Østergaard",
    "Nakamura",
    "O'Neil",
    "van Dijk",
    "Ибрагимов",
    "Παπαδόπουλος",
    "Nguyễn",
    "Straße",
    "Kowalski",
]
MODULES = [
    ("Leads", 30),
    ("Contacts", 25),
    ("Accounts", 15),
    ("Deals", 15),
    ("Quotes", 5),
    ("Invoices", 3),
    ("Sales_Orders", 2),
    ("Purchase_Orders", 1),
    ("Projects", 4),
]
SCOPES = ("ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ")
TOKEN_LIFETIME = 30 * 86400
T = TypeVar("T")


@dataclass(frozen=True)
class GenSummary:
    orgs: int
    users: int
    records: int
    requests: int
    seconds: float
    emails: int = 0
    email_requests: int = 0


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal, or when asked)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = max(1, total), 0, enabled
        self.start = time.monotonic()

    def advance(self, n: int, label: str) -> None:
        self.done += n
        if not self.enabled:
            return
        frac = min(1.0, self.done / self.total)
        bar = "#" * int(frac * 30)
        sys.stderr.write(
            f"\r[{bar:<30}] {frac:6.1%} {label:<14} {time.monotonic() - self.start:5.1f}s"
        )
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


class _Weighted(Generic[T]):
    """A weighted pick that draws exactly as ``rnd.choices(population, weights)[0]`` does
    (one ``random()``, the same bisection), without rebuilding the cumulative weights on
    every call: the same seed gives the same data as ``choices`` would."""

    __slots__ = ("cum", "hi", "population", "total")

    def __init__(self, population: Sequence[T], weights: Sequence[int]) -> None:
        self.population = list(population)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1] + 0.0
        self.hi = len(self.population) - 1

    def pick(self, rnd: random.Random) -> T:
        return self.population[bisect(self.cum, rnd.random() * self.total, 0, self.hi)]


_STATUS = _Weighted([Status.ACTIVE, Status.INACTIVE, Status.DELETED], [95, 3, 2])
_PROTOCOL = _Weighted([Protocol.IMAP, Protocol.POP, Protocol.API], [5, 2, 3])
_SHARING = _Weighted([EmailSharing.PRIVATE, EmailSharing.PUBLIC, EmailSharing.CUSTOM], [5, 2, 3])
_SHARES = frozenset({"Leads", "Contacts", "Projects"})  # take email shares (§8)
_MODULE = _Weighted([m for m, _ in MODULES], [w for _, w in MODULES])
_LEVELS = [
    DataSharing.PRIVATE,
    DataSharing.PRIVATE,
    DataSharing.PUBLIC_READ_ONLY,
    DataSharing.PUBLIC_READ_WRITE,
    DataSharing.PUBLIC,
]


async def generate(
    store: Store,
    *,
    orgs: int,
    users: int,
    records: int,
    seed: int,
    requests_out: IO[str] | None,
    progress: bool,
    emails: EmailsPlan | None = None,
    writes_out: IO[str] | None = None,
) -> GenSummary:
    """Write ``orgs`` orgs holding ``users`` users and ``records`` records in all, and with
    ``emails`` that many emails per record (synth_emails)."""
    if orgs < 1 or users < orgs or records < 0:
        raise ValueError("need at least one org and one user per org")
    # Millions of acyclic values are built and dropped here: the cyclic collector would only
    # scan them again and again (a quarter of the run's CPU at 1M records). Off for the run.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return await _generate(
            store, orgs, users, records, seed, (requests_out, writes_out), progress, emails
        )
    finally:
        if collecting:
            gc.enable()


async def _generate(
    store: Store,
    orgs: int,
    users: int,
    records: int,
    seed: int,
    outs: tuple[IO[str] | None, IO[str] | None],
    progress: bool,
    emails: EmailsPlan | None,
) -> GenSummary:
    rnd = random.Random(seed)  # noqa: S311 -- synthetic data, not secrets
    started = time.monotonic()
    per_record = emails.per_record if emails else 0
    # Rows written: users, their tokens, records and about half as many shares again.
    bar = Progress(users * 2 + records * 3 // 2 + records * per_record, progress)
    lines = 0
    mail = synth_emails.EmailsSummary(0, 0)
    now = int(time.time())
    for index, (n_users, n_records) in enumerate(
        zip(_split(users, orgs), _split(records, orgs), strict=True)
    ):
        org_id = 7_000_000_000_000_000 + (seed % 1000) * 1_000_000_000_000 + index * 10_000_000_000
        org, found = _one_org(rnd, org_id, n_users, n_records, *outs)
        lines += found
        async with store.db.transaction() as tx:
            await bulk.replace_org(tx, org, now, bar.advance)
        if emails is not None:
            # Its own stream of draws: the data without emails stays the same.
            own = random.Random(seed * 1_000_003 + index)  # noqa: S311
            got = await synth_emails.write_emails(
                store.db, org, per_record, own, emails.requests_out, bar.advance
            )
            mail = synth_emails.EmailsSummary(
                mail.emails + got.emails, mail.requests + got.requests
            )
    await bulk.analyze(store.db)
    bar.finish()
    seconds = time.monotonic() - started
    return GenSummary(orgs, users, records, lines, seconds, mail.emails, mail.requests)


def _roles(org_id: int) -> tuple[Role, ...]:
    """A role tree: one CEO, then levels of managers (five reports each), then reps."""
    ids = [org_id + 1 + i for i in range(31)]
    return tuple(Role(r, f"Role {i}", ids[(i - 1) // 5] if i else None) for i, r in enumerate(ids))


def _one_org(
    rnd: random.Random,
    org_id: int,
    n_users: int,
    n_records: int,
    out: IO[str] | None,
    writes: IO[str] | None = None,
) -> tuple[Org, int]:
    """One org's values, and the number of request lines written to ``out`` (share lines
    go to ``writes``)."""
    sharing = {m: rnd.choice(_LEVELS) for m in [*SUPPORTED, "Projects"]}
    roles = _roles(org_id)
    role_ids = [r.id for r in roles]

    users: list[User] = []
    active: list[int] = []
    custom: list[int] = []
    sharers: set[int] = set()  # active, custom sharing, a mailbox: may share (§8)
    admins: list[int] = []
    for j in range(n_users):
        uid = org_id + 1_000_000 + j
        name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {j}"
        status = _STATUS.pick(rnd)
        profile = Profile.ADMINISTRATOR if rnd.random() < 0.02 or j == 0 else Profile.STANDARD
        has_mailbox = rnd.random() < 0.8
        protocol = _PROTOCOL.pick(rnd) if has_mailbox else None
        email_sharing = _SHARING.pick(rnd)
        role = rnd.choice(role_ids)
        address = f"u{j}@{org_id}.test"
        mailbox = None
        if protocol is not None:
            mailbox = Mailbox(protocol, address, rnd.random() < 0.95)
        users.append(User(uid, name, address, status, profile, role, mailbox, email_sharing))
        if status is Status.ACTIVE:
            active.append(uid)
            if profile is Profile.ADMINISTRATOR:
                admins.append(uid)
            if email_sharing is EmailSharing.CUSTOM:
                custom.append(uid)
                if mailbox is not None:
                    sharers.add(uid)
    if not admins:
        admins.append(active[0] if active else org_id + 1_000_000)
    tokens: dict[int, str] = {uid: new_access_token() for uid in active}

    no_one: frozenset[int] = frozenset()
    records: list[Record] = []
    lines = 0
    for k in range(n_records):
        rid = org_id + 100_000_000 + k
        owner = rnd.choice(active) if active else admins[0]
        module = _MODULE.pick(rnd)
        shared_with = no_one
        if rnd.random() < 0.1:
            shared_with = frozenset({rnd.choice(active) for _ in range(rnd.randint(1, 3))})
        emails_shared_by = no_one
        if custom and rnd.random() < 0.2:
            emails_shared_by = frozenset({rnd.choice(custom) for _ in range(rnd.randint(1, 2))})
        records.append(Record(module, rid, f"Record {k}", owner, shared_with, emails_shared_by))
        if out is not None:
            caller = owner if owner in tokens else admins[0]
            if caller in tokens:
                out.write(f"/crm/v8/{module}/{rid}/__emails_sharing_details\t{tokens[caller]}\n")
                lines += 1
        shares = owner in sharers and owner not in emails_shared_by and module in _SHARES
        if writes is not None and shares and owner in tokens:
            path = f"/crm/v8/{module}/{rid}/actions/share_emails"
            writes.write(f"POST\t{path}\t{tokens[owner]}\n")
    org = Org(
        id=org_id,
        name=f"Synthetic {org_id}",
        data_sharing=sharing,
        custom_modules=("Projects",),
        roles=roles,
        users=tuple(users),
        records=tuple(records),
        tokens=tuple(FixedToken(t, uid, SCOPES, TOKEN_LIFETIME) for uid, t in tokens.items()),
    )
    return org, lines
