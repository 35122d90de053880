"""HTTP/1.1 over a bare socket, and what a hostile-input test may accept as an answer.

Two kinds of answer are legitimate:

- the app's: a JSON body that is one of Zoho's error bodies (docs/contract.md §7) or a success body;
- granian's own refusal of a request its HTTP parser rejects before the app sees it: status
  400, 414 or 431, headers exactly ``connection: close``, ``content-length: 0`` and ``date``,
  no body (see docs/reliability.md). ``granian_accepts_*`` say, byte by byte, which requests
  those are, as measured on granian 2.8.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from dataclasses import dataclass, field
from typing import Any

TOKENS = {
    "will": "1000.0000000000000000000000000000a001.00000000000000000000000000000001",
    "boyle": "1000.0000000000000000000000000000a002.00000000000000000000000000000002",
    "ada": "1000.0000000000000000000000000000a003.00000000000000000000000000000003",
    "carla": "1000.0000000000000000000000000000a004.00000000000000000000000000000004",
    "nora": "1000.0000000000000000000000000000a005.00000000000000000000000000000005",
    "ian": "1000.0000000000000000000000000000a006.00000000000000000000000000000006",
    "pat": "1000.0000000000000000000000000000a007.00000000000000000000000000000007",
    "expired": "1000.0000000000000000000000000000a00a.0000000000000000000000000000000a",
    "dan": "1000.0000000000000000000000000000a00b.0000000000000000000000000000000b",
    "gina": "1000.0000000000000000000000000000b001.00000000000000000000000000000b01",
}

# Every error code the contract and docs/contract-decisions.md document, with its statuses.
ZOHO_ERRORS: dict[str, set[int]] = {
    "INVALID_URL_PATTERN": {404},
    "INVALID_REQUEST_METHOD": {400},
    "API_NOT_SUPPORTED": {400},
    "AUTHENTICATION_FAILURE": {401},
    "INVALID_TOKEN": {401},
    "OAUTH_SCOPE_MISMATCH": {401},
    "INVALID_MODULE": {400},
    "NOT_SUPPORTED": {400},
    "INVALID_DATA": {400},
    "NO_PERMISSION": {403},
    "NOT_ALLOWED": {400},
    "ALREADY_SHARED": {400},
    "NOT_SHARED": {400},
    "DUPLICATE_DATA": {400},
    "MANDATORY_NOT_FOUND": {400},
    "LIMIT_EXCEEDED": {400},
    "TOO_MANY_REQUESTS": {429},
}
OAUTH_ERRORS = {
    "invalid_code",
    "invalid_client",
    "invalid_client_secret",
    "invalid_redirect_uri",
    "unsupported_grant_type",
}
CONTENT_TYPE = "application/json;charset=UTF-8"
GRANIAN_REFUSALS = {400, 414, 431}


class Dropped(AssertionError):
    """The server closed the connection without a complete answer."""


@dataclass
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k == name]
        return found[0] if found else None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def from_granian(self) -> bool:
        """granian's own bodiless refusal (the app always sends a JSON content type)."""
        return self.header("content-type") is None


