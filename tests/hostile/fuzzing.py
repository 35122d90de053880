"""Hypothesis settings of the hostile suite: modest and repeatable in CI, long on demand.

``EMAILSHARE_FUZZ_EXAMPLES=5000 pytest tests/hostile`` runs that many random (not
derandomized) examples per property instead of a fixed, derandomized 120.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_LONG = int(os.environ.get("EMAILSHARE_FUZZ_EXAMPLES", "0"))

FUZZ = settings(
    max_examples=_LONG or 120,
    derandomize=not _LONG,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
