"""Runs a Markdown page's shell and Python blocks as a reader would (docs/testing.md, "Docs that
run").

A page runs in a fresh folder of its own, its blocks in order, with a virtualenv that holds only
the built wheel first on PATH (:func:`install`). The shell blocks of a page are one reader's
shell: each runs under ``bash -euo pipefail`` after the variables, functions and folder the
earlier ones left (saved after each block, sourced before the next). A Python block is a whole
program, run by that shell as ``python -c BLOCK``, so it sees what the shell exported. A block
marked ``background`` is a server: it is started, the runner waits for its port, and it is
stopped (its whole process group) when the page ends; so is anything else the page's blocks left
running. Pages run one at a time on this machine (a lock file), so the ports they name are theirs.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.docs.blocks import PYTHON, SHELL, Block, masked, matches, normalise, parse

#: Seconds a foreground block may take (an SDK's install from the registry included).
BLOCK_TIMEOUT = 300.0
#: Seconds a background block has to open its port, and its output to match once it has.
READY_TIMEOUT = 60.0
OUTPUT_TIMEOUT = 15.0
_TOO_LONG = (
    f"still running after {BLOCK_TIMEOUT:.0f} s (a server? mark it "
    "<!-- docs-runner: background port=N -->)"
)

# Saves the shell's state after a block: its variables but bash's own and read-only ones, its
# functions, its folder. The next block sources the file before it runs.
_SAVE = r"""
__docs_runner_save() {
  local __docs_runner_v
  for __docs_runner_v in $(compgen -v); do
    case $__docs_runner_v in
      BASH*|SHELLOPTS|EUID|PPID|UID|GROUPS|FUNCNAME|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD) ;;
      PIPESTATUS|DIRSTACK|EPOCHSECONDS|EPOCHREALTIME|SHLVL|OLDPWD|PWD|_|COMP_*|OPT*) ;;
      __docs_runner*) ;;
      *) declare -p "$__docs_runner_v" 2>/dev/null | { grep -v '^declare -[a-zA-Z]*r' || true; } ;;
    esac
  done
  for __docs_runner_v in $(compgen -A function); do
    case $__docs_runner_v in __docs_runner*) ;; *) declare -f "$__docs_runner_v" ;; esac
  done
  printf 'cd -- %q\n' "$PWD"
}
"""

#: Variables of the test run a reader's shell would not have.
_DROPPED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_", "EMAILSHARE_", "COV_")


class BlockFailed(AssertionError):
    """A block failed or printed other than its expected output; the message says where and how."""


def install(root: Path, work: Path) -> Path:
    """Build the project's wheel from a copy of ``root`` and install it into a fresh virtualenv
    in ``work``; return the virtualenv's folder.

    The copy keeps the build's leftovers (build/, *.egg-info) out of the checkout."""
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(root / name, source / name)
    shutil.copytree(root / "src", source / "src", ignore=ignore)
    wheels = work / "wheels"
    pip = ["-m", "pip", "--disable-pip-version-check", "-q"]
    _check([sys.executable, *pip, "wheel", "--no-deps", "-w", str(wheels), str(source)])
    venv = work / "venv"
    _check([sys.executable, "-m", "venv", str(venv)])
    _check([str(venv / "bin" / "python"), *pip, "install", *map(str, wheels.glob("*.whl"))])
    return venv


def _check(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=reader_env())
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def reader_env(venv: Path | None = None) -> dict[str, str]:
    """The environment of a reader's shell: this one less the test run's own variables, with the
    virtualenv (when given) active and first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextlib.contextmanager
def one_page_at_a_time() -> Iterator[None]:
    """Hold this machine's docs-runner lock: pages of every checkout run one at a time."""
    with open(Path(tempfile.gettempdir()) / "emailshare-docs-runner.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass
class Report:
    """What a page's run did: how many blocks ran, were skipped, were written as files."""

    ran: int = 0
    skipped: int = 0
    files: int = 0
    checked: int = 0  # expected outputs compared
    skips: list[str] = field(default_factory=list)
    seconds: list[tuple[str, float]] = field(default_factory=list)  # each block that ran


@dataclass
class _Page:
    name: str
    folder: Path
    state: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)


def run_page(path: Path, venv: Path, root: Path, name: str | None = None) -> Report:
    """Run every block of the page at ``path`` in a fresh folder (a copy of the repository at
    ``root`` for a ``clone`` page); raise :class:`BlockFailed` at the first block that fails.
    ``name`` is how messages name the page."""
    page_doc = parse(path.read_text(encoding="utf-8"))
    report = Report()
    with one_page_at_a_time(), tempfile.TemporaryDirectory(prefix="emailshare-docs-") as tmp:
        folder, state = Path(tmp) / "page", Path(tmp) / "shell-state"
        if page_doc.clone:
            _copy_checkout(root, folder)
        else:
            folder.mkdir()
        state.write_text(f"cd -- {shlex.quote(str(folder))}\n")
        # The page's temporary files (mktemp, tempfile, a demo's store) go with its folder.
        (Path(tmp) / "tmp").mkdir()
        env = dict(reader_env(venv), TMPDIR=str(Path(tmp) / "tmp"))
        page = _Page(name or str(path), folder, state, env)
        try:
            for block in page_doc.blocks:
                started = time.monotonic()
                _run_block(page, block, report)
                if block.runs and not (block.directive and block.directive.kind == "skip"):
                    report.seconds.append((block.where, time.monotonic() - started))
        finally:
            _stop(page)
    return report


def _copy_checkout(root: Path, folder: Path) -> None:
    """Copy what a clone of ``root`` holds (its files git tracks or would track) to ``folder``."""
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file() and not source.is_symlink():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)


