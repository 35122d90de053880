"""Fixture documents (docs/contract.md §10): parsing, defaults, and every kind of refusal."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from emailshare.domain.errors import FixtureError
from emailshare.domain.model import (
    DataSharing,
    EmailSharing,
    Mailbox,
    Profile,
    Protocol,
    Role,
    Status,
)
from emailshare.service.fixtures import parse_fixture, parse_id, parse_text, read_document

ACME = Path(__file__).parent.parent / "data" / "acme.json"

ORG = "412463000000000001"
WILL = "412463000001213019"
ROLE = "412463000000100002"
TOKEN = "1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef"


def contract_example() -> dict[str, Any]:
    """The fixture of docs/contract.md §10 (with a complete token)."""
    return {
        "orgs": [
            {
                "id": ORG,
                "name": "Acme",
                "data_sharing": {"Leads": "private", "Accounts": "public_read_only"},
                "custom_modules": ["Projects"],
                "roles": [
                    {"id": "412463000000100001", "name": "CEO", "reports_to": None},
                    {"id": ROLE, "name": "Sales", "reports_to": "412463000000100001"},
                ],
                "users": [
                    {
                        "id": WILL,
                        "name": "Will Grandon",
                        "email": "will@acme.test",
                        "status": "active",
                        "profile": "standard",
                        "role": ROLE,
                        "mailbox": {
                            "protocol": "pop",
                            "address": "will@acme.test",
                            "enabled": True,
                        },
                        "email_sharing": "public",
                    }
                ],
                "records": [
                    {
                        "module": "Accounts",
                        "id": "3652397000001790004",
                        "name": "Zylker",
                        "owner": WILL,
                        "shared_with": [],
                        "emails_shared_by": [],
                    }
                ],
                "clients": [
                    {
                        "client_id": "1000.ABC",
                        "client_secret": "s3cret",
                        "redirect_uri": "http://localhost/cb",
                    }
                ],
                "tokens": [
                    {
                        "access_token": TOKEN,
                        "user": WILL,
                        "scopes": ["ZohoCRM.modules.ALL"],
                        "expires_in": 3600,
                    }
                ],
            }
        ]
    }


def minimal() -> dict[str, Any]:
    """An org with one user and nothing optional given."""
    return {
        "orgs": [
            {
                "id": ORG,
                "name": "Min",
                "users": [{"id": WILL, "name": "Will"}],
                "records": [{"module": "Leads", "id": "1", "owner": WILL}],
                "tokens": [
                    {"access_token": TOKEN, "user": WILL, "scopes": ["ZohoCRM.modules.ALL"]}
                ],
            }
        ]
    }


def refused(doc: object) -> str:
    with pytest.raises(FixtureError) as info:
        parse_fixture(doc)
    return str(info.value)


def edited(
    edit: Callable[[dict[str, Any]], object], base: Callable[[], dict[str, Any]] = contract_example
) -> dict[str, Any]:
    doc = copy.deepcopy(base())
    edit(doc)
    return doc


def org0(doc: dict[str, Any]) -> dict[str, Any]:
    org: dict[str, Any] = doc["orgs"][0]
    return org


# --- valid documents ---------------------------------------------------------------------------


def test_the_contracts_example_parses_to_the_values_it_states() -> None:
    [org] = parse_fixture(contract_example())
    assert (org.id, org.name) == (int(ORG), "Acme")
    assert org.data_sharing == {
        "Leads": DataSharing.PRIVATE,
        "Accounts": DataSharing.PUBLIC_READ_ONLY,
    }
    assert org.custom_modules == ("Projects",)
    assert org.roles == (
        Role(412463000000100001, "CEO", None),
        Role(int(ROLE), "Sales", 412463000000100001),
    )
    [user] = org.users
    assert (user.id, user.name, user.email, user.status, user.profile, user.role) == (
        int(WILL),
        "Will Grandon",
        "will@acme.test",
        Status.ACTIVE,
        Profile.STANDARD,
        int(ROLE),
    )
    assert user.mailbox == Mailbox(Protocol.POP, "will@acme.test", True)
    assert user.email_sharing is EmailSharing.PUBLIC
    [record] = org.records
    assert (record.module, record.id, record.name, record.owner) == (
        "Accounts",
        3652397000001790004,
        "Zylker",
        int(WILL),
    )
    [client] = org.clients
    assert (client.client_id, client.client_secret, client.redirect_uri) == (
        "1000.ABC",
        "s3cret",
        "http://localhost/cb",
    )
    [token] = org.tokens
    assert (token.access_token, token.user, token.scopes, token.expires_in) == (
        TOKEN,
        int(WILL),
        ("ZohoCRM.modules.ALL",),
        3600,
    )


def test_defaults_of_section_10() -> None:
    [org] = parse_fixture(minimal())
    [user] = org.users
    assert user.status is Status.ACTIVE
    assert user.profile is Profile.STANDARD
    assert user.role is None
    assert user.mailbox is None
    assert user.email_sharing is EmailSharing.PRIVATE
    [record] = org.records
    assert record.shared_with == frozenset()
    assert record.emails_shared_by == frozenset()
    assert org.tokens[0].expires_in == 3600
    assert org.sharing_of("Leads") is DataSharing.PRIVATE
    assert org.data_sharing == {}
    assert org.custom_modules == ()
    assert org.roles == ()
    assert org.clients == ()


def test_mailbox_enabled_defaults_to_true() -> None:
    doc = edited(lambda d: org0(d)["users"][0].update(mailbox={"protocol": "imap"}), minimal)
    assert parse_fixture(doc)[0].users[0].mailbox == Mailbox(Protocol.IMAP, "", True)


def test_explicit_nulls_take_the_defaults() -> None:
    def edit(d: dict[str, Any]) -> None:
        org0(d)["users"][0].update(
            status=None, profile=None, role=None, mailbox=None, email_sharing=None
        )

    [user] = parse_fixture(edited(edit, minimal))[0].users
    assert (user.status, user.profile, user.role, user.mailbox, user.email_sharing) == (
        Status.ACTIVE,
        Profile.STANDARD,
        None,
        None,
        EmailSharing.PRIVATE,
    )


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("accounts", "Accounts"),
        ("SALES_ORDERS", "Sales_Orders"),
        ("projects", "Projects"),
    ],
)
def test_record_modules_match_case_insensitively(given: str, canonical: str) -> None:
    doc = edited(lambda d: org0(d)["records"][0].update(module=given))
    assert parse_fixture(doc)[0].records[0].module == canonical


def test_data_sharing_module_names_match_case_insensitively() -> None:
    doc = edited(lambda d: org0(d).update(data_sharing={"deals": "public", "PROJECTS": "public"}))
    assert parse_fixture(doc)[0].data_sharing == {
        "Deals": DataSharing.PUBLIC,
        "Projects": DataSharing.PUBLIC,
    }


def test_the_shared_acme_fixture_parses() -> None:
    orgs = parse_fixture(json.loads(ACME.read_text()))
    assert [o.name for o in orgs] == ["Acme", "Globex"]
    assert [len(o.users) for o in orgs] == [9, 1]
    assert [len(o.records) for o in orgs] == [7, 1]
    assert [len(o.tokens) for o in orgs] == [11, 1]


def test_parse_text_reads_json() -> None:
    text = json.dumps(contract_example())
    assert parse_fixture(parse_text(text)) == parse_fixture(contract_example())


def test_parse_text_reads_yaml() -> None:
    text = yaml.safe_dump(contract_example(), allow_unicode=True)
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert parse_fixture(parse_text(text)) == parse_fixture(contract_example())


def test_parse_text_reads_yaml_with_comments() -> None:
    text = f"""
