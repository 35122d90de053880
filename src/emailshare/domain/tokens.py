"""Token material: random from ``secrets``, stored only as hashes, compared in constant time.

Tokens and grant codes carry 256 random bits and are stored as SHA-256; client secrets, which
people may choose, as scrypt with a random salt (docs/reliability.md "Trust").

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


# scrypt for client secrets, which people choose (a fixture's "acme-client-secret"): N=2**14,
# r=8, p=1 (16 MiB, ~50-170 ms of one core here), a 16-byte random salt, a 32-byte key.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCRYPT = "scrypt"


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=64 * 2**20,
        dklen=32,
    )


def secret_hash(secret: str) -> str:
    """The stored form of a client secret: ``scrypt$N$r$p$<salt hex>$<key hex>``."""
    salt = secrets.token_bytes(16)
    key = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{_SCRYPT}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def secret_matches(stored: str, secret: str) -> bool:
    """Whether ``secret`` is the one ``stored`` was made from, compared in constant time.

    Takes the scrypt form of :func:`secret_hash` and the older one (an unsalted SHA-256, 64
    hex digits: stores made before migration 0012), which :func:`is_legacy` tells apart so
    that a secret verified by it can be stored again in the new form.
    """
    parts = stored.split("$")
    if len(parts) == 6 and parts[0] == _SCRYPT:
        try:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt, key = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
            if not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
                return False
            return hmac.compare_digest(_scrypt(secret, salt, n, r, p), key)
        except ValueError:
            return False
    return same_hash(stored, token_hash(secret))


def is_legacy(stored: str) -> bool:
    """A secret hash in the older, unsalted SHA-256 form (to be replaced on next use)."""
    return not stored.startswith(_SCRYPT + "$")


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two stored hashes."""
    return hmac.compare_digest(a.encode(), b.encode())
