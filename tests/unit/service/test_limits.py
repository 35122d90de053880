"""``service.limits``: what one call costs and what the answer shows (docs/limits.md); the
counting is the store's, here the fake's."""

from __future__ import annotations

import pytest

from emailshare.domain.views import Admission
from emailshare.service.limits import CREDITS_PER_CALL, LimitPolicy, admit, credits_shown, release
from tests.unit.fakes import FakeStore

pytestmark = pytest.mark.anyio
NOW = 4_000_000


async def test_each_call_costs_one_credit_until_the_budget_is_spent() -> None:
    store, policy = FakeStore(), LimitPolicy(credits_per_day=3, max_concurrent=0)
    found = [await admit(store, policy, 1, NOW + i, None) for i in range(4)]
    assert [a.admitted for a in found] == [True, True, True, False]
    assert [a.remaining for a in found[:3]] == [2, 1, 0]
    assert (found[3].reason, found[3].retry_after) == ("credits", 86_400 - 3)  # the first ages out
    assert CREDITS_PER_CALL == 1


async def test_a_slot_is_held_until_released() -> None:
    store, policy = FakeStore(), LimitPolicy(credits_per_day=0, max_concurrent=1)
    assert (await admit(store, policy, 1, NOW, "a")).admitted
    refused = await admit(store, policy, 1, NOW, "b")
    assert (refused.admitted, refused.reason) == (False, "concurrency")
    await release(store, 1, "a")
    assert (await admit(store, policy, 1, NOW, "b")).admitted


@pytest.mark.parametrize(
    ("remaining", "shown"),
    [(None, None), (10, None), (6, None), (5, 5), (0, 0)],
)
def test_remaining_credits_show_once_half_the_budget_is_used(
    remaining: int | None, shown: int | None
) -> None:
    policy = LimitPolicy(credits_per_day=10, max_concurrent=0)
    assert credits_shown(policy, Admission(True, None, remaining)) == shown
