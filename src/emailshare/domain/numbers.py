"""The one parser of integers written as text: request parameters, fixture values, flags.

Only ASCII digits (``str.isdigit`` also takes ``²`` and ``٣``, which ``int`` refuses or reads
as another digit), at most 19 of them, within 64 bits (what both stores hold in a BIGINT):
anything else is ``None``, for the caller to answer with its own error. Every integer read
from outside goes through here, so "odd input is a Zoho error, never a 500" has one owner
(docs/reliability.md "Odd input").
"""

from __future__ import annotations

import re

MAX_INT64 = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_int(text: str | bytes, minimum: int = 0, maximum: int = MAX_INT64) -> int | None:
    """``text`` as a whole number from ``minimum`` to ``maximum`` (within 0 to 2**63-1); else None.

    No sign, no spaces, no underscores, no digits but ASCII ones, no more than 19 of them.
    """
    if isinstance(text, bytes):
        if not text.isascii():
            return None
        text = text.decode("ascii")
    if not isinstance(text, str) or _DIGITS.fullmatch(text) is None:
        return None
    value = int(text)
    return value if max(0, minimum) <= value <= min(maximum, MAX_INT64) else None


def parse_id(text: str) -> int | None:
    """A Zoho id: 1 to 19 ASCII digits, a positive signed 64-bit value; else None."""
    return parse_int(text, 1)
