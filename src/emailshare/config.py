"""Settings, built once from flags or the environment and passed down; never read at import."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields

from emailshare.domain.numbers import parse_int

DEFAULT_DB = "sqlite:///emailshare.db"
ENV_PREFIX = "EMAILSHARE_"


@dataclass(frozen=True)
class Settings:
    """How one emailshare process runs. Every field but ``clock`` travels to server workers
    through ``EMAILSHARE_<FIELD>`` environment variables (see :meth:`to_env`)."""

    db_url: str = DEFAULT_DB
    public_url: str | None = None  # the api_domain tokens name; else taken from each request
    pool_size: int = 8  # PostgreSQL connections per worker
    admin_key: str | None = field(default=None, repr=False)  # turns the admin API on
    cache_size: int = 20_000  # answers (and callers) kept per worker; 0 turns caching off
    cache_mb: int = 64  # memory for the answers kept per worker, in MiB
    log_requests: bool = False  # one JSON log line per request (errors are always logged)
    request_log_size: int = 200  # requests kept for the admin API (when it is on)
    credits_per_day: int = 0  # Zoho's API credit budget per org, rolling 24 h; 0: off
    max_concurrent: int = 0  # concurrent requests per org; 0: off
    metrics_dir: str | None = None  # where workers leave metrics for /metrics; serve makes one
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` rebuild these settings in a worker."""
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "clock" or value is None:
                continue
            env[ENV_PREFIX + f.name.upper()] = (
                str(int(value)) if isinstance(value, bool) else str(value)
            )
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``EMAILSHARE_*`` variables; a malformed number fails loudly."""
        env = os.environ if env is None else env
        defaults = cls()
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if f.name == "clock" or raw is None or raw == "":
                continue
            default = getattr(defaults, f.name)
            if isinstance(default, bool):
                values[f.name] = raw.lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                number = parse_int(raw, 0, 100_000_000)
                if number is None:
                    raise ValueError(f"{ENV_PREFIX}{f.name.upper()} must be a whole number")
                values[f.name] = number
            else:
                values[f.name] = raw
        settings = cls(**values)  # type: ignore[arg-type]
        if not 1 <= settings.pool_size <= 100:
            raise ValueError(f"{ENV_PREFIX}POOL_SIZE must be from 1 to 100")
        return settings
