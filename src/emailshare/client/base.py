"""What the sync and async clients share: their settings, token keeper and call builders."""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable

from emailshare.client.auth import OAuthCredentials, TokenKeeper
from emailshare.client.flow import Context
from emailshare.client.retry import RetryPolicy

DEFAULT_VERSION = "v8"
DEFAULT_TIMEOUT = 30.0
DEFAULT_REFRESH_MARGIN = 60.0
USER_AGENT = "emailshare-client/0.1"


class BaseClient:
    """Settings common to :class:`~emailshare.client.Client` and
    :class:`~emailshare.client.AsyncClient` (see their docstring)."""

    def __init__(
        self,
        *,
        api_domain: str | None,
        access_token: str | None,
        oauth: OAuthCredentials | None,
        version: str,
        retry: RetryPolicy | None,
        refresh_margin: float,
        random: Callable[[], float] | None,
        now: Callable[[], float] | None,
        monotonic: Callable[[], float] | None,
        user_agent: str,
    ) -> None:
        self._version = version
        self._keeper = TokenKeeper(
            access_token=access_token,
            credentials=oauth,
            api_domain=api_domain.rstrip("/") if api_domain else None,
            refresh_margin=refresh_margin,
            monotonic=monotonic or time.monotonic,
        )
        self._ctx = Context(
            policy=retry or RetryPolicy(),
            random=random or _random.random,
            now=now or time.time,
            can_refresh=oauth is not None,
            user_agent=user_agent,
        )
