"""What the IMAP and POP3 clients share: the TLS context, what each security mode means when
connecting, and the mapping of every network, TLS
and protocol fault to a ``MailboxFailure`` (docs/mailboxes.md, "A failing mailbox").

Clients: the standard library's imaplib and poplib. Syncing needs a handful of commands
(LOGIN, LIST, SELECT, UID SEARCH, UID FETCH; UIDL, RETR), which both speak correctly, with
TLS, STARTTLS and timeouts, and without a dependency to keep up to date (docs/mailboxes.md).
"""

from __future__ import annotations

import functools
import imaplib
import poplib
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from emailshare.domain.mailserver import MailServer, Security
from emailshare.service.mailports import FailureKind, MailboxFailure

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """``ca_file``: the CAs a server certificate must chain to (default: the system's)."""

    ca_file: str | None = None
    timeout: float = 30.0

    def tls(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise MailboxFailure(FailureKind.TLS, f"cannot read the CA file: {exc}") from exc


def open_secured(
    server: MailServer,
    settings: ClientSettings,
    *,
    tls: Callable[[ssl.SSLContext], C],
    plain: Callable[[], C],
    starttls: Callable[[C, ssl.SSLContext], object],
) -> C:
    """A connection to ``server`` secured as its ``security`` says, for either protocol:
    ``TLS`` connects through ``tls`` (TLS from the first byte); otherwise ``plain`` connects
    and, with ``STARTTLS``, ``starttls`` upgrades it before anything else is sent. Faults
    become ``MailboxFailure``s (:func:`faults`)."""
    with faults():
        if server.security is Security.TLS:
            return tls(settings.tls())
        conn = plain()
        if server.security is Security.STARTTLS:
            try:
                starttls(conn, settings.tls())
            except BaseException:
                _close(conn)  # a refused upgrade must not leave the plain socket open
                raise
        return conn


def logged_in(
    server: MailServer,
    settings: ClientSettings,
    *,
    tls: Callable[[ssl.SSLContext], C],
    plain: Callable[[], C],
    starttls: Callable[[C, ssl.SSLContext], object],
    login: Callable[[C], object],
) -> C:
    """A connection opened by :func:`open_secured` and logged in through ``login``, for either
    protocol; a login's protocol errors are ``LOGIN`` failures (:func:`faults`). Whatever
    stops the login, the socket is closed before it goes on (a refusal, a password the
    protocol cannot spell, a cancellation): nothing is left open."""
    conn = open_secured(server, settings, tls=tls, plain=plain, starttls=starttls)
    try:
        with faults(login=True):
            login(conn)
    except BaseException:
        _close(conn)
        raise
    return conn


def _close(conn: object) -> None:
    """Close a client's socket, whatever the client (imaplib's ``shutdown``, poplib's
    ``close``); quietly: it is closed because something already failed."""
    for name in ("shutdown", "close"):
        method = getattr(conn, name, None)
        if callable(method):
            with suppress(Exception):
                method()
            return


@contextmanager
def faults(login: bool = False) -> Iterator[None]:
    """Turn whatever the client raises into one ``MailboxFailure`` with a kind."""
    try:
        yield
    except MailboxFailure:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise MailboxFailure(FailureKind.TLS, exc.verify_message or str(exc)) from exc
    except ssl.SSLError as exc:
        raise MailboxFailure(FailureKind.TLS, exc.reason or str(exc)) from exc
    except TimeoutError as exc:
        raise MailboxFailure(FailureKind.TIMEOUT, "no answer in time") from exc
    except socket.gaierror as exc:
        raise MailboxFailure(FailureKind.UNREACHABLE, f"unknown host ({exc.strerror})") from exc
    except (imaplib.IMAP4.abort, EOFError, ConnectionError) as exc:
        raise MailboxFailure(FailureKind.UNREACHABLE, f"connection lost ({exc})") from exc
    except OSError as exc:
        raise MailboxFailure(FailureKind.UNREACHABLE, exc.strerror or str(exc)) from exc
    except (imaplib.IMAP4.error, poplib.error_proto) as exc:
        kind = FailureKind.LOGIN if login else FailureKind.PROTOCOL
        raise MailboxFailure(kind, _text(exc)) from exc


def _text(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else exc
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    return text[:200]


def guarded(method: Callable[P, T]) -> Callable[P, T]:
    """A session method whose faults become ``MailboxFailure``s."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with faults():
            return method(*args, **kwargs)

    return wrapper
