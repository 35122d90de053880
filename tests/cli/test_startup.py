"""Every start-up failure a user can cause is one line on stderr, saying what and what to do,
with its own exit status (docs/operations.md, "Exit statuses"); a port in use is refused,
never shared, whoever holds it."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emailshare.startup import Exit
from emailshare.testing import ServerProcess, free_port, start_server, stop_group
from tests.cli.run import command_env, emailshare, one_line
from tests.conftest import ACME_FIXTURE

WILL = "412463000001213019"
ACME_ACCOUNT = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"


@pytest.fixture(scope="module")
def holder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """An ``emailshare serve`` of the Acme org holding a port."""
    folder = tmp_path_factory.mktemp("holder")
    server = start_server(db_url=f"sqlite:///{folder / 'acme.db'}", fixture=ACME_FIXTURE)
    try:
        yield server
    finally:
        server.stop()


def _answers_with_its_own_store(server: ServerProcess, token: str) -> None:
    """Ten fresh connections in a row all reach the holder: its token (unknown to any other
    store) is good on each, and each answer is the same."""
    answers = set()
    for _ in range(10):
        with httpx.Client(base_url=server.url, trust_env=False) as c:
            got = c.get(ACME_ACCOUNT, headers={"Authorization": f"Zoho-oauthtoken {token}"})
        assert got.status_code == 200, got.text
        answers.add(got.content)
    assert len(answers) == 1


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_port_an_emailshare_holds_is_refused_not_shared(
    holder: ServerProcess, tmp_path: Path, command: str
) -> None:
    token = holder.token(WILL)
    _answers_with_its_own_store(holder, token)
    done = emailshare(
        command, "--port", str(holder.port), "--db", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path
    )
    assert done.returncode == Exit.PORT
    line = one_line(done.stderr)
    assert f"port {holder.port}" in line
    assert "in use" in line
    assert "--port" in line
    assert "curl" not in done.stdout
    assert not (tmp_path / "x.db").exists()  # refused before the store is touched
    _answers_with_its_own_store(holder, token)


def test_a_port_another_program_holds_is_refused(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = emailshare("demo", "--port", str(port), cwd=tmp_path)
    assert done.returncode == Exit.PORT
    assert "in use" in one_line(done.stderr)
    assert done.stdout == ""


def test_a_port_a_reuseport_listener_holds_is_refused(tmp_path: Path) -> None:
    """granian listens with SO_REUSEPORT: a listener with it is seen as well."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = emailshare("serve", "--port", str(port), cwd=tmp_path)
    assert done.returncode == Exit.PORT
    assert "in use" in one_line(done.stderr)


BLOCK_PSYCOPG = """
import sys
class _NoPsycopg:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("psycopg", "psycopg_pool", "psycopg_binary"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoPsycopg())
"""