# a comment
orgs:
  - id: "{ORG}"   # ids are strings
    name: Yaml Org
    users:
      - {{id: "{WILL}", name: "Will", mailbox: {{protocol: api}}}}
"""
    [org] = parse_fixture(parse_text(text))
    assert org.name == "Yaml Org"
    assert org.users[0].mailbox == Mailbox(Protocol.API, "", True)


def test_yaml_ids_must_still_be_strings() -> None:
    text = f"orgs:\n  - id: {ORG}\n    name: Unquoted\n"
    assert "$.orgs[0].id" in refused(parse_text(text))


def test_parse_text_json_only_refuses_yaml() -> None:
    with pytest.raises(FixtureError, match="not valid JSON"):
        parse_text("orgs: []\n", json_only=True)


def test_parse_text_refuses_what_is_neither_json_nor_yaml() -> None:
    with pytest.raises(FixtureError, match="neither valid JSON nor valid YAML"):
        parse_text("orgs: [\n  - {unclosed")


def test_read_document_by_suffix(tmp_path: Path) -> None:
    yaml_file = tmp_path / "fixture.yaml"
    yaml_file.write_text(yaml.safe_dump(minimal()))
    assert parse_fixture(read_document(yaml_file)) == parse_fixture(minimal())
    json_named_yaml = tmp_path / "fixture.json"
    json_named_yaml.write_text(yaml.safe_dump(minimal()))
    with pytest.raises(FixtureError, match="not valid JSON"):
        read_document(json_named_yaml)


def test_read_document_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="cannot read"):
        read_document(tmp_path / "absent.json")


# --- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("9223372036854775807", 2**63 - 1),
        ("0000000000000000001", 1),
        ("3652397000001790004", 3652397000001790004),
    ],
)
def test_parse_id_accepts(text: str, value: int) -> None:
    assert parse_id(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "-1",
        "+1",
        "abc",
        "1.0",
        " 1",
        "1 ",
        "12345678901234567890",
        "9223372036854775808",
        "\u0663",
        "\uff11",
        "0x1",  # ARABIC-INDIC THREE, FULLWIDTH ONE
    ],
)
def test_parse_id_refuses(text: str) -> None:
    assert parse_id(text) is None


BAD_IDS: list[object] = [
    "abc",
    "0",
    "-1",
    "12345678901234567890",
    "9223372036854775808",
    12,
    None,
    "",
]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda d: org0(d), "$.orgs[0].id"),
        (lambda d: org0(d)["roles"][0], "$.orgs[0].roles[0].id"),
        (lambda d: org0(d)["users"][0], "$.orgs[0].users[0].id"),
        (lambda d: org0(d)["records"][0], "$.orgs[0].records[0].id"),
    ],
    ids=["org", "role", "user", "record"],
)
def test_bad_ids_are_refused_naming_the_place(
    where: Callable[[dict[str, Any]], dict[str, Any]], path: str, bad: object
) -> None:
    doc = edited(lambda d: where(d).update(id=bad))
    assert refused(doc).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: org0(d)["records"][0].update(owner="x"), "$.orgs[0].records[0].owner"),
        (lambda d: org0(d)["users"][0].update(role="0"), "$.orgs[0].users[0].role"),
        (lambda d: org0(d)["roles"][1].update(reports_to="-5"), "$.orgs[0].roles[1].reports_to"),
        (
            lambda d: org0(d)["records"][0].update(shared_with=[WILL, "abc"]),
            "$.orgs[0].records[0].shared_with[1]",
        ),
        (
            lambda d: org0(d)["records"][0].update(emails_shared_by=[12]),
            "$.orgs[0].records[0].emails_shared_by[0]",
        ),
        (lambda d: org0(d)["tokens"][0].update(user="u1"), "$.orgs[0].tokens[0].user"),
    ],
)
def test_bad_reference_ids_are_refused_naming_the_place(
    edit: Callable[[dict[str, Any]], None], path: str
) -> None:
    assert refused(edited(edit)).startswith(f"{path}: ")


# --- unknown and missing keys, at every level ------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d.update(extra=1), "$.extra"),
        (lambda d: org0(d).update(colour="red"), "$.orgs[0].colour"),
        (lambda d: org0(d)["roles"][0].update(level=1), "$.orgs[0].roles[0].level"),
        (lambda d: org0(d)["users"][0].update(nickname="W"), "$.orgs[0].users[0].nickname"),
        (
            lambda d: org0(d)["users"][0]["mailbox"].update(port=995),
            "$.orgs[0].users[0].mailbox.port",
        ),
        (lambda d: org0(d)["records"][0].update(stage="won"), "$.orgs[0].records[0].stage"),
        (lambda d: org0(d)["clients"][0].update(scope="x"), "$.orgs[0].clients[0].scope"),
        (
            lambda d: org0(d)["tokens"][0].update(refresh_token="x"),
            "$.orgs[0].tokens[0].refresh_token",
        ),
        (lambda d: org0(d)["users"][0].update(Name="W"), "$.orgs[0].users[0].Name"),
    ],
)
def test_unknown_keys_are_refused_naming_the_key_path(
    edit: Callable[[dict[str, Any]], None], path: str
) -> None:
    assert refused(edited(edit)) == f"{path}: unknown key"


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d.pop("orgs"), "$.orgs"),
        (lambda d: org0(d).pop("id"), "$.orgs[0].id"),
        (lambda d: org0(d).pop("name"), "$.orgs[0].name"),
        (lambda d: org0(d)["roles"][0].pop("name"), "$.orgs[0].roles[0].name"),
        (lambda d: org0(d)["users"][0].pop("name"), "$.orgs[0].users[0].name"),
        (
            lambda d: org0(d)["users"][0]["mailbox"].pop("protocol"),
            "$.orgs[0].users[0].mailbox.protocol",
        ),
        (lambda d: org0(d)["records"][0].pop("owner"), "$.orgs[0].records[0].owner"),
        (lambda d: org0(d)["records"][0].pop("module"), "$.orgs[0].records[0].module"),
        (
            lambda d: org0(d)["clients"][0].pop("client_secret"),
            "$.orgs[0].clients[0].client_secret",
        ),
        (lambda d: org0(d)["tokens"][0].pop("scopes"), "$.orgs[0].tokens[0].scopes"),
    ],
)
def test_missing_required_keys_are_refused_naming_the_key(
    edit: Callable[[dict[str, Any]], None], path: str
) -> None:
    assert refused(edited(edit)) == f"{path}: missing required key"


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ([], "$"),
        ("orgs", "$"),
        (None, "$"),
        ({"orgs": {}}, "$.orgs"),
        ({"orgs": [[]]}, "$.orgs[0]"),
    ],
)
def test_wrong_shapes_are_refused_naming_the_place(doc: object, path: str) -> None:
    assert refused(doc).startswith(f"{path}: expected ")


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: org0(d).update(users={}), "$.orgs[0].users"),
        (lambda d: org0(d).update(data_sharing=["Leads"]), "$.orgs[0].data_sharing"),
        (lambda d: org0(d)["users"][0].update(name=7), "$.orgs[0].users[0].name"),
        (lambda d: org0(d)["users"][0].update(name="  "), "$.orgs[0].users[0].name"),
        (
            lambda d: org0(d)["users"][0]["mailbox"].update(enabled="yes"),
            "$.orgs[0].users[0].mailbox.enabled",
        ),
        (
            lambda d: org0(d)["tokens"][0].update(expires_in="3600"),
            "$.orgs[0].tokens[0].expires_in",
        ),
        (lambda d: org0(d)["tokens"][0].update(expires_in=True), "$.orgs[0].tokens[0].expires_in"),
        (lambda d: org0(d)["tokens"][0].update(scopes=[]), "$.orgs[0].tokens[0].scopes"),
        (
            lambda d: org0(d)["tokens"][0].update(scopes="ZohoCRM.modules.ALL"),
            "$.orgs[0].tokens[0].scopes",
        ),
    ],
)
def test_wrong_value_types_are_refused_naming_the_place(
    edit: Callable[[dict[str, Any]], None], path: str
) -> None:
    assert refused(edited(edit)).startswith(f"{path}: ")


# --- enums and modules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "path", "value"),
    [
        (lambda d: org0(d)["users"][0].update(status="gone"), "$.orgs[0].users[0].status", "gone"),
        (
            lambda d: org0(d)["users"][0].update(status="Active"),
            "$.orgs[0].users[0].status",
            "Active",
        ),
        (
            lambda d: org0(d)["users"][0].update(profile="root"),
            "$.orgs[0].users[0].profile",
            "root",
        ),
        (
            lambda d: org0(d)["users"][0]["mailbox"].update(protocol="smtp"),
            "$.orgs[0].users[0].mailbox.protocol",
            "smtp",
        ),
        (
            lambda d: org0(d)["users"][0].update(email_sharing="friends"),
            "$.orgs[0].users[0].email_sharing",
            "friends",
        ),
        (
            lambda d: org0(d).update(data_sharing={"Leads": "read_only"}),
            "$.orgs[0].data_sharing.Leads",
            "read_only",
        ),
        (lambda d: org0(d)["users"][0].update(status=1), "$.orgs[0].users[0].status", "1"),
    ],
)
def test_bad_enum_values_are_refused_naming_place_and_value(
    edit: Callable[[dict[str, Any]], None], path: str, value: str
) -> None:
    message = refused(edited(edit))
    assert message.startswith(f"{path}: ")
    assert value in message


@pytest.mark.parametrize(
    ("edit", "path", "name"),
    [
        (
            lambda d: org0(d)["records"][0].update(module="Tasks"),
            "$.orgs[0].records[0].module",
            "Tasks",
        ),
        (
            lambda d: org0(d)["records"][0].update(module="Widgets"),
            "$.orgs[0].records[0].module",
            "Widgets",
        ),
        (
            lambda d: org0(d).update(data_sharing={"Widgets": "public"}),
            "$.orgs[0].data_sharing.Widgets",
            "Widgets",
        ),
        (
            lambda d: org0(d).update(custom_modules=["Leads"]),
            "$.orgs[0].custom_modules[0]",
            "Leads",
        ),
        (
            lambda d: org0(d).update(custom_modules=["tasks"]),
            "$.orgs[0].custom_modules[0]",
            "tasks",
        ),
        (lambda d: org0(d).update(custom_modules=["1abc"]), "$.orgs[0].custom_modules[0]", "1abc"),
        (
            lambda d: org0(d).update(custom_modules=["My Module"]),
            "$.orgs[0].custom_modules[0]",
            "My Module",
        ),
        (
            lambda d: org0(d).update(custom_modules=["Projects", "PROJECTS"]),
            "$.orgs[0].custom_modules[1]",
            "PROJECTS",
        ),
    ],
)
def test_bad_modules_are_refused_naming_the_module(
    edit: Callable[[dict[str, Any]], None], path: str, name: str
) -> None:
    message = refused(edited(edit))
    assert message.startswith(f"{path}: ")
    assert name in message


def test_a_custom_module_of_another_org_is_not_a_module_here() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["orgs"].append(
            {
                "id": "512463000000000001",
                "name": "Globex",
                "users": [{"id": "5", "name": "G"}],
                "records": [{"module": "Projects", "id": "7", "owner": "5"}],
            }
        )

    assert refused(edited(edit)).startswith("$.orgs[1].records[0].module: ")


# --- references -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "path", "missing"),
    [
        (lambda d: org0(d)["records"][0].update(owner="999"), "$.orgs[0].records[0].owner", "999"),
        (lambda d: org0(d)["users"][0].update(role="998"), "$.orgs[0].users[0].role", "998"),
        (
            lambda d: org0(d)["roles"][0].update(reports_to="997"),
            "$.orgs[0].roles[0].reports_to",
            "997",
        ),
        (
            lambda d: org0(d)["records"][0].update(shared_with=[WILL, "996"]),
            "$.orgs[0].records[0].shared_with",
            "996",
        ),
        (
            lambda d: org0(d)["records"][0].update(emails_shared_by=["995"]),
            "$.orgs[0].records[0].emails_shared_by",
            "995",
        ),
        (lambda d: org0(d)["tokens"][0].update(user="994"), "$.orgs[0].tokens[0].user", "994"),
    ],
)
def test_undefined_references_are_refused_naming_the_id(
    edit: Callable[[dict[str, Any]], None], path: str, missing: str
) -> None:
    message = refused(edited(edit))
    assert message.startswith(f"{path}: undefined ")
    assert message.endswith(f" {missing}")


def test_references_resolve_only_within_their_own_org() -> None:
    """Globex's record may not be owned by Acme's Will."""

    def edit(d: dict[str, Any]) -> None:
        d["orgs"].append(
            {
                "id": "512463000000000001",
                "name": "Globex",
                "records": [{"module": "Leads", "id": "7", "owner": WILL}],
            }
        )

    message = refused(edited(edit))
    assert message.startswith("$.orgs[1].records[0].owner: undefined ")
    assert WILL in message


@pytest.mark.parametrize(
    "cycle",
    [
        pytest.param([("1", "2"), ("2", "1")], id="two-roles"),
        pytest.param([("1", "1")], id="self"),
        pytest.param(
            [("1", None), ("2", "3"), ("3", "4"), ("4", "2")], id="three-roles-below-a-root"
        ),
    ],
)
def test_role_cycles_are_refused(cycle: list[tuple[str, str | None]]) -> None:
    def edit(d: dict[str, Any]) -> None:
        org0(d)["roles"] = [{"id": rid, "name": f"r{rid}", "reports_to": up} for rid, up in cycle]
        org0(d)["users"][0]["role"] = cycle[0][0]

    message = refused(edited(edit))
    assert message.startswith("$.orgs[0].roles[")
    assert "cycle" in message


# --- duplicates -----------------------------------------------------------------------------


def _second_org(d: dict[str, Any]) -> dict[str, Any]:
    other = copy.deepcopy(org0(d))
    other["id"] = "512463000000000001"
    other["clients"][0]["client_id"] = "1000.OTHER"
    other["tokens"][0]["access_token"] = TOKEN.replace("0123", "4567", 1)
    d["orgs"].append(other)
    return other


def test_a_second_distinct_org_is_valid() -> None:
    assert len(parse_fixture(edited(_second_org))) == 2


@pytest.mark.parametrize(
    ("edit", "path", "shown"),
    [
        (lambda d: _second_org(d).update(id=ORG), "$.orgs[1].id", ORG),
        (
            lambda d: org0(d)["roles"].append({"id": ROLE, "name": "again"}),
            "$.orgs[0].roles[2].id",
            ROLE,
        ),
        (
            lambda d: org0(d)["users"].append({"id": WILL, "name": "again"}),
            "$.orgs[0].users[1].id",
            WILL,
        ),
        (
            lambda d: org0(d)["records"].append(
                {"module": "Leads", "id": "3652397000001790004", "owner": WILL}
            ),
            "$.orgs[0].records[1].id",
            "3652397000001790004",
        ),
        (
            lambda d: org0(d)["records"][0].update(shared_with=[WILL, WILL]),
            "$.orgs[0].records[0].shared_with[1]",
            WILL,
        ),
        (
            lambda d: org0(d)["records"][0].update(emails_shared_by=[WILL, WILL]),
            "$.orgs[0].records[0].emails_shared_by[1]",
            WILL,
        ),
        (
            lambda d: _second_org(d)["clients"][0].update(client_id="1000.ABC"),
            "$.orgs[1].clients",
            "1000.ABC",
        ),
        (
            lambda d: org0(d)["clients"].append({"client_id": "1000.ABC", "client_secret": "x"}),
            "$.orgs[0].clients",
            "1000.ABC",
        ),
    ],
)
def test_duplicates_are_refused_naming_the_value(
    edit: Callable[[dict[str, Any]], None], path: str, shown: str
) -> None:
    message = refused(edited(edit))
    assert message.startswith(f"{path}: duplicate ")
    assert shown in message


@pytest.mark.parametrize("same_org", [False, True], ids=["across-orgs", "within-an-org"])
def test_duplicate_tokens_are_refused_without_showing_the_token(same_org: bool) -> None:
    def edit(d: dict[str, Any]) -> None:
        if same_org:
            org0(d)["tokens"].append(dict(org0(d)["tokens"][0]))
        else:
            _second_org(d)["tokens"][0]["access_token"] = TOKEN

    message = refused(edited(edit))
    assert message.startswith(f"$.orgs[{0 if same_org else 1}].tokens: duplicate access token")
    assert TOKEN not in message


# --- token shape ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        TOKEN.upper(),
        TOKEN.replace("1000.", "1001."),
        TOKEN[:-1],
        TOKEN + "0",
        TOKEN.replace(".", "-"),
        "1000." + "g" * 32 + "." + "0" * 32,
        "abc",
        "",
    ],
)
def test_tokens_not_in_zohos_shape_are_refused(token: str) -> None:
    doc = edited(lambda d: org0(d)["tokens"][0].update(access_token=token))
    assert refused(doc).startswith("$.orgs[0].tokens[0].access_token: ")


def test_a_zoho_shaped_token_is_accepted() -> None:
    token = "1000." + "f" * 32 + "." + "a" * 32
    doc = edited(lambda d: org0(d)["tokens"][0].update(access_token=token))
    assert parse_fixture(doc)[0].tokens[0].access_token == token
