"""``emailshare.testing`` without pytest's fixtures: in-process apps, loading helpers, servers."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path

import pytest

from emailshare.domain.errors import FixtureError
from emailshare.domain.model import Record
from emailshare.service.fixtures import write_fixture
from emailshare.testing import (
    Emailshare,
    InProcess,
    ServerProcess,
    fixture_orgs,
    load_fixture,
    mint_token,
    read_fixture,
    reset_store,
    running_app,
    running_app_async,
    running_server,
)
from emailshare.testing.store import validated_orgs
from tests.plugin.samples import (
    ACME,
    CARL,
    LEAD,
    RITA,
    SEED_ANSWER,
    SEED_PATH,
    WILL_TOKEN,
    small,
    small_json,
    small_yaml,
)

DETAILS = f"/crm/v8/Leads/{LEAD}/__emails_sharing_details"
SHARE = f"/crm/v8/Leads/{LEAD}/actions/share_emails"


def either(server: ServerProcess, app: InProcess) -> list[Emailshare]:
    """Both handles offer the same helpers: mypy checks this function, nothing calls it."""
    return [server, app]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}"}


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "emailshare-inprocess"]


def test_running_app_serves_loads_mints_and_resets() -> None:
    with running_app(fixture=ACME) as app:
        seed = app.client.get(SEED_PATH, headers=auth(WILL_TOKEN))
        assert (seed.status_code, seed.headers["content-type"], seed.content) == (
            200,
            "application/json;charset=UTF-8",
            SEED_ANSWER,
        )
        assert app.load(small_yaml("Added")).orgs == 1  # Acme stays: another org id
        rita = app.token(RITA)
        assert app.client.get(DETAILS, headers=auth(rita)).status_code == 200
        assert app.client.get(SEED_PATH, headers=auth(WILL_TOKEN)).content == SEED_ANSWER
        app.reset()
        gone = app.client.get(DETAILS, headers=auth(rita))
        assert gone.json()["code"] == "INVALID_TOKEN"
        store = Path(app.db_url.removeprefix("sqlite:///"))
        assert store.exists()
    assert not store.parent.exists()  # its temporary store is removed
    assert loop_threads() == []
    with pytest.raises(RuntimeError, match="not running"):
        app.token(RITA)


def test_running_app_async_in_the_callers_loop(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'given.db'}"

    async def scenario() -> list[str]:
        load_fixture(url, small())  # sync helper inside a running loop: runs on a thread
        async with running_app_async(db_url=url) as app:
            r = await app.client.post(SHARE, headers=auth(await app.token(CARL)))
            assert r.status_code == 200, r.text
            r = await app.client.get(DETAILS, headers=auth(await app.token(RITA)))
            details = r.json()["__emails_sharing_details"][0]
            return [u["name"] for u in details["share_from_users"]]

    assert asyncio.run(scenario()) == ["Carl Custom"]
    assert Path(tmp_path / "given.db").exists()  # a store it was given is left in place


def test_store_helpers_work_on_a_store_no_server_runs_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert load_fixture(url, small_json("Offline")).users == 2
    token = mint_token(url, RITA, ["ZohoCRM.org.READ"])
    with running_app(db_url=url) as app:
        org = app.client.get("/crm/v8/org", headers=auth(token)).json()["org"][0]
        assert org["company_name"] == "Offline"
    reset_store(url)
    with pytest.raises(FixtureError, match="no user 12"):
        mint_token(url, RITA)


def test_a_failing_startup_raises_its_own_error_and_leaves_nothing_running() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        InProcess(db_url="mysql://nowhere/db").start()
    assert loop_threads() == []
    bad = small()
    bad["orgs"][0]["records"][0]["owner"] = "99"
    with pytest.raises(FixtureError, match=r"owner: undefined user 99"), running_app(fixture=bad):
        pass


def test_read_fixture_tells_paths_from_text(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(small_yaml("File"))
    expected = small("File")
    assert read_fixture(small("File")) == expected
    assert read_fixture(small_json("File")) == expected
    assert read_fixture(small_yaml("File")) == expected
    assert read_fixture(small_yaml("File").encode()) == expected
    assert read_fixture("doc.yaml", [tmp_path / "elsewhere", tmp_path]) == expected
    assert read_fixture(tmp_path / "doc.yaml") == expected
    assert read_fixture("orgs: []") == {"orgs": []}
    with pytest.raises(FixtureError, match=r"nope\.yaml: cannot read"):
        read_fixture("nope.yaml", [tmp_path])


def test_running_server_takes_fixture_text_and_has_the_helpers() -> None:
    with running_server(fixture=small_yaml("Live")) as srv:
        rita = srv.token(RITA)
        org = srv.client.get("/crm/v8/org", headers=auth(rita)).json()["org"][0]
        assert org["company_name"] == "Live"
        srv.reset()
        assert srv.client.get("/crm/v8/org", headers=auth(rita)).json()["code"] == "INVALID_TOKEN"
        srv.load(small("Reloaded"))
        org = srv.client.get("/crm/v8/org", headers=auth(srv.token(RITA))).json()["org"][0]
        assert org["company_name"] == "Reloaded"
    assert srv.proc.poll() is not None


def test_orgs_built_in_code_are_a_fixture_source_held_to_the_parsers_rules() -> None:
    """Domain values go through the one writer and the one parser, in-process and on a server."""
    orgs = fixture_orgs(small("Built"))
    assert read_fixture(orgs) == write_fixture(orgs)
    with running_app(fixture=orgs) as app:
        org = app.client.get("/crm/v8/org", headers=auth(app.token(RITA))).json()["org"][0]
        assert org["company_name"] == "Built"
        app.load(tuple(fixture_orgs(small("Again"))))
        org = app.client.get("/crm/v8/org", headers=auth(app.token(RITA))).json()["org"][0]
        assert org["company_name"] == "Again"
    with running_server(fixture=orgs) as srv:
        org = srv.client.get("/crm/v8/org", headers=auth(srv.token(RITA))).json()["org"][0]
        assert org["company_name"] == "Built"
    [good] = orgs
    dangling = dataclasses.replace(good, records=(Record("Leads", 5, "", owner=99),))
    with pytest.raises(FixtureError, match=r"\$\.orgs\[0\]\.records\[0\]\.owner: undefined user"):
        fixture_orgs([dangling])


def test_orgs_validated_once_are_not_validated_again() -> None:
    # The plugin validates a test's document at setup, then starts the store with the orgs.
    checked = validated_orgs(small("Once"))
    assert list(checked) == fixture_orgs(small("Once"))
    [again] = fixture_orgs(checked)
    assert again is checked[0]  # taken as it is (a list of orgs would be written and parsed)
    [reparsed] = fixture_orgs(list(checked))
    assert reparsed == again
    assert reparsed is not again
    with running_app(fixture=checked) as app:
        org = app.client.get("/crm/v8/org", headers=auth(app.token(RITA))).json()["org"][0]
        assert org["company_name"] == "Once"
    bad = small()
    bad["orgs"][0]["records"][0]["owner"] = "99"
    with pytest.raises(FixtureError, match=r"owner: undefined user 99"):
        validated_orgs(bad)


# --- the request journal from the testing objects ----------------------------------------------


def test_requests_need_the_admin_key_and_then_show_the_exchange(tmp_path: Path) -> None:
    from emailshare.config import Settings
    from emailshare.testing import InProcess, RequestEntry, start_server

    with InProcess(fixture=ACME) as off, pytest.raises(RuntimeError, match="journal is off"):
        off.requests()
    with InProcess(fixture=ACME, settings=Settings(admin_key="k")) as app:
        app.client.get(SEED_PATH, headers={"Authorization": f"Zoho-oauthtoken {WILL_TOKEN}"})
        [entry] = app.requests(path=SEED_PATH)
        assert isinstance(entry, RequestEntry)
        assert entry.response_body.encode() == SEED_ANSWER
    server = start_server(fixture=ACME, args=["--admin-key=s3"], workdir=tmp_path / "srv")
    try:
        assert server.admin_key == "s3"
        server.client.get(SEED_PATH, headers={"Authorization": f"Zoho-oauthtoken {WILL_TOKEN}"})
        [entry] = server.requests(status="2xx")
        assert (entry.path, entry.user_id) == (SEED_PATH, "412463000001213019")
    finally:
        server.stop()
