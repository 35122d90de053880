"""Install paths (docs/operations.md, "Install"): the wheel ``python -m build`` makes holds
what emailshare reads at run time, and installs and runs in a fresh virtualenv (no system
site-packages), by pip and by pipx. Dependencies come from pip's configured index or cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
WANTED = (
    "emailshare/api/web/",
    "emailshare/storage/migrations/0001_initial.sql",
    "emailshare/api/openapi.yaml",
    "emailshare/data/demo.json",
    "emailshare/py.typed",
)


def _run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_env(**extra: str) -> dict[str, str]:
    """No PYTHONPATH or virtualenv of the test runner: the installed copy alone is run."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("EMAILSHARE")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build --wheel`` of a copy of the source (the build leaves ``build/`` and
    ``*.egg-info`` where it runs, so not in this checkout)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", tree / "dist", ".", cwd=tree)
    [built] = (tree / "dist").glob("emailshare-*.whl")
    return built


def test_the_wheel_holds_the_page_the_migrations_the_openapi_and_the_demo(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for wanted in WANTED:
        assert any(n.startswith(wanted) for n in names), wanted
    assert any(n.startswith("emailshare/api/web/") and n.endswith(".html") for n in names)


def _fresh_venv(where: Path) -> Path:
    _run(sys.executable, "-m", "venv", where, cwd=where.parent, env=_clean_env())
    assert "include-system-site-packages = false" in (where / "pyvenv.cfg").read_text()
    return where / "bin"


def _runs(emailshare: Path, cwd: Path) -> None:
    version = _run(emailshare, "--version", cwd=cwd, env=_clean_env())
    assert version.strip() == "emailshare 0.1.0"
    doc = json.loads(_run(emailshare, "example-fixture", cwd=cwd, env=_clean_env()))
    assert doc["orgs"][0]["name"] == "Zylker Demo"
    (cwd / "my-org.json").write_text(json.dumps(doc))
    loaded = _run(emailshare, "load", "my-org.json", cwd=cwd, env=_clean_env())
    assert loaded.startswith("loaded my-org.json: 1 orgs")


def test_the_wheel_installs_and_runs_in_a_fresh_virtualenv(wheel: Path, tmp_path: Path) -> None:
    bin_dir = _fresh_venv(tmp_path / "venv")
    _run(bin_dir / "pip", "install", "--quiet", wheel, cwd=tmp_path, env=_clean_env())
    _runs(bin_dir / "emailshare", tmp_path)


def test_pipx_installs_the_wheel(wheel: Path, tmp_path: Path) -> None:
    bin_dir = _fresh_venv(tmp_path / "tools")
    _run(bin_dir / "pip", "install", "--quiet", "pipx", cwd=tmp_path, env=_clean_env())
    homes = {
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }
    _run(bin_dir / "pipx", "install", wheel, cwd=tmp_path, env=_clean_env(**homes))
    _runs(tmp_path / "bin" / "emailshare", tmp_path)
