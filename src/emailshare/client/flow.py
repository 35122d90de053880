"""The client's logic without I/O: a call is a generator that yields what it needs done
(send this request, sleep so long, give me a token) and receives the outcome.

The sync :class:`~emailshare.client.Client` and the :class:`~emailshare.client.AsyncClient`
each run these generators with their own I/O, so retries, refresh-on-401 and response
handling are written once and behave identically in both.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from emailshare.client import wire
from emailshare.client.errors import UnexpectedResponseError, ZohoAPIError, ZohoTransportError
from emailshare.client.retry import RetryPolicy, backoff, parse_retry_after, retryable_status, wait

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """One HTTP request: a JSON body (``json``) or a form body (``form``), or neither."""

    method: str
    url: str
    headers: Mapping[str, str]
    params: Mapping[str, str] | None = None
    json: Any = None
    form: Mapping[str, str] | None = None

    def httpx_args(self) -> dict[str, Any]:
        """The arguments of ``httpx.Client.request`` and ``httpx.AsyncClient.request``."""
        return {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "params": self.params,
            "json": self.json,
            "data": self.form,
        }


@dataclass(frozen=True)
class Reply:
    """The parts of an HTTP response the client reads."""

    status: int
    retry_after: str | None
    content: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> Reply:
        """What the flows read of an httpx response (its body read already)."""
        return cls(response.status_code, response.headers.get("retry-after"), response.content)


@dataclass(frozen=True)
class Failure:
    """A transport error instead of a response. ``sent`` is False only when the request
    provably never left; ``retryable`` is False for errors a repeat cannot cure."""

    error: httpx.TransportError
    sent: bool
    retryable: bool


@dataclass(frozen=True)
class Grant:
    """The access token to send, and the API base URL it is valid for."""

    token: str
    api_domain: str


@dataclass(frozen=True)
class Send:
    request: Request


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Authorize:
    """Ask for a usable token. ``stale`` names a token the server just called invalid: the
    driver refreshes unless another caller already replaced it."""

    stale: str | None = None


Action = Send | Sleep | Authorize
Feedback = Reply | Failure | Grant | None
Flow = Generator[Action, Feedback, T]


@dataclass(frozen=True)
class Context:
    """What a flow needs besides the call: the policy and the injectable sources of chance
    and time (``now`` is the wall clock in Unix seconds, for ``Retry-After`` dates)."""

    policy: RetryPolicy
    random: Callable[[], float]
    now: Callable[[], float]
    can_refresh: bool
    user_agent: str


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API operation: where to send it, and how to read the answer.

    ``interpret(status, body, content)`` returns the value or raises :class:`ZohoAPIError`
    (``body`` is the parsed JSON, or None). ``write`` marks calls that change state: they are
    not repeated after a transport failure once the request may have reached the server.
    """

    method: str
    path: str
    interpret: Callable[[int, Any, bytes], T]
    params: Mapping[str, str] | None = None
    json: Any = None
    write: bool = False


def classify(error: httpx.TransportError) -> Failure:
    """Whether a transport error may have let the request through, and whether to retry."""
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure(error, sent=False, retryable=True)
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return Failure(error, sent=False, retryable=False)
    return Failure(error, sent=True, retryable=True)


def error_of(status: int, body: Any, content: bytes) -> ZohoAPIError:
    """The error a non-success answer stands for."""
    fields = wire.error_fields(body)
    if fields is None:
        return UnexpectedResponseError(status, f"HTTP {status} without a Zoho error body", content)
    code, message, details = fields
    return ZohoAPIError(status, code, message, details)


def _error_code(body: Any) -> str | None:
    fields = wire.error_fields(body)
    return fields[0] if fields else None


def _transport_error(failure: Failure, sends: int) -> ZohoTransportError:
    return ZohoTransportError(
        f"{type(failure.error).__name__}: {failure.error}",
        attempts=sends,
        request_sent=failure.sent,
    )


