"""The pytest plugin, run the way its users run it: sample test files through ``pytester``.

``pytest_plugins`` is declared here rather than in a conftest: pytest refuses it in any
conftest but the rootdir's when the whole suite is collected. Samples run inline (in this
process) for speed; one runs in a subprocess to prove the ``pytest11`` entry point alone
loads the plugin. Heavy modules are imported up front so that pytester's restoring of
``sys.modules`` after each inline run does not make every run import them again.
"""

from __future__ import annotations

import asyncio
import http.server
import os
import threading

import httpx
import pytest

import emailshare.api.app
import emailshare.service.admin
import emailshare.storage.repo
from tests.plugin.samples import ACME, ASYNC_HEAD, PRELUDE, small, small_json, small_yaml

# Loaded before any inline run, so kept loaded across them (see above).
PRELOADED = (httpx, emailshare.api.app, emailshare.service.admin, emailshare.storage.repo)


def _load_what_httpx_loads_on_first_use() -> None:
    """httpx imports its network layers (httpcore's connections, h11, anyio's backend) on the
    first request. Were that first request made in an inline run, pytester would drop those
    modules afterwards and later tests of this process would load second copies, whose
    exceptions httpx no longer recognises (a dropped connection then escapes as httpcore's
    error instead of ``httpx.ReadError``). So one real request, sync and async, first."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        httpx.get(url, trust_env=False)

        async def get() -> None:
            async with httpx.AsyncClient(trust_env=False) as client:
                await client.get(url)

        asyncio.run(get())
    finally:
        server.shutdown()
        server.server_close()


_load_what_httpx_loads_on_first_use()

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:cacheprovider", "-q")


def sample(pytester: pytest.Pytester, body: str, name: str = "test_sample") -> None:
    pytester.makepyfile(**{name: PRELUDE + body})


def test_fresh_store_per_test_in_every_fixture(pytester: pytest.Pytester) -> None:
    sample(
        pytester,
        f"""
DOC = {small()!r}

@pytest.fixture(params=["emailshare_server", "emailshare_shared_server", "emailshare_app"])
def es(request):
    return request.getfixturevalue(request.param)

@pytest.mark.emailshare(fixture=DOC)
def test_a_share_is_seen(es):
    assert sharers(es) == []
    r = es.client.post(SHARE, headers=auth(es.token(CARL)))
    assert r.status_code == 200, r.text
    assert sharers(es) == ["Carl Custom"]

@pytest.mark.emailshare(fixture=DOC)
def test_b_share_of_test_a_is_gone(es):
    assert sharers(es) == []

@pytest.fixture(params=["emailshare_shared_server", "emailshare_app"])
def es_fast(request):
    return request.getfixturevalue(request.param)

def test_c_no_document_is_an_empty_store(es_fast):
    es = es_fast
    with pytest.raises(ValueError, match="no user 12"):
        es.token(RITA)

def test_d_reset_and_load_in_a_test(es_fast):
    es = es_fast
    es.load(DOC)
    assert sharers(es) == []
    es.reset()
    with pytest.raises(ValueError, match="no user 12"):
        es.token(RITA)
""",
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=10)


def test_marker_takes_a_path_a_dict_json_or_yaml_text(pytester: pytest.Pytester) -> None:
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "from_file.yaml").write_text(small_yaml("From File"))
    (pytester.path / "positional.json").write_text(small_json("Positional"))
    sample(
        pytester,
        f"""
pytestmark = pytest.mark.emailshare(fixture={small("Module Wide")!r})

def test_module_marker(emailshare_app):
    assert org_name(emailshare_app) == "Module Wide"

@pytest.mark.emailshare(fixture={small("A Dict")!r})
def test_dict(emailshare_app):
    assert org_name(emailshare_app) == "A Dict"

@pytest.mark.emailshare(fixture={small_json("Json Text")!r})
def test_json_text(emailshare_app):
    assert org_name(emailshare_app) == "Json Text"

@pytest.mark.emailshare(fixture={small_yaml("Yaml Text")!r})
def test_yaml_text(emailshare_app):
    assert org_name(emailshare_app) == "Yaml Text"

@pytest.mark.emailshare(fixture="data/from_file.yaml")
def test_path_next_to_the_test(emailshare_app):
    assert org_name(emailshare_app) == "From File"

@pytest.mark.emailshare("positional.json")
def test_positional_path(emailshare_app):
    assert org_name(emailshare_app) == "Positional"

@pytest.mark.emailshare(fixture=None)
def test_none_is_an_empty_store(emailshare_app):
    with pytest.raises(ValueError, match="no user"):
        emailshare_app.token(RITA)

@pytest.mark.emailshare(fixture={small("Class Wide")!r})
class TestClass:
    def test_class_marker(self, emailshare_app):
        assert org_name(emailshare_app) == "Class Wide"

    @pytest.mark.emailshare(settings={{"admin_key": "k"}})
    def test_settings_alone_keep_the_class_document(self, emailshare_app):
        assert org_name(emailshare_app) == "Class Wide"
        key = {{"X-Emailshare-Admin-Key": "k"}}
        r = emailshare_app.client.post("/__emailshare/reset", headers=key)
        assert r.status_code == 200
