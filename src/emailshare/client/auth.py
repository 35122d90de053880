"""Access tokens: fixed, or obtained and refreshed through Zoho Accounts' token endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emailshare.client import wire
from emailshare.client.errors import OAuthError, ZohoTransportError
from emailshare.client.flow import Context, Failure, Flow, Grant, Reply, Request, Send, retried
from emailshare.client.retry import retryable_status

TOKEN_PATH = "/oauth/v2/token"


@dataclass(frozen=True)
class OAuthCredentials:
    """What refreshes an access token: a self client's or server client's id and secret, and
    a refresh token (from a grant code exchange).

    ``accounts_url`` is Zoho Accounts of the org's data centre (``https://accounts.zoho.com``,
    ``https://accounts.zoho.eu``, ...) or an emailshare server's base URL. The full token
    endpoint (``.../oauth/v2/token``, the form Zoho's SDKs take) is accepted too.
    """

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    accounts_url: str = "https://accounts.zoho.com"

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        base = self.accounts_url.rstrip("/")
        return base if base.endswith(TOKEN_PATH) else base + TOKEN_PATH


@dataclass(frozen=True)
class TokenState:
    """A token in hand. ``refresh_at`` (monotonic seconds) is when to replace it before use;
    None: never proactively (a fixed token, or Zoho sent no lifetime)."""

    access_token: str = field(repr=False)
    api_domain: str | None
    refresh_at: float | None


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def token_state(body: Any, status: int, issued_at: float, margin: float) -> TokenState:
    """Read the token endpoint's answer; raise :class:`OAuthError` for Zoho's error bodies
    (which come with HTTP 200) and for anything that is not a token.

    The lifetime is ``expires_in_sec`` when present (older Zoho answers carried it next to an
    ``expires_in`` in milliseconds), else ``expires_in``, in seconds. The token is refreshed
    ``margin`` seconds before it ends (at most half its life earlier).
    """
    if isinstance(body, dict) and isinstance(body.get("access_token"), str):
        lifetime = _seconds(body.get("expires_in_sec"))
        if lifetime is None:
            lifetime = _seconds(body.get("expires_in"))
        refresh_at = None
        if lifetime is not None:
            refresh_at = issued_at + lifetime - min(margin, max(lifetime, 0.0) / 2)
        domain = body.get("api_domain")
        return TokenState(
            body["access_token"], domain if isinstance(domain, str) else None, refresh_at
        )
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        raise OAuthError(
            body["error"], description if isinstance(description, str) else None, status=status
        )
    raise OAuthError("unexpected_response", f"HTTP {status} without a token", status=status)


def refresh_flow(
    credentials: OAuthCredentials, ctx: Context, monotonic: Callable[[], float], margin: float
) -> Flow[TokenState]:
    """``grant_type=refresh_token`` against the token endpoint, posted as a form (as Zoho's
    SDKs do). Retried like a GET: asking again only mints another token."""
    request = Request(
        method="POST",
        url=credentials.token_url,
        headers={"User-Agent": ctx.user_agent},
        form={
            "grant_type": "refresh_token",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "refresh_token": credentials.refresh_token,
        },
    )
    sends = 0
    issued_at = monotonic()

    def attempt() -> Flow[Reply | Failure]:
        nonlocal sends, issued_at
        issued_at = monotonic()
        sends += 1
        reply = yield Send(request)
        assert isinstance(reply, Reply | Failure)
        return reply

    outcome = yield from retried(attempt, ctx, resend_sent=True)
    reply = outcome.reply
    if isinstance(reply, Failure):
        raise ZohoTransportError(
            f"token endpoint: {type(reply.error).__name__}: {reply.error}",
            attempts=sends,
            request_sent=reply.sent,
        ) from reply.error
    body = wire.load(reply.content)
    if retryable_status(reply.status):
        error = body.get("error") if isinstance(body, dict) else None
        raise OAuthError(
            error if isinstance(error, str) else "server_error",
            f"HTTP {reply.status} after {sends} attempt(s)",
            status=reply.status,
        )
    return token_state(body, reply.status, issued_at, margin)


class TokenKeeper:
    """Holds the current token and decides when it must be replaced. It does no locking: the
    clients call :meth:`refresh_flow` and :meth:`store` under their own lock."""

    def __init__(
        self,
        *,
        access_token: str | None,
        credentials: OAuthCredentials | None,
        api_domain: str | None,
        refresh_margin: float,
        monotonic: Callable[[], float],
    ) -> None:
        if access_token is None and credentials is None:
            raise ValueError("give an access_token, OAuth credentials, or both")
        if api_domain is None and access_token is not None:
            # Only a token answer names the API's base URL; a given token comes without one.
            raise ValueError("api_domain is required with an access_token")
        self.credentials = credentials
        self.api_domain = api_domain
        self.refresh_margin = refresh_margin
        self.monotonic = monotonic
        self.state: TokenState | None = (
            TokenState(access_token, None, None) if access_token is not None else None
        )

    def _grant(self, state: TokenState) -> Grant:
        domain = self.api_domain or state.api_domain
        if domain is None:
            raise OAuthError("unexpected_response", "the token answer has no api_domain")
        return Grant(state.access_token, domain)

    def usable(self, stale: str | None) -> Grant | None:
        """The token to use now, or None when it must be refreshed first: there is none, it
        is about to expire, or it is ``stale`` (the server called it invalid)."""
        state = self.state
        if state is None or (stale is not None and state.access_token == stale):
            return None
        if (
            self.credentials is not None
            and state.refresh_at is not None
            and self.monotonic() >= state.refresh_at
        ):
            return None
        return self._grant(state)

    def refresh_flow(self, ctx: Context) -> Flow[TokenState]:
        """The token request; the caller runs it and hands the result to :meth:`store`."""
        assert self.credentials is not None
        return refresh_flow(self.credentials, ctx, self.monotonic, self.refresh_margin)

    def store(self, state: TokenState) -> Grant:
        """Keep a new token; the grant to use it."""
        grant = self._grant(state)
        self.state = state
        return grant
