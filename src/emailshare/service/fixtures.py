"""Parse and validate fixture documents (docs/contract.md §10) into domain values.

Validation is complete before anything touches the store, so a bad document changes nothing.
Every error names the place: ``orgs[0].users[2].mailbox.protocol: ...``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml

from emailshare.domain.errors import FixtureError
from emailshare.domain.model import (
    Client,
    DataSharing,
    EmailSharing,
    FixedToken,
    Mailbox,
    Org,
    Profile,
    Protocol,
    Record,
    Role,
    Status,
    User,
)
from emailshare.domain.modules import ModuleLookup

MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
TOKEN_SHAPE = re.compile(r"1000\.[0-9a-f]{32}\.[0-9a-f]{32}")
_CUSTOM_MODULE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,49}")

E = TypeVar("E", bound=StrEnum)


def parse_id(text: str) -> int | None:
    """A Zoho id: 1 to 19 ASCII digits, a positive signed 64-bit value; else None."""
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


class _Node:
    """A JSON value with the path that reached it, for precise error messages."""

    __slots__ = ("path", "value")

    def __init__(self, value: object, path: str) -> None:
        self.value = value
        self.path = path

    def fail(self, what: str) -> FixtureError:
        return FixtureError(f"{self.path}: {what}")

    def obj(self, allowed: set[str], required: set[str] = frozenset()) -> dict[str, _Node]:  # type: ignore[assignment]
        if not isinstance(self.value, Mapping):
            raise self.fail("expected an object")
        out: dict[str, _Node] = {}
        for key, val in self.value.items():
            if not isinstance(key, str) or key not in allowed:
                raise _Node(val, f"{self.path}.{key}").fail("unknown key")
            out[key] = _Node(val, f"{self.path}.{key}")
        for key in sorted(required - out.keys()):
            raise _Node(None, f"{self.path}.{key}").fail("missing required key")
        return out

    def items(self) -> list[_Node]:
        if not isinstance(self.value, list):
            raise self.fail("expected a list")
        return [_Node(v, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    def str(self, max_len: int = 255, allow_empty: bool = False) -> str:
        if not isinstance(self.value, str):
            raise self.fail("expected a string")
        if not allow_empty and not self.value.strip():
            raise self.fail("must not be empty")
        if len(self.value) > max_len:
            raise self.fail(f"longer than {max_len} characters")
        if "\x00" in self.value:
            raise self.fail("contains a NUL character")
        try:
            self.value.encode("utf-8")
        except UnicodeEncodeError:
            raise self.fail("is not valid Unicode text") from None
        return self.value

    def id(self) -> int:
        value = parse_id(self.value) if isinstance(self.value, str) else None
        if value is None:
            raise self.fail(f"{self.value!r} is not an id (a string of 1 to 19 digits, positive)")
        return value

    def bool(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail("expected true or false")
        return self.value

    def int(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail("expected an integer")
        if abs(self.value) > 10**10:
            raise self.fail("out of range")
        return self.value

    def enum(self, kind: type[E]) -> E:
        try:
            if not isinstance(self.value, str):
                raise ValueError(self.value)
            return kind(self.value)
        except ValueError:
            choices = " | ".join(m.value for m in kind)
            raise self.fail(f"{self.value!r} is not one of {choices}") from None


def _opt(fields: dict[str, _Node], key: str, read: Callable[[_Node], Any], default: Any) -> Any:
    node = fields.get(key)
    if node is None or node.value is None:
        return default
    return read(node)


def read_document(path: str | Path) -> object:
    """Read a JSON or YAML file (YAML is a superset of JSON; ``.json`` uses the JSON parser)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{p}: cannot read: {exc}") from None
    return parse_text(text, json_only=p.suffix.lower() == ".json")


