"""``emailshare load`` (docs/contract.md §10): exit codes, messages, and all-or-nothing loading.

Each test loads into its own SQLite file through the real command line, then looks at the
result the way a client would: through a live server on that file.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.builders import ACME_CLIENT
from tests.conftest import Served, open_client, serve

ACME = Path(__file__).parent.parent / "data" / "acme.json"

WILL_T = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
GINA_T = "1000.0000000000000000000000000000b001.00000000000000000000000000000b01"
ZYLKER = "3652397000001790004"
GLOBEX_LEAD = "5124630000001790001"

# docs/contract.md §1: Will on Zylker.
SEED_ANSWER = (
    b'{"__emails_sharing_details":[{"available_types":["emails_sent_from_crm",'
    b'"all_contacts_emails","all_imap_shared_users","all_emails"],"share_from_users":['
    b'{"id":"412463000001213019","name":"Will Grandon","_type":"pop"},'
    b'{"id":"412463000000867017","name":"boyle","_type":"imap"}]}]}'
)
# The same, once boyle is renamed "Boyle Renamed" (the "modified Acme" below).
RENAMED_ANSWER = SEED_ANSWER.replace(b'"name":"boyle"', b'"name":"Boyle Renamed"')
# Gina alone on her Globex lead: imap, Leads does not gather contacts.
GINA_ANSWER = (
    b'{"__emails_sharing_details":[{"available_types":["emails_sent_from_crm",'
    b'"all_imap_shared_users","all_emails"],"share_from_users":['
    b'{"id":"512463000000000101","name":"Gina Globex","_type":"imap"}]}]}'
)
INVALID_TOKEN = (
    b'{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}'
)

INITECH = "612463000000000001"
INITECH_USER = "612463000000000101"
INITECH_T = "1000.0000000000000000000000000000c001.00000000000000000000000000000c01"


def acme() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(ACME.read_text())
    return doc


def modified_acme() -> dict[str, Any]:
    """Acme, valid, with boyle renamed: a change the seed answer would show."""
    org: dict[str, Any] = copy.deepcopy(acme()["orgs"][0])
    boyle = next(u for u in org["users"] if u["name"] == "boyle")
    boyle["name"] = "Boyle Renamed"
    return org


def modified_globex() -> dict[str, Any]:
    """Globex, valid, with Gina's mailbox now pop: a change her answer would show."""
    org: dict[str, Any] = copy.deepcopy(acme()["orgs"][1])
    org["users"][0]["mailbox"]["protocol"] = "pop"
    return org


def initech(**extra: Any) -> dict[str, Any]:
    return {
        "id": INITECH,
        "name": "Initech",
        "users": [
            {
                "id": INITECH_USER,
                "name": "Ivy Initech",
                "mailbox": {"protocol": "imap"},
                "profile": "administrator",
            }
        ],
        "records": [{"module": "Leads", "id": "6124630000001790001", "owner": INITECH_USER}],
        "tokens": [
            {"access_token": INITECH_T, "user": INITECH_USER, "scopes": ["ZohoCRM.modules.ALL"]}
        ],
        **extra,
    }


