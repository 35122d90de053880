"""Limits (docs/reliability.md): oversized parts and undecodable text get Zoho errors, early.

Every boundary is tried on both sides, over a real socket, on the real server.
"""

from __future__ import annotations

import select
import socket

import pytest

from emailshare.api import limits
from emailshare.api.body import MAX_BODY, MAX_DEPTH
from emailshare.testing import ServerProcess
from tests.hostile import rawhttp as rh
from tests.hostile.rawhttp import TOKENS

# docs/testing.md: always on a real socket. Raw bytes on a real socket: granian's limits and ours.
pytestmark = pytest.mark.socket

SEED = b"/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
BULK = b"/crm/v8/Leads/actions/share_emails"
HOST_AND_CLOSE = len(b"hostemailshare.test") + len(b"connectionclose")


def auth(who: str = "will") -> tuple[bytes, bytes]:
    return (b"Authorization", b"Zoho-oauthtoken " + TOKENS[who].encode())


def limit_exceeded(max_bytes: int, message: str) -> dict[str, object]:
    return {
        "code": "LIMIT_EXCEEDED",
        "details": {"max_bytes": max_bytes},
        "message": message,
        "status": "error",
    }


def get(srv: ServerProcess, target: bytes, headers: list[tuple[bytes, bytes]]) -> rh.Answer:
    answer = rh.exchange(srv.port, rh.build(b"GET", target, headers))
    rh.assert_zoho(answer)
    return answer


# --- the request line ----------------------------------------------------------------------


def test_path_of_2048_bytes_is_routed_and_2049_refused(hostile: ServerProcess) -> None:
    at_limit = b"/crm/v8/" + b"a" * (limits.MAX_PATH - 8)
    assert len(at_limit) == limits.MAX_PATH
    assert get(hostile, at_limit, [auth()]).json()["code"] == "INVALID_URL_PATTERN"
    over = get(hostile, at_limit + b"a", [auth()])
    assert (over.status, over.json()) == (
        400,
        limit_exceeded(limits.MAX_PATH, "the request URL is too long"),
    )


def test_path_limit_counts_escapes_as_sent(hostile: ServerProcess) -> None:
    over = get(hostile, b"/crm/v8/" + b"%41" * 700, [auth()])
    assert over.json()["code"] == "LIMIT_EXCEEDED"


def test_long_module_name_is_invalid_module(hostile: ServerProcess) -> None:
    target = b"/crm/v8/" + b"M" * 1900 + b"/1/__emails_sharing_details"
    answer = get(hostile, target, [auth()])
    assert (answer.status, answer.json()["code"]) == (400, "INVALID_MODULE")


def test_query_of_4096_bytes_is_read_and_4097_refused(hostile: ServerProcess) -> None:
    query = b"type=CurrentUser&pad=" + b"x" * (limits.MAX_QUERY - 21)
    assert len(query) == limits.MAX_QUERY
    ok = get(hostile, b"/crm/v8/users?" + query, [auth()])
    assert ok.status == 200
    assert ok.json()["users"][0]["full_name"] == "Will Grandon"
    over = get(hostile, b"/crm/v8/users?" + query + b"x", [auth()])
    assert (over.status, over.json()) == (
        400,
        limit_exceeded(limits.MAX_QUERY, "the query string is too long"),
    )


@pytest.mark.parametrize(
    "id_text",
    [
        b"36523970000017900040",  # 20 digits
        b"9223372036854775808",  # 19 digits, over 2**63 - 1
        b"0",
        b"-1",
        b"+3652397000001790004",
        b"%D9%A1%D9%A2",  # Arabic-Indic digits
        b"3652397000001790004%00",
        b"1" * 1900,
    ],
)
def test_bad_record_ids_are_invalid_data(hostile: ServerProcess, id_text: bytes) -> None:
    target = b"/crm/v8/Accounts/" + id_text + b"/__emails_sharing_details"
    if b"%00" in id_text:  # no name of the API holds a control character: before anything
        for headers in ([], [auth()]):
            answer = get(hostile, target, headers)
            assert (answer.status, answer.json()["code"]) == (404, "INVALID_URL_PATTERN")
        return
    assert get(hostile, target, []).json()["code"] == "AUTHENTICATION_FAILURE"  # token first
    answer = get(hostile, target, [auth()])
    assert (answer.status, answer.json()) == (
        400,
        {
            "code": "INVALID_DATA",
            "details": {"resource_path_index": 1},
            "message": "the related id given seems to be invalid",
            "status": "error",
        },
    )


