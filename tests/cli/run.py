"""Run the real ``emailshare`` command (``python -m emailshare``, this checkout's source) as a
user would, in a folder of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent.parent / "src"


def command_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a command: this checkout's source first on PYTHONPATH, no
    EMAILSHARE_* setting from the test runner's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAILSHARE_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SRC), *(p for p in (extra or {}).get("PYTHONPATH", "").split(os.pathsep) if p)]
    )
    env.update({k: v for k, v in (extra or {}).items() if k != "PYTHONPATH"})
    return env


def emailshare(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """``emailshare ARGS`` to its end."""
    return subprocess.run(
        [sys.executable, "-m", "emailshare", *args],
        cwd=cwd,
        env=command_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line(stderr: str) -> str:
    """The single line a refused start prints on stderr (asserts it is one)."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("emailshare: "), stderr
    return lines[0]
