"""The ``next_index`` / ``prev_index`` tokens of the emails list (docs/contract.md §12.2, §12.4).

A token is where a page starts: the keyset position (time, message id) of the email just
before it, in newest-first order, so pages stay right while emails are added. It is bound to
the caller, the record, the ``type`` and the owner: an HMAC-SHA-256 over the binding and the
position, keyed by a secret of the store, cut to 16 bytes. Written as lowercase hex.
A token that does not verify, whatever the reason, is ``INVALID_DATA`` ``{"param_name":"index"}``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from emailshare.domain.emails import Position
from emailshare.domain.errors import invalid_param

_MAC = 16
_TIME = 8
_MAX_ID = 200
_HEX = re.compile(f"(?:[0-9a-f]{{2}}){{{_TIME + 1 + _MAC},{_TIME + _MAX_ID + _MAC}}}")
_MESSAGE_ID = re.compile(rb"[A-Za-z0-9]{1,200}")


@dataclass(frozen=True, slots=True)
class Binding:
    """What a token is good for: one caller's list of one record, one type, one owner."""

    org_id: int
    caller_id: int
    record_id: int
    type: str  # "" when absent
    owner_id: int  # 0 when none

    def encode(self) -> bytes:
        return (
            f"{self.org_id}/{self.caller_id}/{self.record_id}/{self.type}/{self.owner_id}".encode()
        )


def _mac(secret: bytes, binding: Binding, payload: bytes) -> bytes:
    return hmac.new(secret, binding.encode() + b"\0" + payload, hashlib.sha256).digest()[:_MAC]


def encode(secret: bytes, binding: Binding, pos: Position) -> str:
    """The token of a page that starts after ``pos``."""
    payload = pos[0].to_bytes(_TIME, "big", signed=True) + pos[1].encode("ascii")
    return (payload + _mac(secret, binding, payload)).hex()


def decode(secret: bytes, binding: Binding, text: str) -> Position:
    """The position a token of this binding holds; ``INVALID_DATA`` for anything else."""
    if not _HEX.fullmatch(text):
        raise invalid_param("index")
    raw = bytes.fromhex(text)
    payload, mac = raw[:-_MAC], raw[-_MAC:]
    if not hmac.compare_digest(mac, _mac(secret, binding, payload)):
        raise invalid_param("index")
    message_id = payload[_TIME:]
    if not _MESSAGE_ID.fullmatch(message_id):  # only this server signs; kept strict anyway
        raise invalid_param("index")
    return int.from_bytes(payload[:_TIME], "big", signed=True), message_id.decode("ascii")
