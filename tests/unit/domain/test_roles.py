"""The role numbering (domain/roles.py) against the definition it replaces: on random role
forests, "A is above B" by spans is exactly "A is on B's chain of ``reports_to``", and roles on
or under a cycle are left out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from emailshare.domain.model import Org, Role
from emailshare.domain.roles import number_roles


@st.composite
def forests(draw: st.DrawFn, cycles: bool = False) -> list[Role]:
    """Up to 40 roles of distinct random ids; each reports to an earlier role or to nobody
    (a forest). With ``cycles``, any role may report to any role, itself included."""
    ids = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=40))
    roles = []
    for i, rid in enumerate(ids):
        pool = ids if cycles else ids[:i]
        parent = draw(st.none() | st.sampled_from(pool)) if pool else None
        roles.append(Role(rid, f"r{rid}", parent))
    return draw(st.permutations(roles))


def naive_above(roles: list[Role], a: int, b: int) -> bool:
    """A is above B: A is met walking up B's ``reports_to`` chain (stopping at a loop)."""
    parent = {r.id: r.reports_to for r in roles}
    seen = {b}
    current = parent.get(b)
    while current is not None and current not in seen:
        if current == a:
            return True
        seen.add(current)
        current = parent.get(current)
    return False


def on_a_cycle_or_under_one(roles: list[Role], rid: int) -> bool:
    parent = {r.id: r.reports_to for r in roles}
    seen: set[int] = set()
    current: int | None = rid
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parent.get(current)
    return False


@settings(max_examples=300, deadline=None)
@given(forests())
def test_above_by_spans_is_the_transitive_definition(roles: list[Role]) -> None:
    spans = number_roles(roles)
    assert set(spans) == {r.id for r in roles}
    for a in roles:
        for b in roles:
            assert spans[a.id].above(spans[b.id]) == naive_above(roles, a.id, b.id), (a, b)


@settings(max_examples=300, deadline=None)
@given(forests())
def test_positions_are_a_walk_and_depth_is_the_chain_length(roles: list[Role]) -> None:
    spans = number_roles(roles)
    assert sorted(s.lo for s in spans.values()) == list(range(len(roles)))
    org = Org(1, "o", roles=tuple(roles))
    for r in roles:
        assert spans[r.id].depth == len(org.role_ancestors(r.id))


@settings(max_examples=300, deadline=None)
@given(forests(cycles=True))
def test_roles_on_or_under_a_cycle_are_left_out(roles: list[Role]) -> None:
    spans = number_roles(roles)
    kept = {r.id for r in roles if not on_a_cycle_or_under_one(roles, r.id)}
    assert set(spans) == kept
    for a in kept:
        for b in kept:
            assert spans[a].above(spans[b]) == naive_above(roles, a, b)


def test_a_chain_of_100_000_roles_is_numbered_without_recursion() -> None:
    chain = [Role(i, f"r{i}", i - 1 if i > 1 else None) for i in range(1, 100_001)]
    spans = number_roles(chain)
    assert spans[1].lo == 0
    assert spans[1].hi == 99_999
    assert spans[100_000].depth == 99_999
    assert spans[1].above(spans[100_000])
    assert not spans[100_000].above(spans[1])
