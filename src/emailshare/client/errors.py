"""The exceptions the client raises; every one is a :class:`ZohoClientError`."""

from __future__ import annotations

from typing import Any


class ZohoClientError(Exception):
    """Base of every error raised by :mod:`emailshare.client`."""


class ZohoAPIError(ZohoClientError):
    """The API answered with a Zoho error body (``{"code", "details", "message", "status"}``).

    ``status`` is the HTTP status, ``code``/``message``/``details`` are Zoho's, verbatim.

    Retry bookkeeping, so that callers can judge an error that follows a retry:

    - ``attempts``: how many requests this call sent (1 when nothing was retried).
    - ``retry_after``: the server's ``Retry-After`` in seconds, when it sent one (a 429 whose
      wait exceeded the client's ``max_delay`` is raised at once with this set).
    - ``uncertain_retry``: True when an earlier attempt of this same call got a 5xx answer,
      whose effect is unknown. A share answering ``ALREADY_SHARED`` (an unshare answering
      ``NOT_SHARED``) on such a retry most likely reports this call's own first attempt: the
      state the caller asked for holds.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any],
        *,
        attempts: int = 1,
        retry_after: float | None = None,
        uncertain_retry: bool = False,
    ) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.attempts = attempts
        self.retry_after = retry_after
        self.uncertain_retry = uncertain_retry


class UnexpectedResponseError(ZohoAPIError):
    """The answer was neither a Zoho success body nor a Zoho error body (say, an HTML page
    from a proxy, or JSON of another shape). ``code`` is ``UNEXPECTED_RESPONSE`` (a client-side
    label, not Zoho's); ``details["body"]`` holds the start of the body for diagnosis."""

    CODE = "UNEXPECTED_RESPONSE"

    def __init__(self, status: int, message: str, body: bytes, **kwargs: Any) -> None:
        excerpt = body[:500].decode("utf-8", errors="replace")
        super().__init__(status, self.CODE, message, {"body": excerpt}, **kwargs)


class OAuthError(ZohoClientError):
    """The accounts (token) endpoint refused to issue an access token.

    ``error`` is Zoho Accounts' code (``invalid_code`` for a bad or revoked refresh token,
    ``invalid_client``, ``invalid_client_secret``, ...). Zoho answers these with HTTP 200, so
    ``status`` is usually 200. When the endpoint kept failing with 429/5xx or answered
    something that is not Zoho's token JSON, ``error`` is ``server_error`` or
    ``unexpected_response`` (labels of this client).
    """

    def __init__(self, error: str, description: str | None = None, *, status: int = 200) -> None:
        text = f"OAuth token request failed: {error}"
        if description:
            text += f" ({description})"
        super().__init__(text)
        self.error = error
        self.description = description
        self.status = status


class ZohoTransportError(ZohoClientError):
    """The request could not be completed at the network level (connection refused, timeout,
    connection dropped), after any retries the policy allows. The underlying ``httpx`` error is
    ``__cause__``.

    ``request_sent`` is False when the request provably never left (no connection could be
    made); True means the server may have received and applied it.
    """

    def __init__(self, message: str, *, attempts: int, request_sent: bool) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.request_sent = request_sent
