"""The details endpoint's answers: the key of a request, its cached answer, and the one way
an answer is computed.

One place for both paths to an answer: the details handler (``api.routes.sharing_details``)
and the hot path (``api.hotpath``), which answers before routing. Both ask :func:`lookup` for
a cached answer and :func:`compute` for a missing one, so both give the same bytes for the
same request. Neither a handler nor a middleware: both import this, it imports neither.

An answer depends only on the token, the module and record as written, and the store; it is
kept while the token lives and no write changed its record or its caller's org
(``service.cache.Freshness``: it is kept under both).
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.datastructures import State

from emailshare.api import wire
from emailshare.api.errors import error_body
from emailshare.domain.errors import ZohoError
from emailshare.domain.tokens import token_hash
from emailshare.service import details
from emailshare.service.auth import bearer_token

DETAILS_ROUTE = "/crm/{version}/{module}/{record_id}/__emails_sharing_details"
DETAILS_SUFFIX = "/__emails_sharing_details"
DETAILS_VERSIONS = frozenset({"v4", "v5", "v6", "v7", "v8"})

AnswerKey = tuple[str, str, str]  # token hash, module and record as written


class Lookup(NamedTuple):
    """What :func:`lookup` found: the request's key, when it was asked, and the answer."""

    token: str
    key: AnswerKey
    now: int  # seconds, by the settings' clock
    epoch: int  # the store's version as the caches know it; see :func:`keep`
    hit: tuple[int, bytes] | None  # the cached (status, body), or None


async def lookup(state: State, authorization: str | None, module: str, record: str) -> Lookup:
    """The key of a request for ``module``/``record`` with this ``Authorization`` header, and
    its cached answer while the store is unchanged and the token lives (counted as a hit).

    Asks the store whether anything changed first (one cheap read), then reads the token, as
    the details endpoint orders its checks: raises ``StoreUnavailable`` when the store is
    down, ``AuthenticationFailure`` for a header that holds no token.
    """
    epoch = await state.freshness.check()
    token = bearer_token(authorization)
    key = (token_hash(token), module, record)
    now = int(state.settings.clock())
    found = state.answers.get(key)
    if found is None or found[0] <= now:
        return Lookup(token, key, now, epoch, None)
    state.freshness.hits += 1
    return Lookup(token, key, now, epoch, (found[1], found[2]))


def keep(
    state: State,
    asked: Lookup,
    expires_at: int,
    status: int,
    body: bytes,
    org_id: int,
    record_id: int | None = None,
) -> None:
    """Cache an answer computed for ``asked``, of a caller of ``org_id``, until the token
    expires, unless the store changed while it was computed (then it may already be stale).
    It is kept under the org and the record (``bootstrap.answer_scope``). ``body`` is kept as
    it is: an exact-size ``bytes`` (see :func:`compute`). ``record_id``, when the caller has
    parsed the path's record already, saves the cache parsing it again for the scope."""
    if state.freshness.epoch == asked.epoch:
        entry = (expires_at, status, body, org_id)
        state.answers.put(asked.key, entry, None if record_id is None else (org_id, record_id))


async def compute(state: State, asked: Lookup, module: str, record: str) -> tuple[int, bytes]:
    """The (status, body) of a request :func:`lookup` found no answer for, computed and kept.

    Authenticates the token first (raising ``InvalidToken`` for one that is not live, as the
    details endpoint orders its checks; a caller not kept is read with the record's details,
    in one statement, when ``details.caller_and_read`` can), then runs the use case; its
    Zoho errors are answers too, spelt by ``api.errors`` and cached like any other.
    ``StoreUnavailable`` propagates.
    """
    who, read = await details.caller_and_read(
        state.store, asked.token, asked.key[0], asked.now, state.callers, module, record
    )
    state.freshness.misses += 1
    record_id = None
    try:
        found = await details.answer(state.store, who, module, record, state.org_views.get, read)
        status, body = 200, wire.sharing_details(found.details, found.publics, found.rendered)
        record_id = found.record_id
    except ZohoError as exc:
        status, body = error_body(exc)
        # An exact-size copy: orjson's own buffer holds twice the bytes or more. (The wire
        # assembles a details answer with bytes.join, which allocates exactly.)
        body = memoryview(body).tobytes()
    keep(state, asked, who.expires_at, status, body, who.org_id, record_id)
    return status, body
