"""The message parser (emailshare.mail.parse): real MIME built with the standard library,
hypothesis-generated messages, and hand-made malformed ones (docs/contract.md §13)."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from emailshare.mail.parse import ParsedMail, Skipped, parse

FALLBACK = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _parsed(raw: bytes) -> ParsedMail:
    got = parse(raw, FALLBACK)
    assert isinstance(got, ParsedMail), got
    return got


def test_encoded_words_multipart_html_and_attachments() -> None:
    msg = EmailMessage()
    msg["From"] = "Jürgen Größe <jurgen@example.test>"
    msg["To"] = "Lead One <lead@example.test>, other@example.test"
    msg["Cc"] = "Çağla <cagla@example.test>"
    msg["Subject"] = "Prix: 20 € — 日本語の件名"
    msg["Date"] = "Wed, 06 Dec 2023 11:55:16 +0530"
    msg["Message-ID"] = "<abc@example.test>"
    msg.set_content("plain body")
    msg.add_alternative("<p>html body</p>", subtype="html")
    msg.add_attachment(b"x" * 2048, maintype="application", subtype="pdf", filename="devis €.pdf")
    got = _parsed(msg.as_bytes())
    assert got.sender.name == "Jürgen Größe"
    assert got.sender.address == "jurgen@example.test"
    assert [p.address for p in got.to] == ["lead@example.test", "other@example.test"]
    assert got.cc[0].name == "Çağla"
    assert got.subject == "Prix: 20 € — 日本語の件名"
    assert got.mail_format == "html"
    assert got.content.strip() == "<p>html body</p>"
    assert [(a.name, a.size) for a in got.attachments] == [("devis €.pdf", 2048)]
    assert got.time == datetime(2023, 12, 6, 11, 55, 16, tzinfo=timezone(timedelta(hours=5.5)))
    assert got.time.isoformat() == "2023-12-06T11:55:16+05:30"
    assert got.key == "abc@example.test"
    assert re.fullmatch(r"[0-9a-f]{96}", got.message_id(7))
    assert got.message_id(7) != got.message_id(8)
    assert got.notes == ()


def test_text_only_is_text_format() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.test"
    msg["To"] = "b@example.test"
    msg.set_content("hello")
    got = _parsed(msg.as_bytes())
    assert (got.mail_format, got.content.strip()) == ("text", "hello")


def test_thread_from_references_then_in_reply_to() -> None:
    def message(extra: str) -> bytes:
        return f"From: a@x.test\r\nTo: b@x.test\r\n{extra}\r\nhi\r\n".encode()

    root = _parsed(message("Message-ID: <root@x.test>\r\n"))
    reply = _parsed(message("Message-ID: <r1@x.test>\r\nIn-Reply-To: <root@x.test>\r\n"))
    deeper = _parsed(
        message("Message-ID: <r2@x.test>\r\nReferences: <root@x.test> <r1@x.test>\r\n")
    )
    assert root.thread_id == reply.thread_id == deeper.thread_id
    assert re.fullmatch(r"[1-9][0-9]{17}", root.thread_id)
    other = _parsed(message("Message-ID: <else@x.test>\r\n"))
    assert other.thread_id != root.thread_id


def test_no_date_and_bad_date_fall_back() -> None:
    no_date = _parsed(b"From: a@x.test\r\nTo: b@x.test\r\n\r\nbody\r\n")
    bad_date = _parsed(b"From: a@x.test\r\nTo: b@x.test\r\nDate: not a date\r\n\r\nbody\r\n")
    assert no_date.time == bad_date.time == FALLBACK
    assert "Date: missing" in no_date.notes
    assert "Date: unreadable" in bad_date.notes


def test_no_message_id_keys_on_content() -> None:
    raw = b"From: a@x.test\r\nTo: b@x.test\r\n\r\nbody\r\n"
    assert _parsed(raw).key == _parsed(raw).key
    assert _parsed(raw).key.startswith("sha256:")
    assert _parsed(raw + b"x").key != _parsed(raw).key


MALFORMED = [
    b"",
    b"\x00\x01\x02\xff\xfe",
    b"From: \xff\xfe junk <bad@@x>\r\nTo: lead@x.test\r\nSubject: \xe9t\xe9\r\n\r\n\xff\r\n",
    b"From: a@x.test\r\nTo: b@x.test\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
    b"From: a@x.test\r\nTo: b@x.test\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
    b"--zz\r\nContent-Type: text/plain; charset=x-unknown-9\r\n\r\n\xe9\r\n--zz",
    b"From: a@x.test\r\nTo: b@x.test\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notb64",
    b"From: =?utf-8?q?broken?= <a@x.test>\r\nTo: =?bogus?b?zz?= <b@x.test>\r\n\r\nx",
    b"From: a@x.test\r\nTo: (comment only)\r\nDate: Mon, 99 Foo 2023 99:99:99 +9999\r\n\r\nx",
    b"Subject: only a subject\r\n\r\nx",
    b"From: a@x.test\r\nTo: b@x.test\r\nReferences: <<<>>>\r\nIn-Reply-To: >\r\n\r\nx",
    b"From: a@x.test\r\n" + b"X-Long: " + b"a" * 100_000 + b"\r\n\r\nx",
]


def test_malformed_messages_never_raise() -> None:
    for raw in MALFORMED:
        got = parse(raw, FALLBACK)
        assert isinstance(got, ParsedMail | Skipped)
        if isinstance(got, Skipped):
            assert got.reason
        else:
            assert got.content is not None
            assert got.time.tzinfo is not None


def test_8bit_junk_keeps_what_can_be_read() -> None:
    got = _parsed(MALFORMED[2])
    assert [p.address for p in got.to] == ["lead@x.test"]
    assert got.subject is not None
    assert "\ufffd" in got.subject


def test_no_parties_is_skipped_with_reason() -> None:
    got = parse(b"Subject: only a subject\r\n\r\nx", FALLBACK)
    assert isinstance(got, Skipped)
    assert got.reason == "no sender and no recipient"


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20)
local = st.from_regex(r"[a-z][a-z0-9.]{0,10}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(
    sender=names,
    subject=names,
    body=st.text(max_size=200),
    to=st.lists(local, min_size=1, max_size=4),
    html=st.booleans(),
    files=st.lists(st.tuples(names, st.binary(max_size=300)), max_size=3),
)
def test_generated_messages_round_trip(
    sender: str,
    subject: str,
    body: str,
    to: list[str],
    html: bool,
    files: list[tuple[str, bytes]],
) -> None:
    msg = EmailMessage()
    msg["From"] = Address(display_name=sender, addr_spec="s@x.test")
    msg["To"] = ", ".join(f"{t}@x.test" for t in to)
    msg["Subject"] = subject
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 -0800"
    msg.set_content(body)
    if html:
        msg.add_alternative(f"<b>{body}</b>", subtype="html")
    for i, (name, data) in enumerate(files):
        msg.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=name or f"f{i}"
        )
    got = parse(msg.as_bytes(), FALLBACK)
    assert isinstance(got, ParsedMail)
    assert got.sender.address == "s@x.test"
    # What policy.default itself reads (it keeps a space between two encoded words folded
    # apart inside a display name: Python's own round-trip quirk, not ours).
    whole = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert got.sender.name == (" ".join(whole["From"].addresses[0].display_name.split()) or None)
    assert [p.address for p in got.to] == [f"{t}@x.test" for t in to]
    assert got.subject == " ".join(subject.split())
    assert got.mail_format == ("html" if html else "text")
    assert [a.size for a in got.attachments] == [len(d) for _, d in files]
    assert got.time.isoformat() == "2026-12-01T10:00:00-08:00"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    got = parse(raw, FALLBACK)
    assert isinstance(got, ParsedMail | Skipped)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"From: ",
                b"To: ",
                b"Cc: ",
                b"Date: ",
                b"Subject: ",
                b"Content-Type: multipart/mixed; ",
                b"boundary=",
                b"=?utf-8?b?",
                b"?=",
                b"<",
                b">",
                b"@",
                b",",
                b"\r\n",
                b"\r\n\r\n",
                b"--",
                b"\xff",
                b"a@b.test",
                b'"',
                b"(",
                b")",
                b";",
                b":",
                b"Content-Transfer-Encoding: base64",
            ]
        ),
        max_size=60,
    )
)
def test_header_soup_never_raises(parts: list[bytes]) -> None:
    got = parse(b"".join(parts), FALLBACK)
    assert isinstance(got, ParsedMail | Skipped)


_ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
_atom = st.text(alphabet=_ATEXT, min_size=1, max_size=6)
_spec = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.lists(_atom, min_size=1, max_size=2).map(".".join),
    st.lists(_atom, min_size=1, max_size=3).map(".".join),
)
_item = st.one_of(
    _spec,
    st.builds(
        lambda words, spec: f"{words} <{spec}>",
        st.lists(_atom, min_size=1, max_size=3).map(" ".join),
        _spec,
    ),
)


@given(st.lists(_item, min_size=1, max_size=4), st.text(alphabet=_ATEXT + " ", max_size=30))
@settings(max_examples=200, deadline=None)
def test_plain_headers_read_as_policy_default_reads_them(items: list[str], subject: str) -> None:
    """The fast paths (plain address lists, subjects without encoded words) give what
    policy.default's registry gives; what they do not take goes to the registry."""
    value = ", ".join(items)
    raw = f"From: {value}\r\nTo: {value}\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()
    got = _parsed(raw)
    read = email.message_from_bytes(raw, policy=email.policy.default)
    want = [
        (a.display_name or None, a.addr_spec)
        for a in read["To"].addresses
        if a.addr_spec and a.addr_spec != "<>"
    ]
    assert [(p.name, p.address) for p in got.to] == want
    assert (got.sender.name, got.sender.address) == want[0]
    assert got.subject == " ".join(str(read["Subject"]).split())
