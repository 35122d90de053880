"""Run one test against both clients: :class:`Client` as it is, and :class:`AsyncClient`
driven on an event loop of its own behind the same synchronous surface."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from emailshare.client import (
    ActionResult,
    AsyncClient,
    Client,
    CurrentUser,
    Org,
    SharingDetails,
)


class Api(Protocol):
    """The client API, as a test calls it."""

    def sharing_details(self, module: str, record_id: str | int) -> SharingDetails: ...
    def share_emails(self, module: str, record_id: str | int) -> ActionResult: ...
    def unshare_emails(self, module: str, record_id: str | int) -> ActionResult: ...
    def share_emails_bulk(
        self, module: str, record_ids: Sequence[str | int]
    ) -> list[ActionResult]: ...
    def unshare_emails_bulk(
        self, module: str, record_ids: Sequence[str | int]
    ) -> list[ActionResult]: ...
    def current_user(self) -> CurrentUser: ...
    def org(self) -> Org: ...
    def close(self) -> None: ...


class AsyncDriven:
    """An :class:`AsyncClient` whose every call runs to completion on a private loop."""

    def __init__(self, **kwargs: Any) -> None:
        self._runner = asyncio.Runner()
        self.client = AsyncClient(**kwargs)

    def sharing_details(self, module: str, record_id: str | int) -> SharingDetails:
        return self._runner.run(self.client.sharing_details(module, record_id))

    def share_emails(self, module: str, record_id: str | int) -> ActionResult:
        return self._runner.run(self.client.share_emails(module, record_id))

    def unshare_emails(self, module: str, record_id: str | int) -> ActionResult:
        return self._runner.run(self.client.unshare_emails(module, record_id))

    def share_emails_bulk(self, module: str, record_ids: Sequence[str | int]) -> list[ActionResult]:
        return self._runner.run(self.client.share_emails_bulk(module, record_ids))

    def unshare_emails_bulk(
        self, module: str, record_ids: Sequence[str | int]
    ) -> list[ActionResult]:
        return self._runner.run(self.client.unshare_emails_bulk(module, record_ids))

    def current_user(self) -> CurrentUser:
        return self._runner.run(self.client.current_user())

    def org(self) -> Org:
        return self._runner.run(self.client.org())

    def close(self) -> None:
        try:
            self._runner.run(self.client.aclose())
        finally:
            self._runner.close()


def build(kind: str, sleeps: list[float] | None, kwargs: dict[str, Any]) -> Api:
    """A client of ``kind`` (``sync`` or ``async``); waits are recorded in ``sleeps``, not
    slept, when it is given."""
    if kind == "sync":
        if sleeps is not None:
            kwargs = {**kwargs, "sleep": sleeps.append}
        return Client(**kwargs)

    async def record(seconds: float) -> None:
        assert sleeps is not None
        sleeps.append(seconds)

    if sleeps is not None:
        kwargs = {**kwargs, "sleep": record}
    return AsyncDriven(**kwargs)
