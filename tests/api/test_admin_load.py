"""``POST /__emailshare/load`` keeps time by the settings' clock, as ``InProcess.load`` does: a
fixture token's lifetime starts at the clock's now, so an app run under an injected clock
accepts the tokens it was loaded with (docs/admin.md)."""

from __future__ import annotations

import time

from emailshare.config import Settings
from emailshare.testing import InProcess
from tests.builders import auth
from tests.conftest import ACME_FIXTURE

KEY = "load-clock-key"
WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
SEED = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
AHEAD = 30 * 86400  # the injected clock runs 30 days ahead: past every fixture token's life


def _ahead() -> float:
    return time.time() + AHEAD


def test_a_token_loaded_through_the_admin_api_lives_by_the_settings_clock() -> None:
    settings = Settings(admin_key=KEY, clock=_ahead)
    with InProcess(settings=settings) as app:
        r = app.client.post(
            "/__emailshare/load",
            content=ACME_FIXTURE.read_bytes(),
            headers={"X-Emailshare-Admin-Key": KEY},
        )
        assert r.status_code == 200, r.text
        answer = app.client.get(SEED, headers=auth(WILL))
        assert answer.status_code == 200, answer.text


def test_the_same_document_through_inprocess_load_lives_too() -> None:
    with InProcess(settings=Settings(clock=_ahead)) as app:
        app.load(ACME_FIXTURE)
        assert app.client.get(SEED, headers=auth(WILL)).status_code == 200