# --- text that is not UTF-8, or holds control characters ----------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/crm/v8/Le%ffads/1/__emails_sharing_details",
        b"/crm/v8/Le%00ads/1/__emails_sharing_details",
        b"/crm/v8/Leads/3652397000001790010%0a/__emails_sharing_details",
        b"/crm/v8/Le%c3ads/actions/share_emails",
        b"/crm/v8/users%7f",
        b"/oauth/v2/token%ed%a0%80",
    ],
)
def test_undecodable_or_control_path_is_invalid_url_pattern(
    hostile: ServerProcess, target: bytes
) -> None:
    for method in (b"GET", b"POST"):
        answer = rh.exchange(hostile.port, rh.build(method, target, [auth("carla")], b"{}"))
        assert (answer.status, answer.json()) == (
            404,
            {
                "code": "INVALID_URL_PATTERN",
                "details": {},
                "message": "Please check if the URL trying to access is a correct one",
                "status": "error",
            },
        )


def test_raw_non_utf8_target_is_granians_400(hostile: ServerProcess) -> None:
    answer = rh.exchange(hostile.port, rh.build(b"GET", b"/crm/v8/Le\xffads"))
    assert rh.is_granian_refusal(answer)
    assert answer.status == 400


def test_utf8_in_path_is_text(hostile: ServerProcess) -> None:
    target = "/crm/v8/Léads/1/__emails_sharing_details".encode()
    assert get(hostile, target, [auth()]).json()["code"] == "INVALID_MODULE"
    target = b"/crm/v8/L%C3%A9ads/1/__emails_sharing_details"
    assert get(hostile, target, [auth()]).json()["code"] == "INVALID_MODULE"


@pytest.mark.parametrize(
    "query", [b"type=%ff", b"type=CurrentUser%00", b"%c3=1", b"a=%0d%0aX:1", b"t=%ef%bf%bd"]
)
def test_undecodable_or_control_query_is_invalid_data(hostile: ServerProcess, query: bytes) -> None:
    for target in (b"/crm/v8/users?" + query, b"/oauth/v2/token?" + query):
        answer = rh.exchange(hostile.port, rh.build(b"POST", target, [auth()], b""))
        assert (answer.status, answer.json()) == (
            400,
            {
                "code": "INVALID_DATA",
                "details": {},
                "message": "the query string is not valid UTF-8 text",
                "status": "error",
            },
        )


def test_utf8_and_bad_escapes_in_query_are_text(hostile: ServerProcess) -> None:
    for query in ("type=Ćurrent".encode(), b"type=%C4%86", b"type=%zz", b"type=%"):
        answer = get(hostile, b"/crm/v8/users?" + query, [auth()])
        assert answer.json()["details"] == {"param_name": "type"}


# --- headers -------------------------------------------------------------------------------


def test_one_header_of_8192_bytes_passes_and_8193_is_refused(hostile: ServerProcess) -> None:
    value = b"v" * (limits.MAX_HEADER - len(b"x-pad"))
    assert get(hostile, SEED, [auth(), (b"X-Pad", value)]).status == 200
    over = get(hostile, SEED, [auth(), (b"X-Pad", value + b"v")])
    assert (over.status, over.json()) == (
        400,
        limit_exceeded(limits.MAX_HEADER, "a request header is too large"),
    )


def test_oversized_authorization_is_refused_before_it_is_read(hostile: ServerProcess) -> None:
    header = (b"Authorization", b"Zoho-oauthtoken " + b"1" * 10_000)
    assert get(hostile, SEED, [header]).json()["code"] == "LIMIT_EXCEEDED"