def _run_block(page: _Page, block: Block, report: Report) -> None:
    kind = block.directive.kind if block.directive else ""
    if kind == "file":
        assert block.directive is not None
        target = _cwd(page) / block.directive.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")
        report.files += 1
    elif kind == "skip":
        assert block.directive is not None
        report.skipped += 1
        report.skips.append(f"{block.where}: {block.directive.reason}")
    elif kind == "background":
        assert block.directive is not None
        _background(page, block, block.directive.port)
        report.ran += 1
        report.checked += block.output is not None
    elif block.runs:
        _foreground(page, block)
        report.ran += 1
        report.checked += block.output is not None


def _cwd(page: _Page) -> Path:
    """The reader's folder now: where the last block left the shell."""
    for line in reversed(page.state.read_text().splitlines()):
        if line.startswith("cd -- "):
            done = subprocess.run(
                ["bash", "-c", f"{line} && pwd"], capture_output=True, text=True, check=True
            )
            return Path(done.stdout.strip())
    return page.folder


def _script(block: Block, save: bool) -> list[str]:
    """The bash command that runs ``block`` in the page's shell."""
    if block.lang in PYTHON:
        body = 'python -c "$__docs_runner_code"'
    else:
        assert block.lang in SHELL
        body = block.text
    # ``a && b`` whose ``a`` fails does not stop ``bash -e``: the block's last status is checked.
    lines = ['source "$__docs_runner_state"', body, "__docs_runner_status=$?"]
    lines.append('[ "$__docs_runner_status" = 0 ] || exit "$__docs_runner_status"')
    if save:
        lines += [_SAVE, '__docs_runner_save > "$__docs_runner_state.new"']
    return ["bash", "-euo", "pipefail", "-c", "\n".join(lines)]


def _spawn(page: _Page, block: Block, save: bool, out: int | None) -> subprocess.Popen[bytes]:
    env = dict(page.env, __docs_runner_state=str(page.state), __docs_runner_code=block.text)
    process = subprocess.Popen(
        _script(block, save),
        cwd=page.folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out if out is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    page.processes.append(process)
    return process


def _foreground(page: _Page, block: Block) -> None:
    process = _spawn(page, block, save=block.lang in SHELL, out=None)
    try:
        raw, _ = process.communicate(timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill(process)
        raw, _ = process.communicate()
        raise BlockFailed(_message(page, block, _TOO_LONG, raw)) from None
    if process.returncode:
        raise BlockFailed(_message(page, block, f"exit status {process.returncode}", raw))
    if block.lang in SHELL:
        new = page.state.with_name(page.state.name + ".new")
        new.replace(page.state)
    _compare(page, block, raw.decode(errors="replace"))


def _background(page: _Page, block: Block, port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while _listening(port):
        if time.monotonic() > deadline:
            raise BlockFailed(_message(page, block, f"port {port} is held by another program", b""))
        time.sleep(0.2)
    log = page.state.with_name(f"background-{block.line}.log")
    with open(log, "wb") as out:
        process = _spawn(page, block, save=False, out=out.fileno())
    page.ports.append(port)
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            why = f"exit status {process.returncode}" if process.returncode is not None else ""
            raise BlockFailed(
                _message(
                    page,
                    block,
                    why or f"port {port} not open after {READY_TIMEOUT:.0f} s",
                    log.read_bytes(),
                )
            )
        time.sleep(0.1)
    if block.output is None:
        return
    deadline = time.monotonic() + OUTPUT_TIMEOUT
    while not matches(block.output.text, log.read_text(errors="replace")):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    _compare(page, block, log.read_text(errors="replace"))


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _compare(page: _Page, block: Block, actual: str) -> None:
    if block.output is None or matches(block.output.text, actual):
        return
    expected, printed = normalise(block.output.text).splitlines(), masked(block.output.text, actual)
    diff = difflib.unified_diff(
        expected, printed, f"expected (line {block.output.line})", "printed", lineterm=""
    )
    raise BlockFailed(
        f"{page.name}, block at {block.where}: the output is not the page's\n"
        + "\n".join(diff)
        + _first_difference(expected, printed)
    )


def _first_difference(expected: list[str], printed: list[str]) -> str:
    """Where the first changed line differs, for lines too long to compare by eye."""
    matcher = difflib.SequenceMatcher(None, expected, printed, autojunk=False)
    for tag, e, _, p, _ in matcher.get_opcodes():
        if tag == "replace":
            want, got = expected[e], printed[p]
            at = next(
                (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
                min(len(want), len(got)),
            )
            if max(len(want), len(got)) > 100:
                return (
                    f"\nfirst difference at column {at + 1} of that line:"
                    f"\n  expected ...{want[max(0, at - 40) : at + 40]}..."
                    f"\n  printed  ...{got[max(0, at - 40) : at + 40]}..."
                )
            break
    return ""


def _message(page: _Page, block: Block, why: str, raw: bytes) -> str:
    printed = raw.decode(errors="replace")[-6000:]
    return (
        f"{page.name}, block at {block.where}: {why}\n--- the block\n{block.text}"
        f"--- what it printed (the last 6000 characters)\n{printed}"
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` and every process of its group (a server's workers, a stray ``&``)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            process.poll()  # reaps the leader, which would otherwise keep the group alive
            try:
                os.killpg(process.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.05)


def _stop(page: _Page) -> None:
    """Stop what the page left running, then wait for its ports to be free again."""
    for process in reversed(page.processes):
        _kill(process)
    deadline = time.monotonic() + 10
    while any(_listening(port) for port in page.ports) and time.monotonic() < deadline:
        time.sleep(0.1)
