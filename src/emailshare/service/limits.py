"""Zoho's API limits, emulated (docs/limits.md): what one request costs and what the answer
shows. The counting itself is the store's (the ``LimitsStore`` port), shared by every worker."""

from __future__ import annotations

from dataclasses import dataclass

from emailshare.domain.views import Admission
from emailshare.service.ports import LimitsStore

CREDITS_PER_CALL = 1  # every call of this API, single or bulk (docs/limits.md)


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """The configured limits; 0 is off."""

    credits_per_day: int
    max_concurrent: int


async def admit(
    store: LimitsStore, policy: LimitPolicy, org_id: int, now: int, slot: str | None
) -> Admission:
    """Charge one call of the org and take its slot, or refuse."""
    return await store.admit(
        org_id,
        now,
        credits_per_day=policy.credits_per_day,
        cost=CREDITS_PER_CALL,
        max_concurrent=policy.max_concurrent,
        slot=slot,
    )


async def release(store: LimitsStore, org_id: int, slot: str) -> None:
    """Give back the slot a request took."""
    await store.release(org_id, slot)


def credits_shown(policy: LimitPolicy, admission: Admission) -> int | None:
    """The remaining credits the answer shows, or None: Zoho shows them once half is used."""
    remaining = admission.remaining
    if remaining is None or (policy.credits_per_day - remaining) * 2 < policy.credits_per_day:
        return None
    return remaining