def test_all_headers_of_32768_bytes_pass_and_32769_are_refused(hostile: ServerProcess) -> None:
    name, token = auth()
    used = HOST_AND_CLOSE + len(name) + len(token)
    pads = []
    left = limits.MAX_HEADERS - used
    i = 0
    while left:
        size = min(left, 8000)
        pad_name = b"x-pad-%d" % i
        pads.append((pad_name, b"v" * (size - len(pad_name))))
        left -= size
        i += 1
    assert get(hostile, SEED, [auth(), *pads]).status == 200
    over = get(hostile, SEED, [auth(), *pads, (b"x", b"")])  # one byte more
    assert (over.status, over.json()) == (
        400,
        limit_exceeded(limits.MAX_HEADERS, "the request headers are too large"),
    )


def test_non_utf8_header_values_are_bytes_not_errors(hostile: ServerProcess) -> None:
    """Header values are opaque (RFC 9110 obs-text): only the ones the API reads matter."""
    assert get(hostile, SEED, [auth(), (b"User-Agent", b"\xff\xfe\x80 agent")]).status == 200
    bad_token = (b"Authorization", b"Zoho-oauthtoken \xff" + TOKENS["will"].encode()[1:])
    assert get(hostile, SEED, [bad_token]).json()["code"] == "INVALID_TOKEN"
    assert get(hostile, SEED, [(b"Authorization", b"Zoho-\xffoauthtoken x")]).json()["code"] == (
        "AUTHENTICATION_FAILURE"
    )


# --- bodies --------------------------------------------------------------------------------


def post_bulk(srv: ServerProcess, body: bytes, who: str = "carla") -> rh.Answer:
    answer = rh.exchange(srv.port, rh.build(b"POST", BULK, [auth(who)], body))
    rh.assert_zoho(answer)
    return answer


def test_declared_huge_body_is_refused_without_reading_it(hostile: ServerProcess) -> None:
    head = rh.build(b"POST", BULK, [auth("carla"), (b"Content-Length", b"10000000000")])
    answer = rh.exchange(hostile.port, head)  # the body is never sent
    assert (answer.status, answer.json()) == (
        400,
        limit_exceeded(MAX_BODY, "the request body is too large"),
    )


def test_endless_chunked_body_is_refused_while_streaming(hostile: ServerProcess) -> None:
    head = rh.build(b"POST", BULK, [auth("carla"), (b"Transfer-Encoding", b"chunked")])
    chunk = b"2000\r\n" + b"[" * 0x2000 + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", hostile.port), timeout=10) as sock:
        sock.sendall(head)
        while sent < 64 * MAX_BODY:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 0x2000
        raw = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            raw += data
    answer, _ = rh.parse(raw)
    assert answer.json() == limit_exceeded(MAX_BODY, "the request body is too large")
    assert sent < 64 * MAX_BODY, "the server kept reading"


def test_body_of_64k_is_read_and_one_byte_more_refused(hostile: ServerProcess) -> None:
    ids = b'{"ids":["1"]}'
    body = ids[:-1] + b" " * (MAX_BODY - len(ids)) + b"}"
    assert len(body) == MAX_BODY
    answer = post_bulk(hostile, body)
    assert answer.json()["data"][0]["code"] == "INVALID_DATA"
    over = post_bulk(hostile, body + b" ")
    assert over.json() == limit_exceeded(MAX_BODY, "the request body is too large")


@pytest.mark.parametrize(
    "body",
    [
        b'{"ids":["3652397000001790011"\xff]}',
        b"\xef\xbb\xbf{}",  # a UTF-8 BOM
        b'{"ids":["\xed\xa0\x80"]}',  # an encoded surrogate
        b'{"ids":["\xc0\xaf"]}',  # an overlong encoding
        b'{"ids":[1e999]}',
        b'{"ids":[NaN]}',
        b"",
        b"\x00",
    ],
)
def test_bodies_that_are_not_json_are_invalid_data(hostile: ServerProcess, body: bytes) -> None:
    answer = post_bulk(hostile, body)
    assert (answer.status, answer.json()) == (
        400,
        {
            "code": "INVALID_DATA",
            "details": {},
            "message": "the request body is not valid JSON",
            "status": "error",
        },
    )


