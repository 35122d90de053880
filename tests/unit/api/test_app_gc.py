"""A served worker freezes its start-up's objects out of the cyclic collector once its services
are open (docs/performance.md, "Once the caches are full"); an app a test builds does not."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest
from starlette.applications import Starlette

from emailshare.api.app import create_app, create_app_from_env
from emailshare.config import Settings


def frozen_while_served(app: Starlette) -> tuple[int, int, bool]:
    """Frozen objects before the lifespan, in it, and whether the store opened by it was
    among them (out of the collector's sight: not in ``gc.get_objects()``)."""

    async def serve() -> tuple[int, int, bool]:
        before = gc.get_freeze_count()
        async with app.router.lifespan_context(app):
            during = gc.get_freeze_count()
            store = app.state.store
            hidden = not any(o is store for o in gc.get_objects())
        return before, during, hidden

    return asyncio.run(serve())


def test_the_served_factory_freezes_what_start_up_made_once_the_services_are_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.unfreeze()  # whatever an earlier test left
    monkeypatch.setenv("EMAILSHARE_DB_URL", f"sqlite:///{tmp_path / 'served.db'}")
    app = create_app_from_env()  # the factory granian's workers call (cli_serve.run_granian)
    before, during, hidden = frozen_while_served(app)
    assert before == 0
    assert during > 0
    assert hidden  # the store, opened in the lifespan, frozen with the rest
    assert gc.get_freeze_count() == 0  # given back when the lifespan ends


def test_an_app_a_test_builds_freezes_nothing(tmp_path: Path) -> None:
    """The test's process holds the test's objects, not the app's: they are not ours to
    freeze."""
    gc.unfreeze()
    app = create_app(Settings(db_url=f"sqlite:///{tmp_path / 'tested.db'}"))
    assert frozen_while_served(app) == (0, 0, False)
