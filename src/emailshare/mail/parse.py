"""One RFC 5322 message (bytes) to the fields of a mailbox email (docs/contract.md §§12.5, 13).

Built on the standard library's ``email`` package: the MIME structure and the bodies with its
parser, the headers we keep (From, To, Cc, Reply-To, Subject, the filenames) decoded by
``policy.default``'s header registry (encoded words, RFC 2047 / 5322 address lists). Only those
few: a message parsed wholly under ``policy.default`` re-parses a header on every access (about
50 per message here, 7-10 ms a message against 0.6 ms; bench/mailsync.py). Whatever the input,
``parse`` returns a ``ParsedMail`` or a ``Skipped`` with a reason: never an exception. Each
header is read on its own, so one malformed header costs only itself (the defect is recorded in
``notes``); a message is skipped only when it has no sender and no recipient at all, since it
could then never be associated with a record.

Decisions where Zoho is silent (docs/mailboxes.md):
- ``key``: what makes a message the same message in one mailbox — its Message-ID (without the
  angle brackets), else ``sha256:`` of its bytes.
- ``message_id(owner)``: 96 lowercase hex digits like Zoho's, the SHA-384 of the owner's id and
  the key: stable across passes, folders and UIDVALIDITY changes, distinct per mailbox.
- ``thread_id``: 18 digits from the SHA-256 of the thread's root (the first References id, else
  In-Reply-To, else the message's own key), so replies share their parent's thread.
- ``time``: the Date header with its own offset; no Date or a bad one: ``fallback_time`` (IMAP's
  INTERNALDATE, else the time of the sync), noted.
"""

from __future__ import annotations

import email
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.headerregistry import Address, HeaderRegistry
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class Person:
    """A sender or recipient: a display name (maybe none) and an address."""

    name: str | None
    address: str


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """An attachment's id (stable per message), file name and decoded size in bytes."""

    id: str
    name: str
    size: int


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """What a mailbox email keeps of one message; ``notes`` name what could not be read."""

    key: str
    sender: Person
    to: tuple[Person, ...]
    cc: tuple[Person, ...]
    reply_to: Person | None
    subject: str | None
    content: str
    mail_format: str  # "html" or "text"
    time: datetime
    thread_id: str
    attachments: tuple[AttachmentInfo, ...]
    notes: tuple[str, ...] = ()

    def message_id(self, owner: int) -> str:
        """The email's id in its owner's mailbox: 96 lowercase hex digits (Zoho's shape)."""
        return hashlib.sha384(f"{owner}\n{self.key}".encode()).hexdigest()

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address of from, to and cc: what associates the email with records."""
        people = (self.sender, *self.to, *self.cc)
        return tuple(p.address for p in people if p.address)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A message that cannot become an email, and why (kept in the sync's record)."""

    key: str
    reason: str


_HEADERS = HeaderRegistry()  # what policy.default decodes headers with
_LINESEP = re.compile(r"\n|\r")
_KINDS: dict[str, Callable[[str, str], object]] = {}


def parse(raw: bytes, fallback_time: datetime | None = None) -> ParsedMail | Skipped:
    """Parse one message; ``fallback_time`` (aware) stands in for a missing or bad Date."""
    try:
        return _parse(raw, fallback_time)
    except Exception as exc:  # the parser's own bugs on hostile input must not end a pass
        return Skipped(_raw_key(raw), f"unparseable message ({type(exc).__name__})")


def _raw_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _parse(raw: bytes, fallback_time: datetime | None) -> ParsedMail | Skipped:
    msg = email.message_from_bytes(raw)  # compat32: structure and bodies, cheaply
    notes: list[str] = []
    mid = _msg_id(_plain(msg, "Message-ID"))
    key = mid or _raw_key(raw)
    sender = _people(msg, "From", notes)
    to, cc = _people(msg, "To", notes), _people(msg, "Cc", notes)
    if not sender and not to and not cc:
        return Skipped(key, "no sender and no recipient")
    reply = _people(msg, "Reply-To", notes)
    subject = _header(msg, "Subject", notes)
    content, fmt, attachments = _body(msg, key, notes)
    if msg.defects:
        notes.append("MIME defects: " + ", ".join(sorted({type(d).__name__ for d in msg.defects})))
    return ParsedMail(
        key=key,
        sender=sender[0] if sender else Person(None, ""),
        to=tuple(to),
        cc=tuple(cc),
        reply_to=reply[0] if reply else None,
        subject=subject,
        content=content,
        mail_format=fmt,
        time=_time(msg, fallback_time, notes),
        thread_id=_thread(msg, key, notes),
        attachments=tuple(attachments),
        notes=tuple(notes),
    )


def _raw(msg: Message, name: str) -> str | None:
    """A header's text as written (first occurrence), undecodable bytes made U+FFFD."""
    lower = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lower:
            return _LINESEP.sub("", _fix(str(value)))
    return None


# A plain address list: each item ``addr@domain`` or ``Display Name <addr@domain>`` made only
# of atoms (RFC 5322 atext: no quotes, comments, groups, encoded words or obsolete syntax).
# For those, policy.default's parser gives exactly the atoms back (tests/mail/test_parse.py
# compares), in a tenth of its time: the registry's parser is most of a message's cost.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_SPEC = rf"{_DOT_ATOM}@{_DOT_ATOM}"
_PLAIN_ITEM = re.compile(
    rf"[ \t]*(?:(?P<name>{_ATOM}(?:[ \t]+{_ATOM})*)[ \t]*<(?P<spec>{_SPEC})>"
    rf"|(?P<bare>{_SPEC}))[ \t]*"
)


