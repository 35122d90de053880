"""The error catalogue: every error emailshare raises is one of these classes.

Three families, each with its own envelope, all chosen in one place only (``api/errors.py``):

* :class:`ZohoError`: Zoho CRM's errors, a code, message and details (docs/contract.md §7);
  :class:`FixtureError` is one (``INVALID_DATA`` naming the reason).
* :class:`OAuthError`: Zoho Accounts' token endpoint errors, HTTP 200 ``{"error": code}``
  (docs/contract.md §9).
* :class:`StoreUnavailable`: the store is down; answered ``INTERNAL_ERROR``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ZohoError(Exception):
    """A Zoho API error: ``code`` and ``message`` as Zoho spells them, plus ``details``."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    message: ClassVar[str] = "Internal Server Error"

    def __init__(self, details: dict[str, Any] | None = None, message: str | None = None) -> None:
        self.details: dict[str, Any] = details if details is not None else {}
        if message is not None:
            self.message = message  # type: ignore[misc]
        super().__init__(f"{self.code}: {self.message}")


class InternalError(ZohoError):
    code = "INTERNAL_ERROR"
    message = "Internal Server Error"


class InvalidUrlPattern(ZohoError):
    code = "INVALID_URL_PATTERN"
    message = "Please check if the URL trying to access is a correct one"


class InvalidRequestMethod(ZohoError):
    code = "INVALID_REQUEST_METHOD"
    message = "The http request method type is not a valid one"


class ApiNotSupported(ZohoError):
    code = "API_NOT_SUPPORTED"
    message = "the api is not supported in this version"


class AuthenticationFailure(ZohoError):
    code = "AUTHENTICATION_FAILURE"
    message = "Authentication failed"


class InvalidToken(ZohoError):
    code = "INVALID_TOKEN"
    message = "invalid oauth token"


class OAuthScopeMismatch(ZohoError):
    code = "OAUTH_SCOPE_MISMATCH"
    message = "invalid oauth scope to access this URL"


class InvalidModule(ZohoError):
    code = "INVALID_MODULE"
    message = "the module name given seems to be invalid"


class NotSupported(ZohoError):
    code = "NOT_SUPPORTED"
    message = "the given module is not supported in api"


class InvalidData(ZohoError):
    code = "INVALID_DATA"
    message = "the related id given seems to be invalid"


class NoPermission(ZohoError):
    code = "NO_PERMISSION"
    message = "permission denied"


class NotAllowed(ZohoError):
    code = "NOT_ALLOWED"
    message = "User did not enable custom sharing"


class AlreadyShared(ZohoError):
    code = "ALREADY_SHARED"
    message = "Emails are already shared to the colleagues already"


class NotShared(ZohoError):
    code = "NOT_SHARED"
    message = "Emails are not  shared to the colleagues already"


class DuplicateData(ZohoError):
    code = "DUPLICATE_DATA"
    message = "Duplicate Data"


class MandatoryNotFound(ZohoError):
    code = "MANDATORY_NOT_FOUND"
    message = "expected key is missing"


class LimitExceeded(ZohoError):
    code = "LIMIT_EXCEEDED"
    message = "the limit was exceeded"


class TooManyRequests(ZohoError):
    code = "TOO_MANY_REQUESTS"
    message = "too many requests continuously"


def invalid_record_path() -> InvalidData:
    """The answer for a bad or unknown record id in the URL (docs/contract.md §5)."""
    return InvalidData({"resource_path_index": 1})


def no_read_permission() -> NoPermission:
    """The answer when the caller may not read the record (docs/contract.md §5)."""
    return NoPermission({"permissions": ["Crm_Implied_View_Emails"]})


def invalid_param(name: str) -> InvalidData:
    """A bad query parameter of the emails calls (docs/contract.md §12.2)."""
    return InvalidData({"param_name": name}, "invalid data")


def invalid_message_id() -> InvalidData:
    """A message id that is not an email of the record (docs/contract.md §12.5)."""
    return InvalidData({"resource_path_index": 3}, "Invalid message id has been provided")


def colleague_not_shared() -> NoPermission:
    """A colleague's mailbox emails the caller may not read (docs/contract.md §12.3)."""
    return NoPermission(
        {},
        "Your colleague has not provided viewing permissions for the email messages related"
        " to this record.",
    )


def not_in_mailbox() -> NoPermission:
    """A mailbox email of another owner than the one asked for (docs/contract.md §12.5)."""
    return NoPermission(
        {}, "Do not have any email with this message id in user configured email account"
    )


class FixtureError(InvalidData, ValueError):
    """A fixture document (or an operator's request) that cannot be loaded.

    ``str()`` is the reason, naming the bad key or id (the command line prints it); the admin
    API answers ``INVALID_DATA`` with the reason in ``details``.
    """

    message = "the fixture is invalid"

    def __init__(self, reason: str) -> None:
        super().__init__({"reason": reason[:500]})
        self.reason = reason
        self.args = (reason,)


class OAuthError(Exception):
    """An error of Zoho Accounts' token endpoint, answered HTTP 200 ``{"error": code}``."""

    code: ClassVar[str] = "invalid_client"

    def __init__(self) -> None:
        super().__init__(self.code)


class InvalidClient(OAuthError):
    code = "invalid_client"


class InvalidClientSecret(OAuthError):
    code = "invalid_client_secret"


class InvalidCode(OAuthError):
    code = "invalid_code"


class InvalidRedirectUri(OAuthError):
    code = "invalid_redirect_uri"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


class StoreUnavailable(Exception):
    """The store cannot be reached or answered with an operational error (raised by
    ``storage``; answered ``INTERNAL_ERROR``, logged as a warning).

    Not a :class:`ZohoError` on purpose: code that keeps a ZohoError as an answer (the answer
    cache, a bulk request's outcomes) must never take an outage for one.
    """


class LeaseLost(Exception):
    """Another instance took a mailbox's sync lease over (ours ran out): the pass stops writing
    (raised by ``storage.mailboxes``, handled by ``service.mailsync``; never answered)."""