@pytest.mark.parametrize(
    ("number", "echoed"),
    [
        (b"18446744073709551616", "1.8446744073709552e+19"),  # over 64 bits: a float
        (b"9223372036854775808", "9223372036854775808"),
        (b"3652397000001790011.0", "3.65239700000179e+18"),
        (b"-3652397000001790011", "-3652397000001790011"),
    ],
)
def test_ids_as_numbers_out_of_range_are_invalid_entries(
    hostile: ServerProcess, number: bytes, echoed: str
) -> None:
    entry = post_bulk(hostile, b'{"ids":[' + number + b"]}").json()["data"][0]
    assert entry == {
        "code": "INVALID_DATA",
        "details": {"id": echoed},
        "message": "The id given seems to be invalid",
        "status": "error",
    }


def test_nesting_up_to_32_is_parsed_deeper_refused(hostile: ServerProcess) -> None:
    deep = MAX_DEPTH - 1  # inside {"ids": ...}
    at_limit = b'{"ids":' + b"[" * deep + b"]" * deep + b"}"
    assert post_bulk(hostile, at_limit).json()["data"][0]["code"] == "INVALID_DATA"
    for body in (
        b'{"ids":' + b"[" * (deep + 1) + b"]" * (deep + 1) + b"}",
        b"[" * (MAX_BODY - 1),
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    ):
        answer = post_bulk(hostile, body)
        assert answer.json() == {
            "code": "INVALID_DATA",
            "details": {},
            "message": "the request body is nested too deeply",
            "status": "error",
        }


def test_brackets_inside_strings_do_not_count_as_nesting(hostile: ServerProcess) -> None:
    body = b'{"ids":["' + b"[{" * 1000 + b'"]}'
    entry = post_bulk(hostile, body).json()["data"][0]
    assert (entry["code"], entry["details"]) == ("INVALID_DATA", {"id": "[{" * 1000})


def test_truncated_chunked_body_is_a_zoho_error(hostile: ServerProcess) -> None:
    head = rh.build(b"POST", BULK, [auth("carla"), (b"Transfer-Encoding", b"chunked")])
    answer = rh.exchange(hostile.port, head + b"zz\r\nabc\r\n")
    assert (answer.status, answer.json()["code"]) == (400, "INVALID_DATA")
    assert answer.json()["message"] == "the request body could not be read"


def test_chunked_form_body_on_the_token_endpoint(hostile: ServerProcess) -> None:
    """A form body without Content-Length is read once, bounded, then parsed."""
    form = b"grant_type=refresh_token&client_id=nobody&client_secret=x&refresh_token=y"
    head = rh.build(
        b"POST",
        b"/oauth/v2/token",
        [
            (b"Content-Type", b"application/x-www-form-urlencoded"),
            (b"Transfer-Encoding", b"chunked"),
        ],
    )
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(form), form)
    answer = rh.exchange(hostile.port, head + body)
    assert (answer.status, answer.json()) == (200, {"error": "invalid_client"})


def test_checks_after_large_headers_still_run(hostile: ServerProcess) -> None:
    """Headers over 8 KiB in all (none over its own limit) do not skip the text checks."""
    pads = [(b"X-Pad-%d" % i, b"v" * 4000) for i in range(3)]
    answer = get(hostile, b"/crm/v8/Le%ffads/1/__emails_sharing_details", [auth(), *pads])
    assert (answer.status, answer.json()["code"]) == (404, "INVALID_URL_PATTERN")
    answer = get(hostile, b"/crm/v8/users?type=%ff", [auth(), *pads])
    assert (answer.status, answer.json()["code"]) == (400, "INVALID_DATA")
    assert get(hostile, SEED, [auth(), *pads]).status == 200


def test_refusal_without_raw_path() -> None:
    """ASGI makes raw_path optional: the decoded path is measured then."""
    scope = {
        "type": "http",
        "path": "/crm/v8/" + "é" * 1100,
        "query_string": b"",
        "headers": [],
    }
    error = limits.refusal(scope)
    assert error is not None
    assert error.code == "LIMIT_EXCEEDED"
    scope["path"] = "/crm/v8/Le\x00ads"
    error = limits.refusal(scope)
    assert error is not None
    assert error.code == "INVALID_URL_PATTERN"
    scope["path"] = "/crm/v8/Leads"
    assert limits.refusal(scope) is None
