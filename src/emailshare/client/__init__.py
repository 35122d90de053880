"""A typed client for Zoho CRM's email-sharing APIs, sync and async, that works against real
Zoho and against emailshare alike. See ``docs/client.md``.

    from emailshare.client import Client, OAuthCredentials

    with Client(oauth=OAuthCredentials(client_id, client_secret, refresh_token)) as zoho:
        details = zoho.sharing_details("Leads", "3652397000001790004")
"""

from emailshare.client.aio import AsyncClient
from emailshare.client.auth import OAuthCredentials
from emailshare.client.email_models import (
    Attachment,
    EmailDetail,
    EmailOwner,
    EmailPage,
    EmailStatus,
    EmailSummary,
    LinkedRecord,
    PageInfo,
    Party,
)
from emailshare.client.errors import (
    OAuthError,
    UnexpectedResponseError,
    ZohoAPIError,
    ZohoClientError,
    ZohoTransportError,
)
from emailshare.client.models import ActionResult, CurrentUser, Org, ShareFromUser, SharingDetails
from emailshare.client.retry import RetryPolicy
from emailshare.client.sync import Client

__all__ = [
    "ActionResult",
    "AsyncClient",
    "Attachment",
    "Client",
    "CurrentUser",
    "EmailDetail",
    "EmailOwner",
    "EmailPage",
    "EmailStatus",
    "EmailSummary",
    "LinkedRecord",
    "OAuthCredentials",
    "OAuthError",
    "Org",
    "PageInfo",
    "Party",
    "RetryPolicy",
    "ShareFromUser",
    "SharingDetails",
    "UnexpectedResponseError",
    "ZohoAPIError",
    "ZohoClientError",
    "ZohoTransportError",
]
