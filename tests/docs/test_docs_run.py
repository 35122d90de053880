"""Every shell and Python block of README.md and docs/*.md runs as written (docs/testing.md,
"Docs that run"): one test per page, in a fresh folder, with the built wheel in a fresh
virtualenv; a failure names the page and the block's line."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.runner import install, run_page

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Pages being rewritten to run as written when the runner landed (issue 15): not run until they
#: do, each listed with why; ``--runxfail`` runs them. Take a page off once it passes.
PENDING: dict[str, str] = {}


def _param(page: Path) -> object:
    name = str(page.relative_to(ROOT))
    if name in PENDING:
        return pytest.param(page, id=name, marks=pytest.mark.xfail(reason=PENDING[name], run=False))
    return pytest.param(page, id=name)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtualenv holding the wheel built from this checkout, once per session.

    ``EMAILSHARE_DOCS_VENV=PATH`` reuses the virtualenv at PATH instead (made by an earlier run),
    to iterate on one page quickly; the wheel is then not rebuilt."""
    reuse = os.environ.get("EMAILSHARE_DOCS_VENV")
    if reuse:
        yield Path(reuse)
        return
    started = time.monotonic()
    venv = install(ROOT, tmp_path_factory.mktemp("docs-wheel"))
    print(f"docs-runner: wheel built and installed in {time.monotonic() - started:.1f} s")
    yield venv


@pytest.mark.timeout(900)
@pytest.mark.parametrize("page", [_param(page) for page in PAGES])
def test_page_runs_as_written(page: Path, venv: Path) -> None:
    name = str(page.relative_to(ROOT))
    started = time.monotonic()
    report = run_page(page, venv, ROOT, name)
    print(
        f"docs-runner: {name}: {report.ran} ran ({report.checked} outputs checked), "
        f"{report.files} files written, {report.skipped} skipped, "
        f"{time.monotonic() - started:.1f} s"
    )
    for skip in report.skips:
        print(f"  skipped {skip}")
    for where, seconds in report.seconds:
        if seconds >= 5:
            print(f"  {seconds:.1f} s: {where}")
