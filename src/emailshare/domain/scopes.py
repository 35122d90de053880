"""OAuth scope checks, compared case-insensitively as Zoho does (docs/contract.md §4)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from emailshare.domain.errors import OAuthScopeMismatch


def normalise(scopes: Iterable[str]) -> frozenset[str]:
    """Scopes as a case-folded set, the form every check below takes."""
    return frozenset(s.strip().lower() for s in scopes if s.strip())


def _any(granted: frozenset[str], *wanted: str) -> bool:
    return any(w.lower() in granted for w in wanted)


# What require_details_read decided, per granted set and module scope name: the check runs on
# every computed details answer and Emails call (seven case folds, four strings formatted, ~3
# µs), and callers share their scopes sets (``service.auth.scopes_of``), so a few entries answer
# nearly every request. Bounded (functools.lru_cache).
_DETAILS_READ_MAX = 1024


def require_details_read(granted: frozenset[str], scope_name: str) -> None:
    """Module read and emails read, both needed for ``__emails_sharing_details``."""
    if not _details_read(granted, scope_name):
        raise OAuthScopeMismatch()


@functools.lru_cache(maxsize=_DETAILS_READ_MAX)
def _details_read(granted: frozenset[str], scope_name: str) -> bool:
    module_read = _any(
        granted,
        "ZohoCRM.modules.ALL",
        "ZohoCRM.modules.READ",
        f"ZohoCRM.modules.{scope_name}.ALL",
        f"ZohoCRM.modules.{scope_name}.READ",
    )
    emails_read = _any(
        granted, "ZohoCRM.modules.ALL", "ZohoCRM.modules.emails.ALL", "ZohoCRM.modules.emails.READ"
    )
    return module_read and emails_read


def require_share_write(granted: frozenset[str], scope_name: str) -> None:
    """Scopes for ``actions/share_emails`` and ``unshare_emails`` (docs/contract.md §8)."""
    if not _any(
        granted,
        "ZohoCRM.modules.ALL",
        f"ZohoCRM.modules.{scope_name}.ALL",
        f"ZohoCRM.modules.{scope_name}.CREATE",
    ):
        raise OAuthScopeMismatch()


def require_users_read(granted: frozenset[str]) -> None:
    if not _any(granted, "ZohoCRM.users.READ", "ZohoCRM.users.ALL"):
        raise OAuthScopeMismatch()


def require_org_read(granted: frozenset[str]) -> None:
    if not _any(granted, "ZohoCRM.org.READ", "ZohoCRM.org.ALL"):
        raise OAuthScopeMismatch()
