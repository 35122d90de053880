"""The role hierarchy numbered in one pass, so that "is role A above role B" is two comparisons.

A depth-first walk of the role forest (roots, then each role's reports, in id order) gives each
role its position ``lo`` and ``hi``, the last position of the roles under it: B is below A
exactly when ``A.lo < B.lo <= A.hi`` (nested intervals, the "nested set" numbering). The walk is
linear in the number of roles, where closing the hierarchy (every role with every role above
it) is quadratic in its depth: a chain of 4 000 roles was 8 million rows (docs/reliability.md,
"Loads"). The store keeps ``lo`` and ``hi`` on each role (``storage/bulk.py``; migration 0013
numbers stores loaded before, in the same order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from emailshare.domain.model import Role


@dataclass(frozen=True, slots=True)
class Span:
    """A role's place in the walk: its position, the last position under it, its depth (0 for
    a role that reports to nobody)."""

    lo: int
    hi: int
    depth: int

    def above(self, other: Span) -> bool:
        """Whether the role of ``self`` is above the role of ``other`` (strictly)."""
        return self.lo < other.lo <= self.hi


def number_roles(roles: Iterable[Role]) -> dict[int, Span]:
    """Every role reached from a root, by id, with its span. A role that reports to a role not
    listed counts as a root; roles on a cycle, or under one, are reached from no root and left
    out (the fixture parser refuses them: ``service/fixtures/parse.py``)."""
    listed = list(roles)
    ids = {r.id for r in listed}
    parent: dict[int, int | None] = {}
    children: dict[int | None, list[int]] = {}
    for r in listed:
        up = r.reports_to if r.reports_to in ids else None
        parent[r.id] = up
        children.setdefault(up, []).append(r.id)
    for kids in children.values():
        kids.sort()
    order: list[int] = []
    depth: dict[int, int] = {}
    stack = list(reversed(children.get(None, [])))
    for root in stack:
        depth[root] = 0
    while stack:
        rid = stack.pop()
        order.append(rid)
        kids = children.get(rid, [])
        for kid in kids:
            depth[kid] = depth[rid] + 1
        stack.extend(reversed(kids))
    size = dict.fromkeys(order, 1)
    for rid in reversed(order):  # reports before their role: sizes add up from the leaves
        up = parent[rid]
        if up is not None:
            size[up] += size[rid]
    return {rid: Span(i, i + size[rid] - 1, depth[rid]) for i, rid in enumerate(order)}