def build(
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes | None = None,
    *,
    close: bool = True,
) -> bytes:
    """A request as bytes; Host and (when there is a body) Content-Length are added."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: emailshare.test"]
    lines += [name + b": " + value for name, value in headers or []]
    if body is not None:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def send(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data``, read until the server closes; every byte it sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # The server may answer and close before taking it all: then read the answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ([^\r\n]*)")


def parse(raw: bytes, to_head: bool = False) -> tuple[Answer, bytes]:
    """The first answer in ``raw`` and what follows it (``to_head``: an answer to HEAD)."""
    if not raw:
        raise Dropped("the connection was closed without an answer")
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise Dropped(f"incomplete answer: {raw[:200]!r}")
    first, *lines = head.split(b"\r\n")
    match = _STATUS.fullmatch(first)
    if match is None:
        raise AssertionError(f"not an HTTP status line: {first!r}")
    headers = []
    for line in lines:
        name, _, value = line.partition(b":")
        headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
    length = [int(v) for k, v in headers if k == "content-length"]
    if not length:
        raise AssertionError(f"an answer without content-length: {head!r}")
    if to_head:
        length = [0]
    if len(rest) < length[0]:
        raise Dropped(f"the body was cut: {len(rest)} of {length[0]} bytes")
    answer = Answer(
        int(match.group(1)),
        match.group(2).decode("latin-1"),
        headers,
        rest[: length[0]],
        raw,
    )
    return answer, rest[length[0] :]


def exchange(port: int, data: bytes, timeout: float = 10.0) -> Answer:
    """One request (that asks ``Connection: close``), its one answer."""
    answer, extra = parse(send(port, data, timeout), to_head=data.startswith(b"HEAD "))
    assert not extra, f"bytes after the answer: {extra[:100]!r}"
    return answer


def _json_object(answer: Answer) -> dict[str, Any] | None:
    """The answer's body when it is a JSON object sent as the API's JSON type, else None."""
    if answer.header("content-type") != CONTENT_TYPE:
        return None
    try:
        body = answer.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def is_zoho_error(answer: Answer) -> bool:
    """The exact envelope of docs/contract.md §7 with a documented code and its status."""
    body = _json_object(answer)
    return (
        body is not None
        and list(body) == ["code", "details", "message", "status"]
        and body["status"] == "error"
        and isinstance(body["details"], dict)
        and isinstance(body["message"], str)
        and answer.status in ZOHO_ERRORS.get(body["code"], set())
    )


def is_zoho_success(answer: Answer) -> bool:
    """A 200/207 (or a bulk 400 of error entries) in one of the API's success shapes."""
    body = _json_object(answer)
    if body is None:
        return False
    if answer.status == 200 and set(body) & {"__emails_sharing_details", "users", "org"}:
        return True
    if answer.status == 200 and body in ({"status": "ok"}, {"status": "ready"}):
        return True
    if "data" in body and list(body) == ["data"] and answer.status in (200, 207, 400):
        entries = body["data"]
        return isinstance(entries, list) and all(
            isinstance(e, dict)
            and list(e) == ["code", "details", "message", "status"]
            and (e["code"] == "SUCCESS" or e["code"] in ZOHO_ERRORS)
            for e in entries
        )
    if answer.status == 200 and ("access_token" in body or body == {"status": "success"}):
        return True
    return answer.status == 200 and list(body) == ["error"] and body["error"] in OAUTH_ERRORS


def is_granian_refusal(answer: Answer) -> bool:
    """granian's bodiless refusal, exactly."""
    return (
        answer.status in GRANIAN_REFUSALS
        and [k for k, _ in answer.headers] == ["connection", "content-length", "date"]
        and answer.header("connection") == "close"
        and answer.header("content-length") == "0"
        and answer.body == b""
    )


def assert_zoho(answer: Answer, request: bytes = b"") -> None:
    """The app answered, with a documented error or a success shape; never a 500."""
    assert not answer.from_granian, f"granian refused a valid request: {request[:300]!r}"
    assert answer.status != 500, f"500 for {request[:300]!r}: {answer.body[:300]!r}"
    if request.startswith(b"HEAD "):  # no body to look at: Zoho's status and content type
        assert answer.header("content-type") == CONTENT_TYPE
        assert answer.status in {s for codes in ZOHO_ERRORS.values() for s in codes}
        return
    assert is_zoho_error(answer) or is_zoho_success(answer), (
        f"not a Zoho answer to {request[:300]!r}: {answer.status} {answer.body[:300]!r}"
    )


# --- what granian's HTTP/1 parser accepts (measured byte by byte on granian 2.8) -----------

_PATH_ASCII = frozenset(range(0x21, 0x7F)) - set(b"<>`")
_QUERY_ASCII = frozenset(range(0x21, 0x7F)) - set(b'"<>')
TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_FIELD_VALUE = frozenset([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def granian_accepts_target(target: bytes) -> bool:
    """A request target (``/path?query``) granian hands to the app rather than refusing."""
    path, _, query = target.partition(b"?")
    return (
        _utf8(target)
        and all(b in _PATH_ASCII for b in path if b < 0x80)
        and all(b in _QUERY_ASCII for b in query if b < 0x80)
    )


def granian_accepts_header(name: bytes, value: bytes) -> bool:
    """A header line granian passes on (a token name; a value without control bytes)."""
    return bool(name) and all(b in TCHAR for b in name) and all(b in _FIELD_VALUE for b in value)
