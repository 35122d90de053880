"""The docs-runner itself (tests/docs/blocks.py, tests/docs/runner.py) on small pages of its own:
what it reads from a page, how a reader's shell carries over, what fails, and that a
background server is stopped with its page."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from tests.docs.blocks import PageError, matches, parse
from tests.docs.runner import BlockFailed, Report, run_page

ROOT = Path(__file__).resolve().parents[2]
#: This test run's own virtualenv stands in for the wheel's: the runner only puts it on PATH.
VENV = Path(sys.prefix)

FENCE = "```"


def page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text.replace("'''", FENCE))
    return path


def run(tmp_path: Path, text: str) -> Report:
    return run_page(page(tmp_path, text), VENV, ROOT, "page.md")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_blocks_directives_and_outputs_are_read() -> None:
    text = """# A page

<!-- docs-runner: skip reason="needs a real Zoho account" -->
'''sh
curl https://www.zohoapis.com/
'''

'''sh
echo hi
'''

'''text
hi
'''

<!-- docs-runner: file path=conf/a.yaml -->
'''yaml
a: 1
'''

- in a list:

  '''python
  print(1)
  '''
  '''json
  1
  '''
""".replace("'''", FENCE)
    blocks = parse(text).blocks
    assert [(b.line, b.lang) for b in blocks] == [
        (4, "sh"),
        (8, "sh"),
        (17, "yaml"),
        (23, "python"),
    ]
    assert blocks[0].directive is not None
    assert blocks[0].directive.reason == "needs a real Zoho account"
    assert blocks[0].output is None
    assert blocks[1].output is not None
    assert blocks[1].output.text == "hi\n"
    assert blocks[2].directive is not None
    assert blocks[2].directive.path == "conf/a.yaml"
    assert blocks[3].output is not None
    assert blocks[3].output.line == 26
    assert not parse(text).clone
    assert parse("<!-- docs-runner: clone -->\n\n" + text).clone


def test_a_text_block_after_prose_is_no_output() -> None:
    blocks = parse(f"{FENCE}sh\necho hi\n{FENCE}\n\nSo:\n\n{FENCE}text\nbye\n{FENCE}\n").blocks
    assert blocks[0].output is None
    assert len(blocks) == 2


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<!-- docs-runner: skipp reason=x -->\n```sh\nx\n```\n", "unknown docs-runner directive"),
        ("<!-- docs-runner: skip -->\n```sh\nx\n```\n", "skip takes exactly: reason"),
        ("<!-- docs-runner: background port=80a -->\n```sh\nx\n```\n", "is no port"),
        ("<!-- docs-runner: file path=../x -->\n```sh\nx\n```\n", "stay in the page's folder"),
        ("<!-- docs-runner: skip reason=x -->\n\ntext\n\n```sh\nx\n```\n", "not right before"),
        ("```sh\nx\n```\n<!-- docs-runner: skip reason=x -->\n", "no block after it"),
        ("<!-- docs-runner: skip reason=x -->\n```yaml\nx\n```\n", "does not run"),
        ("<!-- docs-runner: background port=1 -->\n```python\nx\n```\n", "only a shell block"),
    ],
)
def test_a_bad_directive_is_an_error_naming_its_line(text: str, error: str) -> None:
    with pytest.raises(PageError, match=error):
        parse(text)


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        ("a\nb\n", "a\nb", True),
        ("a  \n", "a\n\n", True),  # trailing spaces and blank lines at the end
        ("a\n", "b\n", False),
        ("token 1000.<32 hex>.<32 hex>\n", "token 1000." + "ab" * 16 + "." + "0" * 32, True),
        ("token 1000.<32 hex>\n", "token 1000." + "ab" * 15, False),
        ("token 1000.<32 hex>\n", "token 1000." + "AB" * 16, False),
        ("loaded \u2026: 1 orgs\n", "loaded /tmp/x/y.json: 1 orgs\n", True),
        ("loaded \u2026: 1 orgs\n", "loaded a\nb: 1 orgs\n", False),  # … stays in its line
        ('{"time":"\u2026","pid":\u2026}\n', '{"time":"12:00","pid":7}\n', True),
        ("first\n...\nlast\n", "first\n1\n2\nlast\n", True),
        ("first\n...\nlast\n", "first\nlast\n", True),
        ("first\n...\nlast\n", "first\n1\n", False),
        ("a.b*c\n", "aXbbc\n", False),  # the rest is literal
    ],
)
def test_expected_output_and_its_placeholders(expected: str, actual: str, same: bool) -> None:
    assert matches(expected, actual) is same


def test_blocks_share_one_reader_shell(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
'''sh
export GREETING=hello
NAME=reader
say() { echo "$1, $NAME"; }
mkdir sub && cd sub
'''

'''sh
say "$GREETING"; pwd | sed 's,.*/,,'
'''
'''text
hello, reader
sub
'''

<!-- docs-runner: file path=data.txt -->
'''text
saved
'''

'''python
import os, pathlib
print(os.environ["GREETING"], pathlib.Path("data.txt").read_text().strip(), pathlib.Path.cwd().name)
'''
'''text
hello saved sub
'''
""",
    )
    assert (report.ran, report.checked, report.files, report.skipped) == (3, 2, 1, 0)


