"""The operator's secret key: mailbox passwords encrypted at rest (docs/mailboxes.md, "The key").

Fernet (the ``cryptography`` package): AES-128-CBC with an HMAC-SHA256 tag over the whole
token, a random IV each time — authenticated encryption behind a two-call API that leaves no
mode, nonce or padding choice to get wrong. The key lives in a file the operator gives
(``--secret-key-file PATH`` or ``EMAILSHARE_SECRET_KEY_FILE``), never in the store, so a copy of
the store alone reveals no password.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from emailshare.domain.mailserver import ENV_KEY_FILE, KEY_HOW

ENV = ENV_KEY_FILE
HOW = KEY_HOW


class SecretKeyError(ValueError):
    """No key where a password must be encrypted or decrypted, or a key that is not one."""


def new_key() -> str:
    """A fresh key, as the text to keep in a file (44 URL-safe base64 characters)."""
    return Fernet.generate_key().decode("ascii")


class SecretKey:
    """An open key: encrypts and decrypts passwords. Its text is never shown by ``repr``."""

    __slots__ = ("_fernet",)

    def __init__(self, text: str) -> None:
        try:
            self._fernet = Fernet(text.strip().encode("ascii"))
        except (ValueError, UnicodeError) as exc:
            raise SecretKeyError(f"not an emailshare secret key: {HOW}") from exc

    def __repr__(self) -> str:
        return "SecretKey(***)"

    def encrypt(self, password: str) -> str:
        return self._fernet.encrypt(password.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretKeyError(
                "a mailbox password was encrypted with another secret key"
            ) from exc


def load_key(path: str | None) -> SecretKey | None:
    """The key in ``path``, else in the file ``$EMAILSHARE_SECRET_KEY_FILE`` names, else None."""
    chosen = path or os.environ.get(ENV)
    if not chosen:
        return None
    try:
        text = Path(chosen).read_text(encoding="ascii")
    except (OSError, UnicodeError) as exc:
        raise SecretKeyError(f"cannot read the secret key file {chosen}: {exc}") from exc
    return SecretKey(text)


def require(key: SecretKey | None) -> SecretKey:
    """The key, or the one-line refusal that says how to make one."""
    if key is None:
        raise SecretKeyError(f"a mailbox password needs a secret key: {HOW}")
    return key