def _plain_people(value: str) -> list[Person] | None:
    """The people of a plain address list (above), or None for anything else."""
    if "=?" in value:
        return None
    found: list[Person] = []
    for item in value.split(","):
        match = _PLAIN_ITEM.fullmatch(item)
        if match is None:
            return None
        name, spec = match.group("name"), match.group("spec") or match.group("bare")
        found.append(Person(" ".join(name.split()) if name else None, spec))
    return found


def _typed(msg: Message, name: str, notes: list[str]) -> object | None:
    """A header through policy.default's registry (encoded words decoded), or None."""
    value = _raw(msg, name)
    if value is None:
        return None
    try:
        # The registry makes a new class on every lookup (~60 µs): each is made once here.
        kind = _KINDS.get(name)
        if kind is None:
            kind = _KINDS[name] = _HEADERS[name]
        typed: object = kind(name, value)
    except Exception as exc:
        notes.append(f"{name}: unreadable ({type(exc).__name__})")
        return None
    return typed


def _plain(msg: Message, name: str) -> str | None:
    """A header kept as written (ids, dates: no encoded words to decode)."""
    value = _raw(msg, name)
    return None if value is None else _clean(value)


def _header(msg: Message, name: str, notes: list[str]) -> str | None:
    """One header as text (encoded words decoded), or None; junk is noted, never raised."""
    value = _raw(msg, name)
    if value is not None and "=?" not in value:
        return _clean(value)  # nothing to decode: what the registry would give, sooner
    typed = _typed(msg, name, notes)
    if typed is not None:
        return _clean(str(typed))
    value = _raw(msg, name)
    return None if value is None else _clean(value)


def _fix(text: str) -> str:
    """Undecodable bytes (kept as surrogates by the parser) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _clean(text: str) -> str:
    """``_fix``, and runs of white space (folding) made one space."""
    return " ".join(_fix(text).split())


def _people(msg: Message, name: str, notes: list[str]) -> list[Person]:
    value = _raw(msg, name)
    if value is None:
        return []
    plain = _plain_people(value)
    if plain is not None:
        return plain
    try:
        header = _typed(msg, name, notes)
        if header is None:
            return []
        found = [
            Person(_clean(a.display_name) or None, _clean(a.addr_spec))
            for a in getattr(header, "addresses", ())
            if isinstance(a, Address) and a.addr_spec and a.addr_spec != "<>"
        ]
        if found or not str(header).strip():
            return found
    except Exception as exc:
        notes.append(f"{name}: {type(exc).__name__}")
    # The structured parser gave up: the lenient one of email.utils, on the raw text.
    raw = _raw(msg, name)
    pairs = getaddresses([raw]) if raw else []
    return [Person(n or None, a) for n, a in pairs if "@" in a]


def _msg_id(value: str | None) -> str | None:
    if not value:
        return None
    ids = _ids(value)
    return ids[0] if ids else None


def _ids(value: str) -> list[str]:
    """The message ids of a References / In-Reply-To / Message-ID value, brackets removed."""
    found = [part.split(">", 1)[0].strip() for part in value.split("<")[1:]]
    found = [f for f in found if f]
    if not found and value.strip():
        found = value.split()[:1]
    return found


def _thread(msg: Message, key: str, notes: list[str]) -> str:
    refs = _ids(_plain(msg, "References") or "")
    parent = _ids(_plain(msg, "In-Reply-To") or "")
    root = refs[0] if refs else parent[0] if parent else key
    digest = int.from_bytes(hashlib.sha256(root.encode()).digest()[:8], "big")
    return str(10**17 + digest % (9 * 10**17))


def _time(msg: Message, fallback: datetime | None, notes: list[str]) -> datetime:
    text = _plain(msg, "Date")
    if text:
        try:
            when = parsedate_to_datetime(text)
            if when.tzinfo is not None:
                return when.replace(microsecond=0)
            notes.append("Date: no offset (read as UTC)")
            return when.replace(tzinfo=UTC, microsecond=0)
        except (TypeError, ValueError, IndexError, OverflowError):
            notes.append("Date: unreadable")
    else:
        notes.append("Date: missing")
    return (fallback or datetime.now(UTC)).replace(microsecond=0)


def _body(msg: Message, key: str, notes: list[str]) -> tuple[str, str, list[AttachmentInfo]]:
    """The content (HTML preferred, else plain text) and the attachments' names and sizes."""
    html: str | None = None
    text: str | None = None
    attachments: list[AttachmentInfo] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        ctype = part.get_content_type()
        if disposition == "attachment" or (filename and ctype not in ("text/plain", "text/html")):
            size = len(_payload_bytes(part))
            name = filename or "attachment"
            seed = f"{key}\n{len(attachments)}".encode()
            attachments.append(AttachmentInfo(hashlib.sha256(seed).hexdigest()[:17], name, size))
        elif ctype == "text/html" and html is None:
            html = _text_of(part, notes)
        elif ctype == "text/plain" and text is None:
            text = _text_of(part, notes)
    if html is not None:
        return html, "html", attachments
    return text or "", "text", attachments


def _filename(part: Message) -> str | None:
    """The part's file name (RFC 2231 or encoded words decoded), or None."""
    try:
        name = part.get_filename()
        if not name:
            return None
        return _clean(str(make_header(decode_header(name))))
    except Exception:
        try:
            return _clean(str(part.get_filename())) or None
        except Exception:
            return None


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return b""
    return data if isinstance(data, bytes) else b""


def _text_of(part: Message, notes: list[str]) -> str:
    data = _payload_bytes(part)
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:
        charset = "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        notes.append(f"{part.get_content_type()}: charset {charset!r} unknown, read as UTF-8")
        return data.decode("utf-8", "replace")
