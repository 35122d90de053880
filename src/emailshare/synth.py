"""``emailshare gen``: a realistic synthetic data set, written straight into the store.

Rows go in with ``executemany`` inside one transaction per org (no fixture validation on the
way: the generator only makes valid data), so 100k users and 1M records take seconds on
SQLite. ``--requests-out`` writes one readable request per record, ``<path>\\t<token>``,
for load generators. The same seed gives the same data; tokens are always fresh randoms.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from emailshare.domain.modules import SUPPORTED
from emailshare.domain.tokens import new_access_token, token_hash
from emailshare.storage.db import Params, Tx
from emailshare.storage.repo import Store, name_key

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
SCOPES = "ZohoCRM.modules.ALL ZohoCRM.users.READ ZohoCRM.org.READ"
BATCH = 50_000


@dataclass(frozen=True)
class GenSummary:
    orgs: int
    users: int
    records: int
    requests: int
    seconds: float


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


def _batches(rows: Sequence[Params]) -> Iterator[Sequence[Params]]:
    for i in range(0, len(rows), BATCH):
        yield rows[i : i + BATCH]


async def _insert(tx: Tx, sql: str, rows: Sequence[Params], bar: Progress, label: str) -> None:
    for chunk in _batches(rows):
        await tx.executemany(sql, chunk)
        bar.advance(len(chunk), label)


async def generate(
    store: Store,
    *,
    orgs: int,
    users: int,
    records: int,
    seed: int,
    requests_out: IO[str] | None,
    progress: bool,
) -> GenSummary:
    """Write ``orgs`` orgs holding ``users`` users and ``records`` records in all."""
    if orgs < 1 or users < orgs or records < 0:
        raise ValueError("need at least one org and one user per org")
    rnd = random.Random(seed)  # noqa: S311 -- synthetic data, not secrets
    started = time.monotonic()
    bar = Progress(users * 2 + records * 2, progress)
    lines = 0
    now = int(time.time())
    for index, (n_users, n_records) in enumerate(
        zip(_split(users, orgs), _split(records, orgs), strict=True)
    ):
        org_id = 7_000_000_000_000_000 + (seed % 1000) * 1_000_000_000_000 + index * 10_000_000_000
        async with store.db.transaction() as tx:
            await tx.execute("DELETE FROM orgs WHERE id = ?", (org_id,))
            lines += await _one_org(tx, rnd, org_id, n_users, n_records, now, bar, requests_out)
    if store.db.dialect == "postgresql":
        # Fresh statistics, or the planner guesses at tables it has never measured.
        async with store.db.transaction(bump=False) as tx:
            await tx.execute("ANALYZE")
    bar.finish()
    return GenSummary(orgs, users, records, lines, time.monotonic() - started)


async def _one_org(
    tx: Tx,
    rnd: random.Random,
    org_id: int,
    n_users: int,
    n_records: int,
    now: int,
    bar: Progress,
    out: IO[str] | None,
) -> int:
    await tx.execute(
        "INSERT INTO orgs (id, name) VALUES (?, ?)",
        (org_id, f"Synthetic {org_id}"),
    )
    levels = ["private", "private", "public_read_only", "public_read_write", "public"]
    await tx.executemany(
        "INSERT INTO data_sharing (org_id, module, level) VALUES (?, ?, ?)",
        [(org_id, m, rnd.choice(levels)) for m in [*SUPPORTED, "Projects"]],
    )
    await tx.execute(
        "INSERT INTO custom_modules (org_id, name_fold, api_name) VALUES (?, ?, ?)",
        (org_id, "projects", "Projects"),
    )

    # A role tree: one CEO, then levels of managers, then reps.
    role_ids = [org_id + 1 + i for i in range(31)]
    parent = {role_ids[0]: None} | {r: role_ids[(i - 1) // 5] for i, r in enumerate(role_ids) if i}
    await tx.executemany(
        "INSERT INTO roles (org_id, id, name, reports_to) VALUES (?, ?, ?, ?)",
        [(org_id, r, f"Role {i}", parent[r]) for i, r in enumerate(role_ids)],
    )
    ancestors = []
    for r in role_ids:
        p = parent[r]
        while p is not None:
            ancestors.append((org_id, r, p))
            p = parent[p]
    await tx.executemany(
        "INSERT INTO role_ancestors (org_id, role_id, ancestor_id) VALUES (?, ?, ?)", ancestors
    )

    user_rows: list[Params] = []
    active: list[int] = []
    custom: list[int] = []
    admins: list[int] = []
    for j in range(n_users):
        uid = org_id + 1_000_000 + j
        name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {j}"
        status = rnd.choices(["active", "inactive", "deleted"], [95, 3, 2])[0]
        profile = "administrator" if rnd.random() < 0.02 or j == 0 else "standard"
        has_mailbox = rnd.random() < 0.8
        protocol = rnd.choices(["imap", "pop", "api"], [5, 2, 3])[0] if has_mailbox else None
        sharing = rnd.choices(["private", "public", "custom"], [5, 2, 3])[0]
        user_rows.append(
            (
                org_id,
                uid,
                name,
                name_key(name),
                f"u{j}@{org_id}.test",
                status,
                profile,
                rnd.choice(role_ids),
                protocol,
                f"u{j}@{org_id}.test" if has_mailbox else None,
                1 if has_mailbox and rnd.random() < 0.95 else 0,
                sharing,
            )
        )
        if status == "active":
            active.append(uid)
            if profile == "administrator":
                admins.append(uid)
            if sharing == "custom":
                custom.append(uid)
    if not admins:
        admins.append(active[0] if active else org_id + 1_000_000)
    await _insert(
        tx,
        "INSERT INTO users (org_id, id, name, name_key, email, status, profile,"
        " role_id, mailbox_protocol, mailbox_address, mailbox_enabled, email_sharing)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        user_rows,
        bar,
        "users",
    )

    tokens: dict[int, str] = {uid: new_access_token() for uid in active}
    await _insert(
        tx,
        "INSERT INTO access_tokens (token_hash, org_id, user_id, scopes,"
        " expires_at, refresh_hash, client_id, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (token_hash(t), org_id, uid, SCOPES, now + 30 * 86400, None, None, i)
            for i, (uid, t) in enumerate(tokens.items())
        ],
        bar,
        "tokens",
    )

    names, weights = zip(*MODULES, strict=True)
    record_rows: list[Params] = []
    shares: list[Params] = []
    email_shares: list[Params] = []
    lines = 0
    for k in range(n_records):
        rid = org_id + 100_000_000 + k
        owner = rnd.choice(active) if active else admins[0]
        module = rnd.choices(names, weights)[0]
        record_rows.append((org_id, rid, module, f"Record {k}", owner, 0))
        if rnd.random() < 0.1:
            for uid in {rnd.choice(active) for _ in range(rnd.randint(1, 3))}:
                shares.append((org_id, rid, uid))
        if custom and rnd.random() < 0.2:
            for uid in {rnd.choice(custom) for _ in range(rnd.randint(1, 2))}:
                email_shares.append((org_id, rid, uid))
        if out is not None:
            caller = owner if owner in tokens else admins[0]
            if caller in tokens:
                out.write(f"/crm/v8/{module}/{rid}/__emails_sharing_details\t{tokens[caller]}\n")
                lines += 1
    await _insert(
        tx,
        "INSERT INTO records (org_id, id, module, name, owner_id, deleted)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        record_rows,
        bar,
        "records",
    )
    await tx.executemany(
        "INSERT INTO record_shares (org_id, record_id, user_id) VALUES (?, ?, ?)", shares
    )
    await _insert(
        tx,
        "INSERT INTO email_shares (org_id, record_id, user_id) VALUES (?, ?, ?)",
        email_shares,
        bar,
        "email shares",
    )
    return lines