@dataclass(frozen=True)
class Outcome:
    """The last answer of a call once the retry policy let it stand: a reply (any status) or
    a transport failure, the ``Retry-After`` of that reply in seconds when it was retryable,
    and whether an earlier attempt of the call had a 5xx (it may have done the work)."""

    reply: Reply | Failure
    retry_after: float | None
    uncertain: bool


def retried(
    attempt: Callable[[], Flow[Reply | Failure]], ctx: Context, *, resend_sent: bool
) -> Flow[Outcome]:
    """The one retry loop: run ``attempt`` (one send, as a flow) until its outcome stands.

    A transport failure is tried again when it is retryable and, unless ``resend_sent``,
    provably never left; a 429 or 5xx when the policy's wait allows (``Retry-After`` honoured,
    see :func:`~emailshare.client.retry.wait`). Between attempts it yields
    :class:`Sleep`; at most ``policy.max_attempts`` attempts run. The sync and async clients
    drive it with their own I/O, so both retry identically.
    """
    policy = ctx.policy
    retries = 0
    uncertain = False
    while True:
        reply = yield from attempt()
        if isinstance(reply, Failure):
            repeatable = reply.retryable and (resend_sent or not reply.sent)
            if repeatable and retries + 1 < policy.max_attempts:
                retries += 1
                yield Sleep(backoff(policy, retries, ctx.random()))
                continue
            return Outcome(reply, None, uncertain)
        retry_after: float | None = None
        if retryable_status(reply.status):
            retry_after = parse_retry_after(reply.retry_after, ctx.now())
            if retries + 1 < policy.max_attempts:
                delay = wait(policy, retries + 1, ctx.random(), retry_after)
                if delay is not None:
                    retries += 1
                    uncertain = uncertain or reply.status >= 500
                    yield Sleep(delay)
                    continue
        return Outcome(reply, retry_after, uncertain)


def api_flow(call: Call[T], ctx: Context) -> Flow[T]:
    """Run one API call: authorize, send, retry per the policy, refresh once on
    ``401 INVALID_TOKEN``, and interpret the answer."""
    sends = 0
    refreshed = False

    def attempt() -> Flow[Reply | Failure]:
        # One attempt: a send, and the one re-send after a refresh that a 401 INVALID_TOKEN
        # asks for (outside the policy's count, once per call).
        nonlocal sends, refreshed
        stale: str | None = None
        while True:
            grant = yield Authorize(stale)
            assert isinstance(grant, Grant)
            request = Request(
                method=call.method,
                url=grant.api_domain.rstrip("/") + call.path,
                headers={
                    "Authorization": f"Zoho-oauthtoken {grant.token}",
                    "User-Agent": ctx.user_agent,
                },
                params=call.params,
                json=call.json,
            )
            sends += 1
            reply = yield Send(request)
            assert isinstance(reply, Reply | Failure)
            if (
                isinstance(reply, Reply)
                and reply.status == 401
                and ctx.can_refresh
                and not refreshed
                and _error_code(wire.load(reply.content)) == "INVALID_TOKEN"
            ):
                refreshed = True
                stale = grant.token
                continue
            return reply

    outcome = yield from retried(attempt, ctx, resend_sent=not call.write)
    reply = outcome.reply
    if isinstance(reply, Failure):
        raise _transport_error(reply, sends) from reply.error
    body = wire.load(reply.content)
    if retryable_status(reply.status):  # retries ran out, or Retry-After asked too much
        error = error_of(reply.status, body, reply.content)
    else:
        try:
            return call.interpret(reply.status, body, reply.content)
        except wire.ShapeError as exc:
            error = UnexpectedResponseError(reply.status, str(exc), reply.content)
        except ZohoAPIError as exc:
            error = exc
    error.attempts = sends
    error.retry_after = outcome.retry_after
    error.uncertain_retry = outcome.uncertain
    raise error
