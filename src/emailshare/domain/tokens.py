"""Token material: random from ``secrets``, stored only as hashes, compared in constant time.

A pure helper of the domain (standard library only), so that the services, which mint and
check tokens, and the store, which keeps only their hashes, share one definition of the
stored form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_access_token() -> str:
    """A fresh token in Zoho's shape: ``1000.`` + 32 hex + ``.`` + 32 hex."""
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def new_secret(nbytes: int = 20) -> str:
    """A client secret or grant code body (hex, as Zoho's are)."""
    return secrets.token_hex(nbytes)


def token_hash(token: str) -> str:
    """The stored form of a token. Tokens carry 256 random bits, so one SHA-256 suffices."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two stored hashes."""
    return hmac.compare_digest(a.encode(), b.encode())
