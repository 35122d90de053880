"""The asynchronous client: the same API as :class:`~emailshare.client.Client`, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TypeVar

import httpx

from emailshare.client import calls
from emailshare.client.auth import OAuthCredentials
from emailshare.client.base import (
    DEFAULT_REFRESH_MARGIN,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    USER_AGENT,
    BaseClient,
)
from emailshare.client.emails import AsyncEmailsAPI
from emailshare.client.flow import (
    Action,
    Authorize,
    Call,
    Feedback,
    Flow,
    Grant,
    Reply,
    Send,
    Sleep,
    api_flow,
    classify,
)
from emailshare.client.models import ActionResult, CurrentUser, Org, SharingDetails
from emailshare.client.retry import RetryPolicy

T = TypeVar("T")


class AsyncClient(AsyncEmailsAPI, BaseClient):
    """An asyncio client of Zoho CRM's email-sharing APIs (and of emailshare).

    Authentication: ``access_token`` (a fixed token), or ``oauth`` credentials, or both (the
    token is used until the API refuses it). ``api_domain`` is required with an
    ``access_token``; with ``oauth`` alone it defaults to the token answer's. With
    ``oauth`` the client gets a token on first use, refreshes it ``refresh_margin`` seconds
    before ``expires_in`` runs out, and refreshes once when the API answers
    ``401 INVALID_TOKEN``. One refresh runs at a time; tasks waiting for it reuse its token.

    Retries follow ``retry`` (:class:`~emailshare.client.RetryPolicy`). ``sleep``, ``random``
    (draws in ``[0, 1)``), ``now`` (wall clock, for ``Retry-After`` dates) and ``monotonic``
    (token lifetimes) can be injected for deterministic tests. ``http_client`` is used as
    given and not closed by :meth:`aclose`. Use one instance from one event loop; concurrent
    tasks share it safely.
    """

    def __init__(
        self,
        *,
        api_domain: str | None = None,
        access_token: str | None = None,
        oauth: OAuthCredentials | None = None,
        version: str = DEFAULT_VERSION,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        random: Callable[[], float] | None = None,
        now: Callable[[], float] | None = None,
        monotonic: Callable[[], float] | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        super().__init__(
            api_domain=api_domain,
            access_token=access_token,
            oauth=oauth,
            version=version,
            retry=retry,
            refresh_margin=refresh_margin,
            random=random,
            now=now,
            monotonic=monotonic,
            user_agent=user_agent,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._sleep = sleep or asyncio.sleep
        self._lock = asyncio.Lock()

    # -- the API -------------------------------------------------------------------------

    async def sharing_details(self, module: str, record_id: str | int) -> SharingDetails:
        """Who shares emails of a record with the caller, and which views are available.

        Accepts every shape Zoho documents (array or bare object; ``share_from_users`` or
        ``shared_from_users``; ids as strings or numbers). Raises :class:`ZohoAPIError`.
        """
        return await self._run(calls.sharing_details(self._version, module, record_id))

    async def share_emails(self, module: str, record_id: str | int) -> ActionResult:
        """Share the caller's mailbox emails of one record (v8). Returns the ``SUCCESS`` entry.

        Raises :class:`ZohoAPIError` for every error, ``ALREADY_SHARED`` included. Retried
        on 429 and 5xx (sharing twice leaves the same state), not after a transport failure
        once the request may have arrived (:class:`ZohoTransportError` with
        ``request_sent=True``). An ``ALREADY_SHARED`` with ``uncertain_retry`` set followed a
        5xx: most likely this call's own first attempt shared the emails.
        """
        return await self._run(calls.share_one("share", module, record_id))

    async def unshare_emails(self, module: str, record_id: str | int) -> ActionResult:
        """Stop sharing the caller's emails of one record; as :meth:`share_emails`, with
        ``NOT_SHARED`` in the role of ``ALREADY_SHARED``."""
        return await self._run(calls.share_one("unshare", module, record_id))

    async def share_emails_bulk(
        self, module: str, record_ids: Sequence[str | int]
    ) -> list[ActionResult]:
        """Share emails of up to 200 records in one request: one entry per id, in order.

        Per-id failures never raise, even when every id failed (HTTP 400 with ``data``):
        check ``ok``, or ``in_effect`` to count ``ALREADY_SHARED`` as done (as after a retry
        that followed a 5xx). A refused request (auth, module, scopes, no or too many ids:
        a flat error body) raises :class:`ZohoAPIError`. Retries as :meth:`share_emails`.
        """
        return await self._run(calls.share_many("share", module, record_ids))

    async def unshare_emails_bulk(
        self, module: str, record_ids: Sequence[str | int]
    ) -> list[ActionResult]:
        """Stop sharing emails of up to 200 records; as :meth:`share_emails_bulk`."""
        return await self._run(calls.share_many("unshare", module, record_ids))

    async def current_user(self) -> CurrentUser:
        """The token's user (``GET /crm/{v}/users?type=CurrentUser``; needs
        ``ZohoCRM.users.READ``)."""
        return await self._run(calls.current_user(self._version))

    async def org(self) -> Org:
        """The token's org (``GET /crm/{v}/org``; needs ``ZohoCRM.org.READ``)."""
        return await self._run(calls.org(self._version))

    # -- lifecycle -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the HTTP connections (unless the ``http_client`` was given)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- I/O for the flows -----------------------------------------------------------------

    async def _run(self, call: Call[T]) -> T:
        return await self._drive(api_flow(call, self._ctx))

    async def _drive(self, flow: Flow[T]) -> T:
        feedback: Feedback = None
        try:
            while True:
                try:
                    action = flow.send(feedback)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                feedback = await self._perform(action)
        finally:
            flow.close()

    async def _perform(self, action: Action) -> Feedback:
        if isinstance(action, Send):
            try:
                resp = await self._http.request(**action.request.httpx_args())
            except httpx.TransportError as exc:
                return classify(exc)
            return Reply.of(resp)
        if isinstance(action, Sleep):
            await self._sleep(action.seconds)
            return None
        return await self._authorize(action)

    async def _authorize(self, action: Authorize) -> Grant:
        grant = self._keeper.usable(action.stale)
        if grant is not None:
            return grant
        async with self._lock:
            # Another task may have refreshed while this one waited for the lock.
            grant = self._keeper.usable(action.stale)
            if grant is not None:
                return grant
            state = await self._drive(self._keeper.refresh_flow(self._ctx))
            return self._keeper.store(state)
