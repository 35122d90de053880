"""Helpers shared by the tests against Zoho's OpenAPI file and against emailshare's own
document: drawing cases deterministically, and running schemathesis checks one by one so that
every failure names its check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.errors import FailureGroup

T = TypeVar("T")


@dataclass
class Finding:
    """One check failure on one response."""

    check: str
    failure: Exception

    def describe(self) -> str:
        title = getattr(self.failure, "title", type(self.failure).__name__)
        message = getattr(self.failure, "message", str(self.failure))
        return f"[{self.check}] {title}\n{message}"


def validate(case: Any, response: Any, checks: Mapping[str, Any]) -> list[Finding]:
    """Run each check on its own, so that every failure is attributed to its check's name."""
    findings: list[Finding] = []
    for name, check in checks.items():
        try:
            case.validate_response(response, checks=[check])
        except FailureGroup as group:
            findings.extend(Finding(name, failure) for failure in group.exceptions)
    return findings


def draw(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """Up to ``count`` values of ``strategy``, the same ones every run (derandomized, no
    example database, no shrinking); fewer when the strategy has fewer to give."""
    drawn: list[T] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def collect(value: T) -> None:
        drawn.append(value)

    collect()
    return drawn
