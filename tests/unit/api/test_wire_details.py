"""``api.wire.sharing_details`` assembles the details answer from the bytes of an org's public
sharers made once (``wire.rendered``): the bytes must be those of the whole answer's dict
dumped by orjson, whatever mix of those objects, copies of them and other users it lists."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from emailshare.api import wire
from emailshare.domain import rules
from emailshare.domain.rules import ShareFromUser
from emailshare.service.orgview import NOT_RENDERED

names = st.text(max_size=12)  # any text: quotes, backslashes, controls, astral planes
users = st.builds(
    ShareFromUser, st.integers(1, 2**63 - 1), names, st.sampled_from(["imap", "pop", "api"])
)


def dumped(result: rules.SharingDetails) -> bytes:
    """The answer as the contract writes it, dumped whole (what the wire used to do)."""
    listed = [
        {"id": str(u.id), "name": u.name, "_type": u.protocol} for u in result.share_from_users
    ]
    body = {"available_types": list(result.available_types), "share_from_users": listed}
    return orjson.dumps({"__emails_sharing_details": [body]})


@given(
    publics=st.lists(users, max_size=51).map(rules.ordered),
    caller=st.none() | users,
    skipped=st.integers(0, 51),
    customs=st.lists(users, max_size=5).map(rules.ordered),
    copied=st.booleans(),
    gathers=st.booleans(),
)
def test_the_bytes_are_the_whole_answer_dumped(
    publics: list[ShareFromUser],
    caller: ShareFromUser | None,
    skipped: int,
    customs: list[ShareFromUser],
    copied: bool,
    gathers: bool,
) -> None:
    """As ``service.details`` assembles answers: the caller, then the public sharers but one
    (the caller, when one of them) merged with the record's custom sharers, at most 50."""
    spelt = wire.rendered(publics)
    others = [u for n, u in enumerate(publics) if n != skipped]
    if copied:  # equal users that are not the view's own objects
        others = [ShareFromUser(u.id, u.name, u.protocol) for u in others]
    result = rules.assemble_ordered(caller, rules.merged(others, customs), gathers)
    assert wire.sharing_details(result, tuple(publics), spelt) == dumped(result)
    assert wire.sharing_details(result) == dumped(result)  # nothing rendered: spelt now
    assert wire.sharing_details(result, tuple(publics), NOT_RENDERED) == dumped(result)


@given(st.lists(users, max_size=51))
def test_rendered_ends_cut_the_first_k(spelt_users: list[ShareFromUser]) -> None:
    spelt = wire.rendered(spelt_users)
    for k in range(len(spelt_users) + 1):
        assert spelt.joined[: spelt.ends[k]] == b",".join(spelt.each[:k])
    assert spelt.each == tuple(wire.sharer(u) for u in spelt_users)