def parse_text(text: str, json_only: bool = False) -> object:
    """Parse fixture text; JSON first, then YAML unless ``json_only``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise FixtureError("the document is nested too deeply") from None
    except json.JSONDecodeError as exc:
        if json_only:
            raise FixtureError(f"not valid JSON: {exc}") from None
    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise FixtureError("the document is nested too deeply") from None
    except yaml.YAMLError as exc:
        raise FixtureError(f"neither valid JSON nor valid YAML: {exc}") from None


def parse_fixture(doc: object) -> list[Org]:
    """Validate a whole fixture document; raise :class:`FixtureError` naming the first problem."""
    root = _Node(doc, "$").obj({"orgs"}, {"orgs"})
    orgs = [_org(node) for node in root["orgs"].items()]
    _unique([(o.id, f"$.orgs[{i}].id") for i, o in enumerate(orgs)], "org id")
    tokens = [(t.access_token, f"$.orgs[{i}].tokens") for i, o in enumerate(orgs) for t in o.tokens]
    _unique(tokens, "access token")
    clients = [(c.client_id, f"$.orgs[{i}].clients") for i, o in enumerate(orgs) for c in o.clients]
    _unique(clients, "client_id")
    return orgs


def _unique(items: list[tuple[Any, str]], what: str) -> None:
    seen: set[Any] = set()
    for value, path in items:
        if value in seen:
            shown = "(hidden)" if what == "access token" else repr(str(value))
            raise FixtureError(f"{path}: duplicate {what} {shown}")
        seen.add(value)


_ORG_KEYS = {
    "id",
    "name",
    "data_sharing",
    "custom_modules",
    "roles",
    "users",
    "records",
    "clients",
    "tokens",
}


def _org(node: _Node) -> Org:
    f = node.obj(_ORG_KEYS, {"id", "name"})
    org_id = f["id"].id()
    custom = _custom_modules(f.get("custom_modules"))
    modules = {m.casefold(): m for m in custom}
    modules.update({name.casefold(): name for name in _standard_names()})

    def module_name(n: _Node) -> str:
        name = modules.get(n.str(60).casefold())
        if name is None:
            raise n.fail(f"{n.value!r} is not a supported module nor a custom module of this org")
        return name

    sharing: dict[str, DataSharing] = {}
    if "data_sharing" in f and f["data_sharing"].value is not None:
        ds = f["data_sharing"]
        if not isinstance(ds.value, Mapping):
            raise ds.fail("expected an object")
        for key, val in ds.value.items():
            key_node = _Node(key, f"{ds.path}.{key}")
            sharing[module_name(key_node)] = _Node(val, key_node.path).enum(DataSharing)

    roles = tuple(_role(n) for n in _list(f, "roles"))
    users = tuple(_user(n) for n in _list(f, "users"))
    records = tuple(_record(n, module_name) for n in _list(f, "records"))
    clients = tuple(_client(n) for n in _list(f, "clients"))
    tokens = tuple(_token(n) for n in _list(f, "tokens"))
    org = Org(org_id, f["name"].str(), sharing, custom, roles, users, records, clients, tokens)
    _check_references(org, node.path)
    return org


def _standard_names() -> list[str]:
    from emailshare.domain.modules import SUPPORTED

    return list(SUPPORTED)


def _list(fields: dict[str, _Node], key: str) -> list[_Node]:
    node = fields.get(key)
    return [] if node is None or node.value is None else node.items()


def _custom_modules(node: _Node | None) -> tuple[str, ...]:
    if node is None or node.value is None:
        return ()
    names: list[str] = []
    for item in node.items():
        name = item.str(50)
        if not _CUSTOM_MODULE.fullmatch(name):
            raise item.fail(
                f"{name!r} is not a module api name (a letter, then letters, digits, _)"
            )
        if ModuleLookup.is_reserved(name):
            raise item.fail(f"{name!r} is a standard module's name")
        if name.casefold() in (n.casefold() for n in names):
            raise item.fail(f"duplicate custom module {name!r}")
        names.append(name)
    return tuple(names)


def _role(node: _Node) -> Role:
    f = node.obj({"id", "name", "reports_to"}, {"id", "name"})
    return Role(f["id"].id(), f["name"].str(), _opt(f, "reports_to", _Node.id, None))


def _mailbox(node: _Node) -> Mailbox:
    f = node.obj({"protocol", "address", "enabled"}, {"protocol"})
    address = _opt(f, "address", lambda n: n.str(320), "")
    return Mailbox(f["protocol"].enum(Protocol), address, _opt(f, "enabled", _Node.bool, True))


def _user(node: _Node) -> User:
    keys = {"id", "name", "email", "status", "profile", "role", "mailbox", "email_sharing"}
    f = node.obj(keys, {"id", "name"})
    return User(
        id=f["id"].id(),
        name=f["name"].str(250),
        email=_opt(f, "email", lambda n: n.str(320), ""),
        status=_opt(f, "status", lambda n: n.enum(Status), Status.ACTIVE),
        profile=_opt(f, "profile", lambda n: n.enum(Profile), Profile.STANDARD),
        role=_opt(f, "role", _Node.id, None),
        mailbox=_opt(f, "mailbox", _mailbox, None),
        email_sharing=_opt(
            f, "email_sharing", lambda n: n.enum(EmailSharing), EmailSharing.PRIVATE
        ),
    )


def _id_set(fields: dict[str, _Node], key: str) -> frozenset[int]:
    ids: list[int] = []
    for n in _list(fields, key):
        value = n.id()
        if value in ids:
            raise n.fail(f"duplicate id {n.value!r}")
        ids.append(value)
    return frozenset(ids)


def _record(node: _Node, module_name: Callable[[_Node], str]) -> Record:
    keys = {"module", "id", "name", "owner", "shared_with", "emails_shared_by", "deleted"}
    f = node.obj(keys, {"module", "id", "owner"})
    return Record(
        module=module_name(f["module"]),
        id=f["id"].id(),
        name=_opt(f, "name", lambda n: n.str(250, allow_empty=True), ""),
        owner=f["owner"].id(),
        shared_with=_id_set(f, "shared_with"),
        emails_shared_by=_id_set(f, "emails_shared_by"),
        deleted=_opt(f, "deleted", _Node.bool, False),
    )


def _client(node: _Node) -> Client:
    f = node.obj({"client_id", "client_secret", "redirect_uri"}, {"client_id", "client_secret"})
    return Client(
        f["client_id"].str(100),
        f["client_secret"].str(200),
        _opt(f, "redirect_uri", lambda n: n.str(2000), None),
    )


def _token(node: _Node) -> FixedToken:
    f = node.obj(
        {"access_token", "user", "scopes", "expires_in"}, {"access_token", "user", "scopes"}
    )
    token = f["access_token"].str(100)
    if not TOKEN_SHAPE.fullmatch(token):
        raise f["access_token"].fail("not a Zoho access token (1000.<32 hex>.<32 hex>, lower case)")
    scopes = tuple(n.str(200) for n in f["scopes"].items())
    if not scopes:
        raise f["scopes"].fail("must name at least one scope")
    return FixedToken(token, f["user"].id(), scopes, _opt(f, "expires_in", _Node.int, 3600))


def _check_references(org: Org, path: str) -> None:
    """Every id an org refers to is defined in that org, once; roles form a tree."""
    role_ids = _defined([r.id for r in org.roles], f"{path}.roles", "role")
    user_ids = _defined([u.id for u in org.users], f"{path}.users", "user")
    _defined([r.id for r in org.records], f"{path}.records", "record")
    for i, role in enumerate(org.roles):
        if role.reports_to is not None and role.reports_to not in role_ids:
            raise FixtureError(f"{path}.roles[{i}].reports_to: undefined role {role.reports_to}")
    for i, role in enumerate(org.roles):
        seen = {role.id}
        parent = role.reports_to
        parents = {r.id: r.reports_to for r in org.roles}
        while parent is not None:
            if parent in seen:
                raise FixtureError(f"{path}.roles[{i}].reports_to: role hierarchy has a cycle")
            seen.add(parent)
            parent = parents.get(parent)
    for i, user in enumerate(org.users):
        if user.role is not None and user.role not in role_ids:
            raise FixtureError(f"{path}.users[{i}].role: undefined role {user.role}")
    for i, rec in enumerate(org.records):
        where = f"{path}.records[{i}]"
        if rec.owner not in user_ids:
            raise FixtureError(f"{where}.owner: undefined user {rec.owner}")
        for key, ids in (
            ("shared_with", rec.shared_with),
            ("emails_shared_by", rec.emails_shared_by),
        ):
            for uid in sorted(ids):
                if uid not in user_ids:
                    raise FixtureError(f"{where}.{key}: undefined user {uid}")
    for i, tok in enumerate(org.tokens):
        if tok.user not in user_ids:
            raise FixtureError(f"{path}.tokens[{i}].user: undefined user {tok.user}")


def _defined(ids: list[int], path: str, what: str) -> set[int]:
    seen: set[int] = set()
    for i, value in enumerate(ids):
        if value in seen:
            raise FixtureError(f"{path}[{i}].id: duplicate {what} id {value}")
        seen.add(value)
    return seen
