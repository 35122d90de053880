"""Property-based: any bytes in any part of a request, over a real socket (and through httpx),
get a documented Zoho answer, or granian's own 400 when its parser refuses the request. Never a
500, never a dropped connection.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emailshare.api import limits
from emailshare.testing import ServerProcess
from tests.builders import ACME_CLIENT, ACME_SECRET, ACME_SOID
from tests.hostile import rawhttp as rh
from tests.hostile.fuzzing import FUZZ
from tests.hostile.rawhttp import TOKENS

# docs/testing.md: always on a real socket. Raw bytes on a real socket, through granian.
pytestmark = pytest.mark.socket

NOT_TEXT = re.compile("[\x00-\x1f\x7f\ufffd]")

RECORDS = [
    b"3652397000001790004",
    b"3652397000001790010",
    b"3652397000001790011",
    b"3652397000001790020",
    b"3652397000001790040",
    b"5124630000001790001",
]
PIECES = [
    b"/",
    b"crm",
    b"v8",
    b"v4",
    b"v2.1",
    b"v9",
    b"Leads",
    b"lEaDs",
    b"Accounts",
    b"Projects",
    b"Tasks",
    b"Nope",
    *RECORDS,
    b"0",
    b"99999999999999999999",
    b"__emails_sharing_details",
    b"actions",
    b"share_emails",
    b"unshare_emails",
    b"users",
    b"org",
    b"oauth",
    b"token",
    b"revoke",
    b"%2F",
    b"%00",
    b"%ff",
    b"%",
    b"..",
    b".",
    b"?",
    b"&",
    b"=",
    b"type=CurrentUser",
    "é".encode(),
    b"\xff",
    b" ",
    b"#",
    b";",
]
PREFIXES = [
    b"/crm/v8/",
    b"/crm/v8/Leads/",
    b"/crm/v8/Leads/3652397000001790010/",
    b"/crm/v8/Projects/actions/",
    b"/crm/v5/Accounts/",
    b"/oauth/v2/",
    b"/crm/",
]
METHODS = [b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"PATCH", b"OPTIONS", b"FOO"]
ENDPOINTS = [
    b"/crm/v8/Leads/3652397000001790010/__emails_sharing_details",
    b"/crm/v8/Leads/3652397000001790010/actions/share_emails",
    b"/crm/v8/Leads/actions/unshare_emails",
    b"/crm/v8/Projects/actions/share_emails",
    b"/crm/v8/users",
    b"/crm/v2/org",
    b"/oauth/v2/token",
    b"/oauth/v2/token/revoke",
]
HOP_BY_HOP = {
    b"host",
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"expect",
    b"upgrade",
    b"te",
    b"keep-alive",
    b"trailer",
}

fragments = st.lists(
    st.one_of(st.sampled_from(PIECES), st.binary(min_size=1, max_size=4)), max_size=8
).map(b"".join)
authorizations = st.one_of(
    st.none(),
    st.sampled_from(
        [b"Zoho-oauthtoken " + t.encode() for t in TOKENS.values()]
        + [b"Zoho-oauthtoken", b"Zoho-oauthtoken 1000.x.y", b"Bearer " + TOKENS["ada"].encode()]
    ),
    st.binary(max_size=80),
)
json_ids = st.lists(
    st.one_of(
        st.sampled_from([r.decode() for r in RECORDS]),
        st.text(max_size=25),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    max_size=8,
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=200),
    json_ids.map(lambda ids: json.dumps({"ids": ids}).encode()),
    st.sampled_from([b"{}", b'{"ids":[]}', b'{"ids":"1"}', b"[]", b"null", b'{"ids":null}']),
)


def _headers(authorization: bytes | None) -> list[tuple[bytes, bytes]]:
    if authorization is None:
        return []
    return [(b"Authorization", authorization.replace(b"\r", b"").replace(b"\n", b""))]


def _expect(data: bytes, target: bytes, headers: list[tuple[bytes, bytes]], port: int) -> None:
    answer = rh.exchange(port, data)
    accepted = rh.granian_accepts_target(target) and all(
        rh.granian_accepts_header(n, v) for n, v in headers
    )
    if accepted:
        rh.assert_zoho(answer, data)
    else:
        assert rh.is_granian_refusal(answer), (data[:300], answer)
        assert answer.status == 400


@FUZZ
@given(
    method=st.sampled_from(METHODS),
    prefix=st.sampled_from(PREFIXES),
    tail=fragments,
    authorization=authorizations,
    body=bodies,
)
def test_any_path(
    hostile: ServerProcess,
    method: bytes,
    prefix: bytes,
    tail: bytes,
    authorization: bytes | None,
    body: bytes | None,
) -> None:
    target = (prefix + tail).replace(b"?", b"%3F")  # the query has its own test
    headers = _headers(authorization)
    _expect(rh.build(method, target, headers, body), target, headers, hostile.port)


@FUZZ
@given(
    method=st.sampled_from([b"GET", b"POST"]),
    endpoint=st.sampled_from(ENDPOINTS),
    query=fragments,
    authorization=authorizations,
)
def test_any_query(
    hostile: ServerProcess,
    method: bytes,
    endpoint: bytes,
    query: bytes,
    authorization: bytes | None,
) -> None:
    target = endpoint + b"?" + query
    headers = _headers(authorization)
    _expect(rh.build(method, target, headers, b""), target, headers, hostile.port)


header_names = st.one_of(
    st.lists(st.sampled_from(sorted(rh.TCHAR)), min_size=1, max_size=12).map(bytes),
    st.sampled_from(
        [b"Authorization", b"Content-Type", b"Accept", b"Cookie", b"X-Forwarded-For", b"Origin"]
    ),
    st.binary(min_size=1, max_size=8),
).filter(lambda n: n.lower() not in HOP_BY_HOP and not set(n) & set(b":\r\n"))
header_values = st.one_of(
    st.binary(max_size=60),
    st.sampled_from(
        [
            b"multipart/form-data",
            b"multipart/form-data; boundary=",
            b"application/x-www-form-urlencoded; charset=latin-1",
            b"application/json",
            b"Zoho-oauthtoken " + TOKENS["carla"].encode(),
        ]
    ),
).map(lambda v: v.replace(b"\n", b""))


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    method=st.sampled_from([b"GET", b"POST"]),
    extra=st.lists(st.tuples(header_names, header_values), max_size=4),
    authorization=authorizations,
    body=bodies,
)
def test_any_header(
    hostile: ServerProcess,
    endpoint: bytes,
    method: bytes,
    extra: list[tuple[bytes, bytes]],
    authorization: bytes | None,
    body: bytes | None,
) -> None:
    if endpoint.startswith(b"/oauth"):  # a form may be malformed: test_malformed_form_bodies
        extra = [(n, v) for n, v in extra if n.lower() != b"content-type"]
    headers = _headers(authorization) + extra
    _expect(rh.build(method, endpoint, headers, body), endpoint, headers, hostile.port)


@FUZZ
@given(
    endpoint=st.sampled_from([e for e in ENDPOINTS if b"actions" in e]),
    who=st.sampled_from(["carla", "nora", "will", "ada", "gina", "ian"]),
    content_type=st.sampled_from([None, b"application/json", b"text/plain", b"\xff"]),
    body=st.one_of(st.binary(max_size=2000), bodies.filter(lambda b: b is not None)),
)
def test_any_body_on_share_endpoints(
    hostile: ServerProcess,
    endpoint: bytes,
    who: str,
    content_type: bytes | None,
    body: bytes,
) -> None:
    headers = [(b"Authorization", b"Zoho-oauthtoken " + TOKENS[who].encode())]
    if content_type is not None:
        headers.append((b"Content-Type", content_type))
    answer = rh.exchange(hostile.port, rh.build(b"POST", endpoint, headers, body))
    rh.assert_zoho(answer, body)


@FUZZ
@given(
    requests=st.lists(
        st.tuples(
            st.sampled_from(METHODS),
            st.sampled_from(ENDPOINTS),
            authorizations,
            st.one_of(st.none(), st.binary(max_size=300)),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_pipelined_requests_each_get_their_answer(
    hostile: ServerProcess, requests: list[tuple[bytes, bytes, bytes | None, bytes | None]]
) -> None:
    data = b""
    for i, (method, endpoint, authorization, body) in enumerate(requests):
        headers = [h for h in _headers(authorization) if rh.granian_accepts_header(*h)]
        if endpoint.startswith(b"/oauth") and body is not None:
            body = b"a=" + body.hex().encode()  # a well-formed form
            headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
        data += rh.build(method, endpoint, headers, body, close=i == len(requests) - 1)
    rest = rh.send(hostile.port, data)
    for method, _, _, _ in requests:
        answer, rest = rh.parse(rest, to_head=method == b"HEAD")
        rh.assert_zoho(answer, method + b" ")
    assert rest == b""


# --- through httpx: what a client library sends ------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from([r.decode() for r in RECORDS]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def client(hostile: ServerProcess) -> Any:
    with httpx.Client(base_url=hostile.url, timeout=10) as c:
        yield c


def _zoho_via_httpx(r: httpx.Response) -> None:
    assert r.status_code != 500, r.text
    answer = rh.Answer(
        r.status_code,
        r.reason_phrase,
        [(k.lower(), v) for k, v in r.headers.items()],
        r.content,
        b"",
    )
    rh.assert_zoho(answer)


@FUZZ
@given(
    payload=st.one_of(json_values, st.fixed_dictionaries({"ids": json_values})),
    module=st.sampled_from(["Leads", "Contacts", "Projects", "Accounts", "Nope", "lEaDs"]),
    action=st.sampled_from(["share_emails", "unshare_emails"]),
    who=st.sampled_from(["carla", "nora", "will", "gina"]),
)
def test_any_json_body_through_httpx(
    client: httpx.Client, payload: Any, module: str, action: str, who: str
) -> None:
    r = client.post(
        f"/crm/v8/{module}/actions/{action}",
        json=payload,
        headers={"Authorization": f"Zoho-oauthtoken {TOKENS[who]}"},
    )
    _zoho_via_httpx(r)


@FUZZ
@given(
    params=st.dictionaries(st.text(max_size=15), st.text(max_size=30), max_size=6),
    segment=st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=20),
    who=st.sampled_from(["will", "gina", "ian", "expired"]),
)
def test_any_text_in_path_and_query_through_httpx(
    client: httpx.Client, params: dict[str, str], segment: str, who: str
) -> None:
    headers = {"Authorization": f"Zoho-oauthtoken {TOKENS[who]}"}
    for path in (
        f"/crm/v8/{segment}/3652397000001790010/__emails_sharing_details",
        f"/crm/v8/Leads/{segment}/__emails_sharing_details",
        "/crm/v8/users",
        "/crm/v8/org",
    ):
        url = httpx.URL(path.replace("?", "%3F").replace("#", "%23"), params=params)
        _zoho_via_httpx(client.get(url, headers=headers))


# Form field values, minus NUL: a NUL breaks PostgreSQL (see test_nul_in_form_fields).
form_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
form_fields = st.fixed_dictionaries(
    {},
    optional={
        "grant_type": st.one_of(
            st.sampled_from(["authorization_code", "refresh_token", "client_credentials"]),
            form_text,
        ),
        "client_id": st.one_of(st.just(ACME_CLIENT), form_text),
        "client_secret": st.one_of(st.just(ACME_SECRET), form_text),
        "code": form_text,
        "refresh_token": form_text,
        "redirect_uri": form_text,
        "scope": form_text,
        "soid": st.one_of(st.just(ACME_SOID), form_text),
        "token": form_text,
    },
)


@FUZZ
@given(
    fields=form_fields,
    how=st.sampled_from(["form", "multipart", "query"]),
    endpoint=st.sampled_from(["/oauth/v2/token", "/oauth/v2/token/revoke"]),
)
def test_any_form_on_the_token_endpoints(
    client: httpx.Client, fields: dict[str, str], how: str, endpoint: str
) -> None:
    if how == "form":
        r = client.post(endpoint, data=fields)
    elif how == "multipart":
        r = client.post(
            endpoint, files={k: (None, v) for k, v in fields.items()} or {"x": (None, "")}
        )
    else:
        r = client.post(endpoint, params=fields)
        if any(NOT_TEXT.search(k + v) for k, v in fields.items()):
            assert (r.status_code, r.json()["message"]) == (400, limits.query_not_text().message)
            return
    assert r.status_code == 200, r.text
    body = r.json()
    assert (
        body == {"status": "success"}
        or (list(body) == ["error"] and body["error"] in rh.OAUTH_ERRORS)
        or "access_token" in body
    ), body


MALFORMED_FORMS = [
    (b"multipart/form-data", b""),
    (b"multipart/form-data", b"garbage"),
    (b"multipart/form-data; boundary=xx", b"garbage"),
    (
        b"multipart/form-data; boundary=xx",
        b'--xx\r\nContent-Disposition: form-data; name="a"; filename="f"\r\n\r\nv\r\n--xx--\r\n',
    ),
    (
        b"multipart/form-data; boundary=xx",
        b'--xx\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
        + b"v" * 9000
        + b"\r\n--xx--\r\n",
    ),
    (b"application/x-www-form-urlencoded", b"&".join(b"f%d=1" % i for i in range(40))),
]


@pytest.mark.parametrize("endpoint", [b"/oauth/v2/token", b"/oauth/v2/token/revoke"])
@pytest.mark.parametrize(("content_type", "body"), MALFORMED_FORMS)
def test_malformed_form_bodies(
    hostile: ServerProcess, endpoint: bytes, content_type: bytes, body: bytes
) -> None:
    data = rh.build(b"POST", endpoint, [(b"Content-Type", content_type)], body)
    answer = rh.exchange(hostile.port, data)
    assert answer.status != 500, answer.body
    rh.assert_zoho(answer, data)


NUL_FIELDS = [
    {"grant_type": "refresh_token", "client_id": "1000.\x00", "client_secret": "x"},
    {
        "grant_type": "client_credentials",
        "client_id": ACME_CLIENT,
        "client_secret": ACME_SECRET,
        "scope": "ZohoCRM.modules.ALL\x00",
        "soid": ACME_SOID,
    },
]


@pytest.mark.parametrize("fields", NUL_FIELDS, ids=["client_id", "scope"])
@pytest.mark.parametrize("how", ["form", "multipart"])
def test_nul_in_form_fields(
    client: httpx.Client,
    hostile: ServerProcess,
    how: str,
    fields: dict[str, str],
) -> None:
    """A NUL (``%00``) in a form field: an OAuth error, as any other unknown value."""
    if how == "form":
        r = client.post("/oauth/v2/token", data=fields)
    else:
        r = client.post("/oauth/v2/token", files={k: (None, v) for k, v in fields.items()})
    assert r.status_code == 200, r.text
    assert list(r.json()) in (
        ["error"],
        ["access_token", "scope", "api_domain", "token_type", "expires_in"],
    )
