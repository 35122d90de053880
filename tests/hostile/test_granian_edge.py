"""Bytes that are not HTTP: granian answers them itself, before the app sees them.

granian (hyper) refuses a request its parser rejects with a bodiless 400 (414 for a target over
65534 bytes, 431 for more than 100 headers or a head over its read buffer) and closes the
connection; no configuration lets the app answer those instead (docs/reliability.md). These
tests pin that exact behaviour, and that everything granian does pass on gets a Zoho answer.
"""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emailshare.testing import ServerProcess
from tests.hostile import rawhttp as rh
from tests.hostile.fuzzing import FUZZ

# docs/testing.md: always on a real socket. What granian itself answers, before the app.
pytestmark = pytest.mark.socket

NOT_HTTP = [
    b"\x00\xff\xfe\xfd garbage\r\n\r\n",
    b"hello world\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.6\r\n",
    bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\r\n\r\n",  # a TLS ClientHello
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET / FTP/1.1\r\n\r\n",
    b"GET  / HTTP/1.1\r\n\r\n",
    b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHo st: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
    b"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
]


@pytest.mark.parametrize("data", NOT_HTTP, ids=range(len(NOT_HTTP)))
def test_granian_refuses_what_is_not_http(hostile: ServerProcess, data: bytes) -> None:
    raw = rh.send(hostile.port, data)
    answer, rest = rh.parse(raw)
    assert rh.is_granian_refusal(answer), raw
    assert (answer.status, answer.reason) == (400, "Bad Request")
    assert rest == b""  # and the connection is closed


def test_target_over_the_64_kib_head_buffer_is_431(hostile: ServerProcess) -> None:
    # serve sets granian's HTTP/1 buffer to 64 KiB: a longer head, target included, never
    # reaches the app (a target between 2 KiB and 64 KiB gets our LIMIT_EXCEEDED).
    answer = rh.exchange(hostile.port, rh.build(b"GET", b"/" + b"a" * 70_000))
    assert rh.is_granian_refusal(answer)
    assert (answer.status, answer.reason) == (431, "Request Header Fields Too Large")


def test_more_than_100_headers_is_431(hostile: ServerProcess) -> None:
    ok = [(b"X-%d" % i, b"v") for i in range(97)]  # + Host, Connection: 99
    assert rh.exchange(hostile.port, rh.build(b"GET", b"/healthz", ok)).status == 200
    many = [(b"X-%d" % i, b"v") for i in range(99)]
    answer = rh.exchange(hostile.port, rh.build(b"GET", b"/healthz", many))
    assert rh.is_granian_refusal(answer)
    assert (answer.status, answer.reason) == (431, "Request Header Fields Too Large")


@pytest.mark.parametrize("size", [600_000, 20_000_000])
def test_head_over_granians_buffer_is_431(hostile: ServerProcess, size: int) -> None:
    answer = rh.exchange(hostile.port, rh.build(b"GET", b"/healthz", [(b"X", b"a" * size)]))
    assert rh.is_granian_refusal(answer)
    assert answer.status == 431


def test_http2_prior_knowledge_is_served(hostile: ServerProcess) -> None:
    """granian's default HTTP mode also speaks h2c: the answer is an HTTP/2 SETTINGS frame."""
    with socket.create_connection(("127.0.0.1", hostile.port), timeout=10) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000"))
        frame = b""
        while len(frame) < 9:
            chunk = sock.recv(9 - len(frame))
            assert chunk, "closed"
            frame += chunk
    assert frame[3] == 0x04  # SETTINGS


def test_a_zoho_refusal_keeps_the_connection(hostile: ServerProcess) -> None:
    """A request refused by the app's limits does not cost the pipelined one after it."""
    big = [(b"X-Big", b"a" * 9000)]
    data = rh.build(b"GET", b"/healthz", big, close=False) + rh.build(b"GET", b"/healthz")
    first, rest = rh.parse(rh.send(hostile.port, data))
    second, rest = rh.parse(rest)
    assert rh.is_zoho_error(first)
    assert first.json()["code"] == "LIMIT_EXCEEDED"
    assert (second.status, second.body, rest) == (200, b'{"status":"ok"}', b"")


# --- any request line --------------------------------------------------------------------

_LINE_BYTES = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
_METHODS = st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"PATCH", b"OPTIONS"])
_TCHAR_METHOD = st.lists(st.sampled_from(sorted(rh.TCHAR)), min_size=1, max_size=10).map(bytes)
_TARGETS = st.builds(
    lambda prefix, tail: prefix + tail,
    st.sampled_from([b"/", b"/crm/v8/", b"/crm/v8/Leads/", b"/oauth/v2/", b"*", b""]),
    _LINE_BYTES,
)
_VERSIONS = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1 ", b"http/1.1"])


def _line() -> st.SearchStrategy[bytes]:
    structured = st.builds(
        lambda m, t, v: m + b" " + t + b" " + v,
        st.one_of(_METHODS, _TCHAR_METHOD),
        _TARGETS,
        _VERSIONS,
    )
    return st.one_of(structured, _LINE_BYTES)


def _plainly_valid(line: bytes) -> bool:
    parts = line.split(b" ")
    return (
        len(parts) == 3
        and bool(parts[0])
        and all(b in rh.TCHAR for b in parts[0])
        and parts[1].startswith(b"/")
        and rh.granian_accepts_target(parts[1])
        and parts[2] in (b"HTTP/1.1", b"HTTP/1.0")
    )


@FUZZ
@given(line=_line())
def test_any_request_line_gets_granians_400_or_a_zoho_answer(
    hostile: ServerProcess, line: bytes
) -> None:
    data = line + b"\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = rh.exchange(hostile.port, data)
    if rh.is_granian_refusal(answer):
        assert not _plainly_valid(line), line
        assert answer.status == 400
    else:
        rh.assert_zoho(answer, data)