def test_postgresql_without_its_driver_names_the_extra(tmp_path: Path) -> None:
    """The driver really absent: a sitecustomize makes psycopg unimportable."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_PSYCOPG)
    serve = ["serve", "--port", str(free_port())]
    for command in (serve, ["load", str(ACME_FIXTURE)], ["migrate"]):
        done = emailshare(
            *command,
            "--db",
            "postgresql://u:secret@127.0.0.1:1/x",
            cwd=tmp_path,
            env={"PYTHONPATH": str(site)},
        )
        assert done.returncode == Exit.DRIVER, done.stderr
        line = one_line(done.stderr)
        assert "pip install 'emailshare[postgres]'" in line
        assert "pip install '.[postgres]'" in line
        assert "secret" not in line


def test_a_store_that_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_text("not a database\n" * 100)
    (tmp_path / "folder.db").mkdir()
    for url in ("sqlite:///junk.db", "sqlite:///folder.db", "postgresql://u:pw@127.0.0.1:1/x"):
        done = emailshare("serve", "--db", url, "--port", str(free_port()), cwd=tmp_path)
        assert done.returncode == Exit.STORE, done.stderr
        line = one_line(done.stderr)
        assert "cannot open the store" in line
        assert "pw@" not in line


def test_a_bad_store_url(tmp_path: Path) -> None:
    for url in ("mysql://x/y", "sqlite:///", "emailshare.db"):
        done = emailshare("load", "--db", url, str(ACME_FIXTURE), cwd=tmp_path)
        assert done.returncode == Exit.URL, done.stderr
        assert "sqlite:///path.db" in one_line(done.stderr)


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "my-org.yaml").write_text("orgs:\n  - id: '1'\n   name: [unclosed\n")
    for command in (["load"], ["serve", "--port", str(free_port()), "--load"]):
        done = emailshare(*command, "my-org.yaml", cwd=tmp_path)
        assert done.returncode == Exit.FIXTURE
        line = one_line(done.stderr)
        assert "my-org.yaml" in line
        assert "line 3" in line
        assert "<unicode string>" not in line


def test_a_fixture_that_fails_validation_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "my-org.json").write_text('{"orgs": [], "colour": 1}')
    done = emailshare("load", "my-org.json", cwd=tmp_path)
    assert done.returncode == Exit.FIXTURE
    line = one_line(done.stderr)
    assert line.startswith("emailshare: my-org.json: ")
    assert "$.colour" in line


def test_a_token_from_an_empty_store_says_it_is_empty(tmp_path: Path) -> None:
    done = emailshare("token", "--user", WILL, "--scope", "ZohoCRM.modules.ALL", cwd=tmp_path)
    assert done.returncode == Exit.SETTING
    line = one_line(done.stderr)
    assert "is empty" in line
    assert "emailshare example-fixture > my-org.json" in line


def test_a_malformed_variable_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    done = emailshare("serve", cwd=tmp_path, env={"EMAILSHARE_PORT": "eighty"})
    assert done.returncode == Exit.USAGE
    assert "EMAILSHARE_PORT='eighty'" in done.stderr
    assert "Traceback" not in done.stderr


@contextlib.contextmanager
def _demo(tmp_path: Path, port: int, env: dict[str, str]) -> Iterator[None]:
    """``emailshare demo`` on ``port``, from the moment it printed its curl (``Try:``, within
    60 s) until the block ends; then stopped with its workers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "emailshare", "demo", "--port", str(port)],
        cwd=tmp_path,
        env=command_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            if line.startswith("Try:"):
                break
            assert time.monotonic() < deadline
        yield
    finally:
        stop_group(proc)  # type: ignore[arg-type]


def test_the_demo_prints_its_curl_only_once_it_answers(tmp_path: Path) -> None:
    port = free_port()
    with _demo(tmp_path, port, {"TMPDIR": str(tmp_path)}), httpx.Client(trust_env=False) as c:
        # The moment it says so, the server answers.
        assert c.get(f"http://127.0.0.1:{port}/healthz").status_code == 200


def test_demo_token_mints_a_token_of_the_running_demo_and_only_while_it_runs(
    tmp_path: Path,
) -> None:
    """``emailshare demo-token`` (the README's curls use it): a fresh token of the demo on that
    port, which the demo answers with; with no demo on the port, one line and exit 7."""
    port = free_port()
    env = {"TMPDIR": str(tmp_path)}
    with _demo(tmp_path, port, env):
        done = emailshare("demo-token", "--port", str(port), cwd=tmp_path, env=env)
        assert done.returncode == Exit.OK, done.stderr
        token = done.stdout.strip()
        assert token.startswith("1000.")
        assert len(token) == 70
        with httpx.Client(trust_env=False) as c:
            answer = c.get(
                f"http://127.0.0.1:{port}{ACME_ACCOUNT}",
                headers={"Authorization": f"Zoho-oauthtoken {token}"},
            )
        assert answer.status_code == 200
        assert '"name":"Will Grandon"' in answer.text
    gone = emailshare("demo-token", "--port", str(port), cwd=tmp_path, env=env)
    assert gone.returncode == Exit.SETTING
    assert f"no emailshare demo is running on port {port}" in one_line(gone.stderr)
