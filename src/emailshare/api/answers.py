"""The details endpoint's answer cache: the key of a request and its cached answer.

One place for both readers of the cache: the details handler (``api.routes.sharing_details``),
which computes and keeps what is missing, and the hot path (``api.hotpath``), which sends a
cached answer before routing. Both get the same answer for the same request because both ask
:func:`lookup`. Neither a handler nor a middleware: both import this, it imports neither.

An answer depends only on the token, the module and record as written, and the store; it is
kept while the store has not changed at all (``service.cache.Freshness``) and the token lives.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.datastructures import State

from emailshare.domain.tokens import token_hash
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


def keep(state: State, asked: Lookup, expires_at: int, status: int, body: bytes) -> None:
    """Cache an answer computed for ``asked`` until the token expires, unless the store
    changed while it was computed (then it may already be stale)."""
    if state.freshness.epoch == asked.epoch:
        # Kept as an exact-size copy: orjson's own buffer holds twice the bytes or more.
        state.answers.put(asked.key, (expires_at, status, memoryview(body).tobytes()))
