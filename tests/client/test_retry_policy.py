"""The pure parts of the retry policy: reading Retry-After, the jitter ceiling, the one retry
loop both clients drive (``flow.retried``), the API's parity between the two clients."""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest

from emailshare.client import AsyncClient, Client, RetryPolicy
from emailshare.client.flow import (
    Context,
    Failure,
    Flow,
    Outcome,
    Reply,
    Request,
    Send,
    Sleep,
    retried,
)
from emailshare.client.retry import backoff, parse_retry_after, wait

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("inf", None),
        ("soon", None),
        ("Sun, 15 Jun 2025 15:06:50 GMT", 10.0),  # NOW + 10
        ("Sun, 15 Jun 2025 15:06:30 GMT", 0.0),  # in the past
        ("Sun, 15 Jun 2025 15:06:50 -0000", None),  # no zone: not an HTTP-date
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_backoff_and_wait() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    assert [backoff(policy, n, 0.5) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 2.5, 2.5]
    assert wait(policy, 1, 0.5, None) == 0.5
    assert wait(policy, 1, 0.5, 3.0) == 3.0
    assert wait(policy, 4, 0.9, 1.0) == 4.5
    assert wait(policy, 1, 0.5, 5.0) == 5.0
    assert wait(policy, 1, 0.5, 5.01) is None


def _methods(cls: type) -> dict[str, list[str]]:
    # An async iterator is named as Python names them (``aiter_emails`` for ``iter_emails``).
    return {
        name.removeprefix("a") if name.startswith("aiter_") else name: list(
            inspect.signature(member).parameters
        )
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and name not in {"close", "aclose"}
    }


def test_sync_and_async_clients_offer_the_same_api() -> None:
    assert _methods(Client) == _methods(AsyncClient)
    assert len(_methods(Client)) == 10
    sync_init = inspect.signature(Client.__init__).parameters
    async_init = inspect.signature(AsyncClient.__init__).parameters
    assert list(sync_init) == list(async_init)


def _drive(outcomes: list[Reply | Failure], *, resend_sent: bool = True, **policy: Any) -> Any:
    """Run the one retry loop over scripted outcomes; the sleeps it asked for and its result."""
    ctx = Context(RetryPolicy(**policy), lambda: 0.5, lambda: NOW, False, "test")
    script = iter(outcomes)

    def attempt() -> Flow[Reply | Failure]:
        yield Send(Request("GET", "http://x/", {}))
        return next(script)

    flow = retried(attempt, ctx, resend_sent=resend_sent)
    sleeps: list[float] = []
    action = next(flow)
    try:
        while True:
            if isinstance(action, Sleep):
                sleeps.append(action.seconds)
            action = flow.send(None)
    except StopIteration as stop:
        return sleeps, stop.value


def _reply(status: int, retry_after: str | None = None) -> Reply:
    return Reply(status, retry_after, b"{}")


def _failure(sent: bool, retryable: bool = True) -> Failure:
    return Failure(httpx.ReadTimeout("slow"), sent=sent, retryable=retryable)


def test_the_retry_loop_backs_off_until_an_answer_stands() -> None:
    sleeps, outcome = _drive([_reply(503), _reply(429, "2"), _reply(200)], base_delay=1.0)
    assert sleeps == [0.5, 2.0]  # jitter 0.5 of ceiling 1, then Retry-After over jitter 1.0
    assert outcome == Outcome(_reply(200), None, uncertain=True)


def test_the_retry_loop_stops_at_max_attempts_with_the_last_retry_after() -> None:
    sleeps, outcome = _drive([_reply(429, "1")] * 3, max_attempts=2, base_delay=1.0)
    assert sleeps == [1.0]
    assert outcome == Outcome(_reply(429, "1"), 1.0, uncertain=False)


def test_the_retry_loop_gives_up_when_retry_after_exceeds_max_delay() -> None:
    sleeps, outcome = _drive([_reply(503, "60"), _reply(200)], max_delay=30.0)
    assert (sleeps, outcome) == ([], Outcome(_reply(503, "60"), 60.0, uncertain=False))


def test_the_retry_loop_resends_a_sent_request_only_when_allowed() -> None:
    sent, never_left, hopeless = _failure(True), _failure(False), _failure(False, retryable=False)
    assert _drive([sent, _reply(200)])[1].reply == _reply(200)
    assert _drive([sent, _reply(200)], resend_sent=False) == ([], Outcome(sent, None, False))
    assert _drive([never_left, _reply(200)], resend_sent=False)[1].reply == _reply(200)
    assert _drive([hopeless, _reply(200)]) == ([], Outcome(hopeless, None, False))
