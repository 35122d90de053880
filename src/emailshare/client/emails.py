"""The emails of a record (docs/contract.md §12): the calls, and the methods the sync and async
clients get from :class:`EmailsAPI` and :class:`AsyncEmailsAPI`.

``list_emails`` reads one page; ``iter_emails`` (``aiter_emails``) follows ``next_index`` to
the last page and yields every email once. ``get_email`` opens one email with its content.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

from emailshare.client import email_wire
from emailshare.client.calls import _read, _segment
from emailshare.client.email_models import EmailDetail, EmailPage, EmailSummary
from emailshare.client.flow import Call

T = TypeVar("T")


def _params(type_: str | None, owner_id: str | int | None, index: str | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if type_ is not None:
        params["type"] = type_
    if owner_id is not None:
        params["owner_id"] = str(owner_id)
    if index is not None:
        params["index"] = index
    return params


def list_call(
    version: str,
    module: str,
    record_id: str | int,
    type_: str | None = None,
    owner_id: str | int | None = None,
    index: str | None = None,
) -> Call[EmailPage]:
    """``GET /crm/{v}/{module}/{id}/Emails`` with ``type``, ``owner_id`` and ``index``."""
    path = f"/crm/{version}/{_segment(module)}/{_segment(record_id)}/Emails"
    return Call("GET", path, _read(email_wire.page), _params(type_, owner_id, index))


def get_call(
    version: str,
    module: str,
    record_id: str | int,
    message_id: str,
    type_: str | None = None,
    owner_id: str | int | None = None,
) -> Call[EmailDetail]:
    """``GET /crm/{v}/{module}/{id}/Emails/{message_id}``."""
    base = f"/crm/{version}/{_segment(module)}/{_segment(record_id)}/Emails"
    path = f"{base}/{_segment(message_id)}"
    return Call("GET", path, _read(email_wire.detail), _params(type_, owner_id, None))


def _next_index(page: EmailPage) -> str | None:
    """The ``index`` of the page after ``page``; None when ``page`` is the last (no
    ``next_index``, or ``more_records`` false). The one stop rule of both iterators."""
    if page.info.next_index is None or not page.info.more_records:
        return None
    return page.info.next_index


class EmailsAPI:
    """The emails methods of :class:`~emailshare.client.Client`."""

    _version: str

    def _run(self, call: Call[T]) -> T:  # provided by the client
        raise NotImplementedError

    def list_emails(
        self,
        module: str,
        record_id: str | int,
        *,
        type: str | None = None,
        owner_id: str | int | None = None,
        index: str | None = None,
    ) -> EmailPage:
        """One page (10 emails, newest first) of a record's emails; ``index`` is a
        ``next_index`` of an earlier page (None: the first). A 204 is an empty page.
        Raises :class:`~emailshare.client.ZohoAPIError`."""
        return self._run(list_call(self._version, module, record_id, type, owner_id, index))

    def iter_emails(
        self,
        module: str,
        record_id: str | int,
        *,
        type: str | None = None,
        owner_id: str | int | None = None,
    ) -> Iterator[EmailSummary]:
        """Every email of the list, page after page, following ``next_index``."""
        index: str | None = None
        while True:
            page = self.list_emails(module, record_id, type=type, owner_id=owner_id, index=index)
            yield from page.emails
            index = _next_index(page)
            if index is None:
                return

    def get_email(
        self,
        module: str,
        record_id: str | int,
        message_id: str,
        *,
        type: str | None = None,
        owner_id: str | int | None = None,
    ) -> EmailDetail:
        """One email of the record, with its content; ``owner_id`` names the mailbox (the
        caller's when None). Raises :class:`~emailshare.client.ZohoAPIError`."""
        call = get_call(self._version, module, record_id, message_id, type, owner_id)
        return self._run(call)


class AsyncEmailsAPI:
    """The emails methods of :class:`~emailshare.client.AsyncClient` (as :class:`EmailsAPI`)."""

    _version: str

    async def _run(self, call: Call[T]) -> T:  # provided by the client
        raise NotImplementedError

    async def list_emails(
        self,
        module: str,
        record_id: str | int,
        *,
        type: str | None = None,
        owner_id: str | int | None = None,
        index: str | None = None,
    ) -> EmailPage:
        """As :meth:`EmailsAPI.list_emails`."""
        call = list_call(self._version, module, record_id, type, owner_id, index)
        return await self._run(call)

    async def aiter_emails(
        self,
        module: str,
        record_id: str | int,
        *,
        type: str | None = None,
        owner_id: str | int | None = None,
    ) -> AsyncIterator[EmailSummary]:
        """As :meth:`EmailsAPI.iter_emails`, asynchronously."""
        index: str | None = None
        while True:
            page = await self.list_emails(
                module, record_id, type=type, owner_id=owner_id, index=index
            )
            for email in page.emails:
                yield email
            index = _next_index(page)
            if index is None:
                return

    async def get_email(
        self,
        module: str,
        record_id: str | int,
        message_id: str,
        *,
        type: str | None = None,
        owner_id: str | int | None = None,
    ) -> EmailDetail:
        """As :meth:`EmailsAPI.get_email`."""
        call = get_call(self._version, module, record_id, message_id, type, owner_id)
        return await self._run(call)
