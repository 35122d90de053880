"""The SQL of Zoho's emulated API limits: credits per org over a rolling 24 h, requests in flight.

Every admission is one short transaction that first writes the org's row in
``api_limit_orgs``: on PostgreSQL that row lock serialises the check-then-spend of concurrent
requests of one org across every worker of every instance; on SQLite ``BEGIN IMMEDIATE``
serialises all writers already. None of these writes bumps the store's version, so on
PostgreSQL they do not empty the answer caches (see ``service.cache``).
"""

from __future__ import annotations

from emailshare.domain.views import Admission
from emailshare.storage.db import Database

WINDOW_MINUTES = 24 * 60  # the rolling window, in the one-minute buckets credits are kept in
LEASE_SECONDS = 30  # how long a slot of a request in flight counts without being released


_LOCK_ORG = (
    "INSERT INTO api_limit_orgs (org_id, touched) VALUES (?, ?)"
    " ON CONFLICT (org_id) DO UPDATE SET touched = excluded.touched"
)
_PRUNE_CREDITS = "DELETE FROM api_credits WHERE org_id = ? AND minute <= ?"
_SPENT = "SELECT COALESCE(SUM(credits), 0), MIN(minute) FROM api_credits WHERE org_id = ?"
_SPEND = (
    "INSERT INTO api_credits (org_id, minute, credits) VALUES (?, ?, ?)"
    " ON CONFLICT (org_id, minute) DO UPDATE SET credits = api_credits.credits + excluded.credits"
)
_PRUNE_SLOTS = "DELETE FROM api_inflight WHERE org_id = ? AND expires_at <= ?"
_IN_FLIGHT = "SELECT COUNT(*) FROM api_inflight WHERE org_id = ?"
_TAKE_SLOT = "INSERT INTO api_inflight (org_id, slot, expires_at) VALUES (?, ?, ?)"
_FREE_SLOT = "DELETE FROM api_inflight WHERE org_id = ? AND slot = ?"


async def admit(
    db: Database,
    org_id: int,
    now: int,
    *,
    credits_per_day: int,
    cost: int,
    max_concurrent: int,
    slot: str | None,
) -> Admission:
    """Spend ``cost`` credits of the org and take a slot for one request, or refuse.

    A limit of 0 is off. Credits are checked first; a refused request spends nothing and takes
    no slot. ``slot`` names the request's slot (needed when ``max_concurrent`` is on).
    """
    minute = now // 60
    remaining: int | None = None
    async with db.transaction(bump=False) as tx:
        await tx.execute(_LOCK_ORG, (org_id, now))
        if credits_per_day:
            await tx.execute(_PRUNE_CREDITS, (org_id, minute - WINDOW_MINUTES))
            row = await tx.fetchone(_SPENT, (org_id,))
            spent = int(row[0]) if row else 0
            remaining = credits_per_day - spent
            if remaining < cost:
                oldest = int(row[1]) if row and row[1] is not None else minute
                # The oldest bucket leaves the window when its minute is 1440 minutes old.
                wait = (oldest + WINDOW_MINUTES) * 60 - now
                return Admission(False, "credits", max(0, remaining), max(1, wait))
        if max_concurrent:
            await tx.execute(_PRUNE_SLOTS, (org_id, now))
            row = await tx.fetchone(_IN_FLIGHT, (org_id,))
            if row is not None and int(row[0]) >= max_concurrent:
                return Admission(False, "concurrency", remaining, 1)
        if credits_per_day:
            await tx.execute(_SPEND, (org_id, minute, cost))
            remaining = (remaining or 0) - cost
        if max_concurrent:
            if slot is None:
                raise ValueError("a slot name is needed when max_concurrent is on")
            await tx.execute(_TAKE_SLOT, (org_id, slot, now + LEASE_SECONDS))
    return Admission(True, None, remaining, None)


async def release(db: Database, org_id: int, slot: str) -> None:
    """Give back the slot a request took (the lease frees it anyway if this never runs)."""
    async with db.transaction(bump=False) as tx:
        await tx.execute(_FREE_SLOT, (org_id, slot))
