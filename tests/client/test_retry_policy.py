"""The pure parts of the retry policy: reading Retry-After, the jitter ceiling, the API's
parity between the two clients."""

from __future__ import annotations

import inspect

import pytest

from emailshare.client import AsyncClient, Client, RetryPolicy
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
    return {
        name: list(inspect.signature(member).parameters)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and name not in {"close", "aclose"}
    }


def test_sync_and_async_clients_offer_the_same_api() -> None:
    assert _methods(Client) == _methods(AsyncClient)
    assert len(_methods(Client)) == 7
    sync_init = inspect.signature(Client.__init__).parameters
    async_init = inspect.signature(AsyncClient.__init__).parameters
    assert list(sync_init) == list(async_init)