""",
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=9)


def test_emailshare_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
import pytest

@pytest.fixture
def emailshare_fixture():
    return {small("From Conftest")!r}
"""
    )
    sample(
        pytester,
        f"""
def test_default_from_conftest(emailshare_app):
    assert org_name(emailshare_app) == "From Conftest"

@pytest.mark.emailshare(fixture={small_json("Marker Wins")!r})
def test_marker_wins(emailshare_app):
    assert org_name(emailshare_app) == "Marker Wins"
""",
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=2)


def test_in_process_and_server_answer_the_same_bytes(pytester: pytest.Pytester) -> None:
    (pytester.path / "acme.json").write_bytes(ACME.read_bytes())
    sample(
        pytester,
        """
pytestmark = pytest.mark.emailshare(fixture="acme.json")

REQUESTS = [
    ("GET", SEED_PATH, WILL),                         # the seed
    ("GET", SEED_PATH, {}),                           # AUTHENTICATION_FAILURE
    ("GET", SEED_PATH, auth("1000." + "0" * 32 + "." + "0" * 32)),  # INVALID_TOKEN
    ("POST", SEED_PATH, WILL),                        # INVALID_REQUEST_METHOD
    ("GET", "/crm/v8/Tasks/1/__emails_sharing_details", WILL),  # NOT_SUPPORTED
    ("GET", "/nowhere", WILL),                        # INVALID_URL_PATTERN
]

def test_same_answers(emailshare_app, emailshare_server):
    for method, path, headers in REQUESTS:
        a = emailshare_app.client.request(method, path, headers=headers)
        b = emailshare_server.client.request(method, path, headers=headers)
        assert a.status_code == b.status_code, path
        assert a.headers["content-type"] == b.headers["content-type"]
        assert a.content == b.content, path
    seed = emailshare_app.client.get(SEED_PATH, headers=WILL)
    assert (seed.status_code, seed.content) == (200, SEED_ANSWER)

def test_either(emailshare_any):
    will = emailshare_any.token("412463000001213019")
    r = emailshare_any.client.get(SEED_PATH, headers=auth(will))
    assert r.content == SEED_ANSWER
""",
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_either?inprocess? PASSED*", "*test_either?server? PASSED*"])


def test_async_app_in_the_test_event_loop(pytester: pytest.Pytester) -> None:
    sample(
        pytester,
        f"""
{ASYNC_HEAD}
async def test_async(emailshare_async_app):
    es = emailshare_async_app
    carl = await es.token(CARL)
    r = await es.client.post(SHARE, headers=auth(carl))
    assert r.status_code == 200, r.text
    r = await es.client.get(DETAILS, headers=auth(await es.token(RITA)))
    assert r.json()["__emails_sharing_details"][0]["share_from_users"][0]["id"] == CARL
    await es.reset()
    r = await es.client.get(DETAILS, headers=auth(carl))
    assert r.json()["code"] == "INVALID_TOKEN"
""",
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)


def test_mistakes_are_reported_clearly(pytester: pytest.Pytester) -> None:
    bad = small()
    bad["orgs"][0]["users"][0]["mailbx"] = {"protocol": "imap"}
    sample(
        pytester,
        f"""
@pytest.mark.emailshare(fixture={bad!r})
def test_bad_document(emailshare_app):
    pass

@pytest.mark.emailshare(fixture="missing.json")
def test_missing_file(emailshare_app):
    pass

@pytest.mark.emailshare(fixtures={{}})
def test_marker_typo(emailshare_app):
    pass

@pytest.mark.emailshare(settings={{"no_such_setting": 1}})
def test_settings_typo(emailshare_app):
    pass

@pytest.mark.emailshare(fixture={small()!r}, settings={{"admin_key": "k"}})
def test_shared_server_takes_no_settings(emailshare_shared_server):
    pass

@pytest.mark.emailshare(fixture={small()!r})
def test_failure_shows_the_server_log(emailshare_shared_server):
    assert sharers(emailshare_shared_server) == ["somebody"]

def test_stopping_the_shared_server(emailshare_shared_server):
    emailshare_shared_server.stop()

def test_after_the_shared_server_stopped(emailshare_shared_server):
    pass
""",
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(errors=6, failed=1, passed=1)
    out = result.stdout.str()
    for message in (
        "emailshare fixture document: $.orgs[0].users[0].mailbx: unknown key",
        "emailshare fixture document: missing.json: cannot read",
        "@pytest.mark.emailshare takes fixture= and settings= only, got ['fixtures']",
        "@pytest.mark.emailshare(settings=...): unknown Settings fields ['no_such_setting']",
        "emailshare_shared_server cannot take settings per test; use emailshare_server",
        "emailshare server log (http://127.0.0.1:",
        "Listening at: http://127.0.0.1:",
        "the shared emailshare server exited (code 0):",
    ):
        assert message in out
    assert "plugin.py" not in out  # setup mistakes are reported without a traceback


def test_store_option_erases_between_tests(pytester: pytest.Pytester) -> None:
    store = pytester.path / "given.db"
    url = f"sqlite:///{store}"
    sample(
        pytester,
        f"""
@pytest.mark.emailshare(fixture={small()!r})
def test_a(emailshare_app):
    assert emailshare_app.db_url == {url!r}
    emailshare_app.client.post(SHARE, headers=auth(emailshare_app.token(CARL)))
    assert sharers(emailshare_app) == ["Carl Custom"]

@pytest.mark.emailshare(fixture={small()!r})
def test_b(emailshare_app):
    assert sharers(emailshare_app) == []

def test_c(emailshare_app):
    with pytest.raises(ValueError, match="no user"):
        emailshare_app.token(RITA)
""",
    )
    result = pytester.runpytest(*QUIET, f"--emailshare-db={url}")
    result.assert_outcomes(passed=3)
    assert store.exists()


@pytest.mark.skipif(
    not os.environ.get("EMAILSHARE_TEST_PG"), reason="EMAILSHARE_TEST_PG names no PostgreSQL"
)
def test_store_option_with_postgresql(pytester: pytest.Pytester) -> None:
    from tests.pgutil import fresh_database

    url = fresh_database(os.environ["EMAILSHARE_TEST_PG"])
    sample(
        pytester,
        f"""
pytestmark = pytest.mark.emailshare(fixture={small()!r})

@pytest.fixture(params=["emailshare_app", "emailshare_server"])
def es(request):
    return request.getfixturevalue(request.param)

def test_a(es):
    assert es.db_url.startswith("postgresql://")
    es.client.post(SHARE, headers=auth(es.token(CARL)))
    assert sharers(es) == ["Carl Custom"]

def test_b(es):
    assert sharers(es) == []
""",
    )
    pytester.runpytest(*QUIET, f"--emailshare-db={url}").assert_outcomes(passed=4)


def test_entry_point_loads_the_plugin_in_a_fresh_interpreter(pytester: pytest.Pytester) -> None:
    sample(
        pytester,
        f"""
@pytest.mark.emailshare(fixture={small("Subprocess")!r})
def test_it(emailshare_app):
    assert org_name(emailshare_app) == "Subprocess"
""",
    )
    # Only the plugins needed: the suite's others take seconds to import in a new interpreter.
    result = pytester.runpytest_subprocess(
        *QUIET, "--strict-markers", "-p", "no:hypothesispytest", "-p", "no:schemathesis"
    )
    result.assert_outcomes(passed=1)


def test_requests_show_what_the_client_sent_in_every_fixture(pytester: pytest.Pytester) -> None:
    sample(
        pytester,
        f"""
import datetime

@pytest.fixture(params=["emailshare_server", "emailshare_shared_server", "emailshare_app"])
def es(request):
    return request.getfixturevalue(request.param)

@pytest.mark.emailshare(fixture={small()!r})
def test_a_what_was_sent(es):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    token = es.token(RITA)
    r = es.client.get(DETAILS, headers={{**auth(token), "X-Request-Id": "p-1"}})
    assert r.status_code == 200
    es.client.post(SHARE, headers={{**auth(es.token(CARL)), "X-Request-Id": "p-2"}})
    es.client.get("/crm/v8/nowhere", headers={{"X-Request-Id": "p-3"}})
    entries = es.requests()
    assert [e.id for e in entries] == ["p-1", "p-2", "p-3"]
    first = entries[0]
    assert (first.method, first.path, first.status) == ("GET", DETAILS, 200)
    assert (first.user_id, first.org_id) == (RITA, "1")
    assert first.header("Authorization") == "Zoho-oauthtoken [redacted]"
    assert token not in repr(entries)
    assert first.json() == r.json()
    assert first.time >= before
    assert [e.id for e in es.requests(method="POST")] == ["p-2"]
    assert [e.id for e in es.requests(status="4xx")] == ["p-3"]
    assert [e.id for e in es.requests(status=200, caller=RITA)] == ["p-1"]
    assert [e.id for e in es.requests(caller=int(CARL))] == ["p-2"]
    assert [e.id for e in es.requests(path="/crm/v8/Leads/")] == ["p-1", "p-2"]
    assert [e.id for e in es.requests(path_contains="nowhere")] == ["p-3"]
    assert [e.id for e in es.requests(since="p-1")] == ["p-2", "p-3"]
    assert [e.id for e in es.requests(since=before, limit=1)] == ["p-3"]
    es.clear_requests()
    assert es.requests() == []

@pytest.mark.emailshare(fixture={small()!r})
def test_b_the_journal_starts_empty(es):
    assert es.requests() == []
""",
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=6)


def test_async_app_requests(pytester: pytest.Pytester) -> None:
    sample(
        pytester,
        f"""
{ASYNC_HEAD}
async def test_async(emailshare_async_app):
    es = emailshare_async_app
    await es.client.get(DETAILS, headers={{**auth(await es.token(RITA)), "X-Request-Id": "a-1"}})
    [entry] = await es.requests(caller=RITA)
    assert (entry.id, entry.status) == ("a-1", 200)
    await es.clear_requests()
    assert await es.requests() == []
""",
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)
