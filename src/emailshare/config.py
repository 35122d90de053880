"""Settings, built once from flags or the environment and passed down; never read at import."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEFAULT_DB = "sqlite:///emailshare.db"
ENV_PREFIX = "EMAILSHARE_"


@dataclass(frozen=True)
class Settings:
    """How one emailshare process runs."""

    db_url: str = DEFAULT_DB
    public_url: str | None = None  # the api_domain tokens name; else taken from each request
    pool_size: int = 8
    admin_key: str | None = field(default=None, repr=False)
    cache_size: int = 20_000  # answers (and callers) kept per worker; 0 turns caching off
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` rebuild these settings in a worker."""
        env = {f"{ENV_PREFIX}DB": self.db_url, f"{ENV_PREFIX}POOL_SIZE": str(self.pool_size)}
        if self.public_url:
            env[f"{ENV_PREFIX}PUBLIC_URL"] = self.public_url
        if self.admin_key:
            env[f"{ENV_PREFIX}ADMIN_KEY"] = self.admin_key
        env[f"{ENV_PREFIX}CACHE_SIZE"] = str(self.cache_size)
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        pool = _whole(env, "POOL_SIZE", "8", 1, 100)
        return cls(
            db_url=env.get(f"{ENV_PREFIX}DB", DEFAULT_DB),
            public_url=env.get(f"{ENV_PREFIX}PUBLIC_URL") or None,
            pool_size=pool,
            admin_key=env.get(f"{ENV_PREFIX}ADMIN_KEY") or None,
            cache_size=_whole(env, "CACHE_SIZE", "20000", 0, 10_000_000),
        )


def _whole(env: Mapping[str, str], name: str, default: str, low: int, high: int) -> int:
    text = env.get(f"{ENV_PREFIX}{name}", default)
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{ENV_PREFIX}{name} must be a whole number from {low} to {high}")
    return int(text)
