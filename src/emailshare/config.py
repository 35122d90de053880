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
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` rebuild these settings in a worker."""
        env = {f"{ENV_PREFIX}DB": self.db_url, f"{ENV_PREFIX}POOL_SIZE": str(self.pool_size)}
        if self.public_url:
            env[f"{ENV_PREFIX}PUBLIC_URL"] = self.public_url
        if self.admin_key:
            env[f"{ENV_PREFIX}ADMIN_KEY"] = self.admin_key
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        pool = env.get(f"{ENV_PREFIX}POOL_SIZE", "8")
        if not pool.isdigit() or not 1 <= int(pool) <= 100:
            raise ValueError(f"{ENV_PREFIX}POOL_SIZE must be a whole number from 1 to 100")
        return cls(
            db_url=env.get(f"{ENV_PREFIX}DB", DEFAULT_DB),
            public_url=env.get(f"{ENV_PREFIX}PUBLIC_URL") or None,
            pool_size=int(pool),
            admin_key=env.get(f"{ENV_PREFIX}ADMIN_KEY") or None,
        )