def test_a_skipped_block_is_counted_and_not_run(tmp_path: Path) -> None:
    report = run(tmp_path, "<!-- docs-runner: skip reason=\"why\" -->\n'''sh\nexit 3\n'''\n")
    assert (report.ran, report.skipped, report.skips) == (0, 1, ["line 2 (sh): why"])


@pytest.mark.parametrize(
    ("block", "why"),
    [
        ("false\necho never\n", "exit status 1"),
        ("false && echo never\n", "exit status 1"),  # bash -e lets it pass; the runner does not
        ("echo a | false | cat\n", "exit status 1"),  # pipefail
        ("echo $UNSET_BY_ANYONE\n", "exit status 1"),  # nounset
    ],
)
def test_a_failing_shell_block_fails_its_page(tmp_path: Path, block: str, why: str) -> None:
    with pytest.raises(BlockFailed, match=f"page.md, block at line 3 \\(sh\\): {why}"):
        run(tmp_path, f"\n\n'''sh\n{block}'''\n")


def test_a_failing_python_block_fails_its_page(tmp_path: Path) -> None:
    with pytest.raises(BlockFailed, match=r"line 1 \(python\): exit status 1(.|\n)*ZeroDivision"):
        run(tmp_path, "'''python\n1 / 0\n'''\n")


def test_other_output_fails_with_a_diff_of_the_lines_that_differ(tmp_path: Path) -> None:
    text = "'''sh\necho one $$; echo deux\n'''\n'''text\none \u2026\ntwo\n'''\n"
    with pytest.raises(BlockFailed, match="not the page's") as failed:
        run(tmp_path, text)
    assert "\n one \u2026\n-two\n+deux" in str(failed.value)  # the matching line is no change


def test_a_background_server_runs_until_its_page_ends(tmp_path: Path) -> None:
    port = free_port()
    report = run(
        tmp_path,
        f"""
<!-- docs-runner: background port={port} -->
'''sh
echo serving; exec python -m http.server --bind 127.0.0.1 {port}
'''
'''text
serving
...
'''

'''sh
curl -s -o /dev/null -w '%{{http_code}}\\n' http://127.0.0.1:{port}/
'''
'''text
200
'''
""",
    )
    assert (report.ran, report.checked) == (2, 2)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server outlived its page"


def test_a_page_whose_block_fails_still_stops_its_server(tmp_path: Path) -> None:
    port = free_port()
    text = f"""
<!-- docs-runner: background port={port} -->
'''sh
python -m http.server --bind 127.0.0.1 {port}
'''

'''sh
exit 4
'''
"""
    with pytest.raises(BlockFailed, match="exit status 4"):
        run(tmp_path, text)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_server_that_exits_before_listening_fails(tmp_path: Path) -> None:
    text = f"<!-- docs-runner: background port={free_port()} -->\n'''sh\necho no; exit 2\n'''\n"
    with pytest.raises(BlockFailed, match=r"exit status 2(.|\n)*no"):
        run(tmp_path, text)


def test_a_clone_page_runs_in_a_copy_of_the_repository(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        "<!-- docs-runner: clone -->\n\n'''sh\ntest -f pyproject.toml && test ! -e .venv\n'''\n",
    )
    assert report.ran == 1
