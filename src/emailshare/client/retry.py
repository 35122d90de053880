"""When to retry, and how long to wait: exponential backoff with full jitter, ``Retry-After``
honoured up to a cap."""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries.

    - ``max_attempts``: requests sent per call, the first one included (1 disables retries).
    - ``base_delay``: the backoff's first ceiling, in seconds; it doubles per retry.
    - ``max_delay``: no single wait is longer. A ``Retry-After`` asking for more is not
      shortened: the error is raised at once, with ``retry_after`` set, so that the caller
      can reschedule rather than the client calling back before the server allows it.

    Retried: HTTP 429 and every 5xx; connection failures before the request left (for every
    call); other transport failures (timeouts, dropped connections) for GETs and the token
    endpoint only. A ``401 INVALID_TOKEN`` is not a retry: it triggers one token refresh and
    one re-send, outside this count.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")


def retryable_status(status: int) -> bool:
    """429 (rate limited: not processed) and 5xx (server trouble) are worth another try."""
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` in seconds from now: delay-seconds or an HTTP-date (RFC 9110 10.2.3).

    ``now`` is the wall clock (Unix time). A date in the past is 0; garbage is None (ignored).
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max(when.timestamp() - now, 0.0)


def backoff(policy: RetryPolicy, retry: int, random: float) -> float:
    """Full jitter: uniform in ``[0, min(max_delay, base_delay * 2**(retry-1)))``.

    ``retry`` counts from 1; ``random`` is a draw from ``[0, 1)``.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** (retry - 1))
    return random * ceiling


def wait(policy: RetryPolicy, retry: int, random: float, retry_after: float | None) -> float | None:
    """Seconds to wait before retry number ``retry``, or None when the server's
    ``Retry-After`` exceeds ``max_delay`` (give up now). Never earlier than ``Retry-After``."""
    jitter = backoff(policy, retry, random)
    if retry_after is None:
        return jitter
    if retry_after > policy.max_delay:
        return None
    return max(retry_after, jitter)
