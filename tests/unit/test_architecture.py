"""The layers hold (docs/architecture.md): ``lint-imports`` keeps the contracts in pyproject.toml,
and a violation written into a copy of the package breaks them, so the check can fail."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the package under ``root/src``, with ``root/pyproject.toml``."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_import_contracts_are_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return {str(c["name"]): c for c in contracts}


def test_every_rule_of_the_layers_has_a_contract() -> None:
    by_type = [(c["type"], c.get("source_modules"), c.get("layers")) for c in _contracts().values()]
    assert (
        "layers",
        None,
        ["emailshare.api", "emailshare.service", "emailshare.domain"],
    ) in by_type
    for source in (
        "emailshare.service",
        "emailshare.storage",
        "emailshare.api",
        "emailshare.domain",
    ):
        assert ("forbidden", [source], None) in by_type, source
    api = next(c for c in _contracts().values() if c.get("source_modules") == ["emailshare.api"])
    assert api["ignore_imports"] == ["emailshare.api.app -> emailshare.bootstrap"]


@pytest.mark.parametrize(
    ("module", "violation", "contract"),
    [
        ("storage/repo.py", "import emailshare.service.auth", "Storage implements the ports"),
        ("api/wire.py", "import emailshare.storage.repo", "No handler touches storage"),
        ("domain/model.py", "import orjson", "The domain imports only the standard library"),
        ("service/details.py", "import emailshare.api.wire", "Layers point one way"),
    ],
)
def test_a_violation_breaks_its_contract(
    tmp_path: Path, module: str, violation: str, contract: str
) -> None:
    shutil.copytree(SRC, tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "emailshare" / module
    target.write_text(target.read_text() + f"\n{violation}  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), result.stdout


def test_the_domain_imports_only_the_standard_library() -> None:
    # Also for a third-party package the forbidden contract does not list.
    for path in sorted((SRC / "emailshare" / "domain").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                ok = top in sys.stdlib_module_names or name.startswith("emailshare.domain")
                assert ok, f"{path.name} imports {name}"