def load(db: Path, fixture: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emailshare", "load", "--db", f"sqlite:///{db}", str(fixture)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def loaded(db: Path) -> Path:
    """A store holding tests/data/acme.json, loaded by the command line."""
    result = load(db, ACME)
    assert result.returncode == 0, result.stderr
    return db


class Live:
    """A server on a store file, and the requests these tests make to it."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def details(self, token: str, module: str, record: str) -> httpx.Response:
        return self.client.get(
            f"/crm/v8/{module}/{record}/__emails_sharing_details",
            headers={"Authorization": f"Zoho-oauthtoken {token}"},
        )

    def will_on_zylker(self) -> bytes:
        return self.details(WILL_T, "Accounts", ZYLKER).content

    def gina_on_her_lead(self) -> bytes:
        return self.details(GINA_T, "Leads", GLOBEX_LEAD).content


StartLive = Callable[[], Live]


@pytest.fixture
def live(request: pytest.FixtureRequest, db: Path) -> Iterator[StartLive]:
    """``live()`` starts a server on ``db`` (after the test's loads) and stops it at the end."""
    started: list[tuple[Served, httpx.Client]] = []

    def start() -> Live:
        srv = serve(request, db.parent, db_url=f"sqlite:///{db}")
        client = open_client(srv, timeout=10.0)
        started.append((srv, client))
        return Live(client)

    yield start
    for srv, client in started:
        client.close()
        srv.stop()


# --- valid loads ---------------------------------------------------------------------------


def test_loading_a_valid_fixture_exits_0_and_serves_it(db: Path, live: StartLive) -> None:
    result = load(db, ACME)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "2 orgs" in result.stdout
    server = live()
    assert server.will_on_zylker() == SEED_ANSWER
    assert server.gina_on_her_lead() == GINA_ANSWER


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_loading_a_yaml_fixture_works(
    db: Path, tmp_path: Path, live: StartLive, suffix: str
) -> None:
    fixture = tmp_path / f"acme{suffix}"
    fixture.write_text("# Acme, as YAML\n" + yaml.safe_dump(acme(), allow_unicode=True))
    result = load(db, fixture)
    assert result.returncode == 0, result.stderr
    assert live().will_on_zylker() == SEED_ANSWER


def test_reloading_replaces_an_org_wholly(loaded: Path, tmp_path: Path, live: StartLive) -> None:
    """The control for the all-or-nothing tests: a valid change does show."""
    result = load(loaded, write(tmp_path / "new.json", {"orgs": [modified_acme()]}))
    assert result.returncode == 0, result.stderr
    server = live()
    assert server.will_on_zylker() == RENAMED_ANSWER
    assert server.gina_on_her_lead() == GINA_ANSWER  # an org not in the document stays


def test_loading_the_same_file_twice_is_idempotent(loaded: Path, live: StartLive) -> None:
    result = load(loaded, ACME)
    assert result.returncode == 0, result.stderr
    assert live().will_on_zylker() == SEED_ANSWER


# --- invalid documents ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "named"),
    [
        pytest.param({"orgs": [], "extra": 1}, "$.extra", id="unknown-root-key"),
        pytest.param(
            {"orgs": [{**initech(), "colour": "red"}]}, "$.orgs[0].colour", id="unknown-org-key"
        ),
        pytest.param(
            {"orgs": [initech(records=[{"module": "Leads", "id": "1", "owner": "999"}])]},
            "999",
            id="undefined-owner",
        ),
        pytest.param({"orgs": [initech(id="abc")]}, "$.orgs[0].id", id="bad-id"),
        pytest.param(
            {"orgs": [initech(data_sharing={"Leads": "open"})]},
            "$.orgs[0].data_sharing.Leads",
            id="bad-enum",
        ),
    ],
)
def test_an_invalid_fixture_exits_2_naming_the_bad_key_or_id(
    db: Path, tmp_path: Path, doc: object, named: str
) -> None:
    result = load(db, write(tmp_path / "bad.json", doc))
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_json_exits_2(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("orgs: []\n")
    result = load(db, bad)
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr


def test_a_missing_file_exits_2_naming_it(db: Path, tmp_path: Path) -> None:
    result = load(db, tmp_path / "absent.json")
    assert result.returncode == 2
    assert "absent.json" in result.stderr


# --- nothing half loaded --------------------------------------------------------------------


def test_a_document_failing_validation_changes_nothing(
    loaded: Path, tmp_path: Path, live: StartLive
) -> None:
    """First org: a valid, modified Acme. Second: an org with an unknown key."""
    doc = {"orgs": [modified_acme(), {**initech(), "colour": "red"}]}
    result = load(loaded, write(tmp_path / "half.json", doc))
    assert result.returncode == 2
    assert "$.orgs[1].colour" in result.stderr
    server = live()
    assert server.will_on_zylker() == SEED_ANSWER
    assert server.details(INITECH_T, "Leads", "6124630000001790001").content == INVALID_TOKEN


def test_a_failure_inside_the_store_transaction_changes_nothing_token(
    loaded: Path, tmp_path: Path, live: StartLive
) -> None:
    """Acme is replaced first; then Initech claims Globex's access token, held in the store."""
    claimed = initech()
    claimed["tokens"].append(
        {"access_token": GINA_T, "user": INITECH_USER, "scopes": ["ZohoCRM.modules.ALL"]}
    )
    result = load(loaded, write(tmp_path / "claim.json", {"orgs": [modified_acme(), claimed]}))
    assert result.returncode == 2
    assert "tokens[1].access_token" in result.stderr
    assert GINA_T not in result.stderr
    server = live()
    assert server.will_on_zylker() == SEED_ANSWER
    assert server.gina_on_her_lead() == GINA_ANSWER
    assert server.details(INITECH_T, "Leads", "6124630000001790001").content == INVALID_TOKEN


def test_a_failure_inside_the_store_transaction_changes_nothing_client(
    loaded: Path, tmp_path: Path, live: StartLive
) -> None:
    """Globex is replaced first; then Initech claims Acme's client id, held in the store."""
    claimed = initech(clients=[{"client_id": ACME_CLIENT, "client_secret": "stolen"}])
    doc = {"orgs": [modified_globex(), claimed]}
    result = load(loaded, write(tmp_path / "claim.json", doc))
    assert result.returncode == 2
    assert "clients[0].client_id" in result.stderr
    server = live()
    assert server.gina_on_her_lead() == GINA_ANSWER
    assert server.will_on_zylker() == SEED_ANSWER
    assert server.details(INITECH_T, "Leads", "6124630000001790001").content == INVALID_TOKEN


def test_the_claim_checks_control_a_new_org_without_claims_loads(
    loaded: Path, tmp_path: Path, live: StartLive
) -> None:
    """The same two-org documents load once nothing is claimed: the refusals above are the
    claims', not something else about those documents."""
    doc = {"orgs": [modified_globex(), initech()]}
    result = load(loaded, write(tmp_path / "ok.json", doc))
    assert result.returncode == 0, result.stderr
    server = live()
    assert server.gina_on_her_lead() == GINA_ANSWER.replace(b'"_type":"imap"', b'"_type":"pop"')
    assert server.details(INITECH_T, "Leads", "6124630000001790001").status_code == 200
