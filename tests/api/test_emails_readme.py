"""The README's curls answer what the README shows: the demo org (src/emailshare/data/demo.json)
served as ``emailshare demo`` serves it, called with a token minted as the demo mints it, for
every ``curl`` block of README.md followed by a ``json`` block."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from emailshare.cli import DEMO_SCOPES, DEMO_USER
from tests import conftest

README = Path(__file__).parent.parent.parent / "README.md"
# A shell block holding a curl (the lines before it set its token), then a json block.
_PAIR = re.compile(r"```sh\n([^`]*?curl [^`]*?)```\n```json\n([^`]*?)\n```", re.S)
_URL = re.compile(r"'http://127\.0\.0\.1:8000(/[^']*)'")


def readme_calls() -> list[tuple[str, bytes]]:
    """(path, answer) of each curl of the README, in order."""
    found = []
    for command, answer in _PAIR.findall(README.read_text(encoding="utf-8")):
        url = _URL.search(command)
        assert url is not None, command
        found.append((url.group(1), answer.encode()))
    return found


@pytest.fixture(scope="module")
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, str]]:
    fixture = resources.files("emailshare") / "data" / "demo.json"
    with resources.as_file(fixture) as path:
        server = conftest.serve(request, tmp_path_factory.mktemp("demo"), fixture=path)
    try:
        token = server.token(DEMO_USER, DEMO_SCOPES)
        with conftest.open_client(server, timeout=30.0) as client:
            yield client, token
    finally:
        server.stop()


def test_the_readme_shows_the_details_and_the_emails_curls() -> None:
    paths = [path for path, _ in readme_calls()]
    assert paths == [
        "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details",
        "/crm/v8/Accounts/3652397000001790004/Emails",
    ]


@pytest.mark.parametrize(("path", "answer"), readme_calls())
def test_each_readme_curl_answers_as_shown(
    demo: tuple[httpx.Client, str], path: str, answer: bytes
) -> None:
    client, token = demo
    response = client.get(path, headers={"Authorization": f"Zoho-oauthtoken {token}"})
    assert (response.status_code, response.content) == (200, answer)
