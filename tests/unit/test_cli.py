"""The command line takes every setting a server worker can have."""

from __future__ import annotations

import dataclasses

from emailshare.cli import build_parser
from emailshare.config import Settings


def test_serve_has_a_flag_for_every_setting() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--db",
            "sqlite:///x.db",
            "--public-url",
            "http://h",
            "--admin-key",
            "k",
            "--cache-size",
            "5",
            "--cache-mb",
            "6",
            "--log-requests",
            "--pool-size",
            "3",
            "--request-log-size",
            "7",
            "--credits-per-day",
            "100",
            "--max-concurrent",
            "2",
        ]
    )
    given = {f.name for f in dataclasses.fields(Settings)} - {"clock", "db_url"}
    assert given <= set(vars(args))
    assert (args.cache_size, args.pool_size, args.request_log_size) == (5, 3, 7)
    assert args.cache_mb == 6
    assert (args.credits_per_day, args.max_concurrent, args.log_requests) == (100, 2, True)


def test_settings_travel_to_workers_through_the_environment() -> None:
    settings = Settings(
        db_url="sqlite:///y.db",
        public_url="http://x",
        admin_key="k",
        cache_size=9,
        cache_mb=2,
        log_requests=True,
        request_log_size=3,
        pool_size=4,
        credits_per_day=10,
        max_concurrent=1,
    )
    assert Settings.from_env(settings.to_env()) == settings
