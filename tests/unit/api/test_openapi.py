"""The packaged OpenAPI document (``emailshare/api/openapi.yaml``, docs/openapi.md): valid
OpenAPI 3.1 by openapi-spec-validator, shipped in the wheel, and spelling the error catalogue's
codes and messages as ``domain/errors.py`` and the modules that raise them do.

The server is held to the document by ``tests/conformance/test_own_openapi.py`` (schemathesis);
these tests need no server and run in a second or two.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

import emailshare
from emailshare.api import openapi
from emailshare.domain import errors

PACKAGE = Path(emailshare.__file__).parent
PYPROJECT = Path(__file__).parents[3] / "pyproject.toml"

# Catalogue classes whose default message is never sent: every raise gives a message of its own.
DEFAULT_NOT_SENT = {
    "LimitExceeded": "each LIMIT_EXCEEDED names its limit (body, ids, URL, query, header)",
}


def spec_errors(doc: dict[str, Any]) -> list[str]:
    """openapi-spec-validator's findings on ``doc`` as an OpenAPI 3.1 document."""
    return [error.message for error in OpenAPIV31SpecValidator(doc).iter_errors()]


def test_packaged_document_is_valid_openapi_3_1() -> None:
    doc = openapi.document()
    assert doc["openapi"].startswith("3.1.")
    assert spec_errors(doc) == []


def _missing_description(doc: dict[str, Any]) -> None:
    del doc["components"]["responses"]["NotFound"]["description"]


def _unknown_parameter_place(doc: dict[str, Any]) -> None:
    doc["components"]["parameters"]["RecordId"]["in"] = "body"


def _schema_not_a_schema(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["Id"]["type"] = "digits"


@pytest.mark.parametrize(
    "spoil", [_missing_description, _unknown_parameter_place, _schema_not_a_schema]
)
def test_validator_finds_a_spoiled_document(spoil: Any) -> None:
    """The validator is not a rubber stamp: each of these breaks the document."""
    doc = openapi.document()
    spoil(doc)
    assert spec_errors(doc)


def test_wheel_carries_the_document() -> None:
    """pyproject's package-data names the file, and the package finds it as a resource."""
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert "api/openapi.yaml" in config["tool"]["setuptools"]["package-data"]["emailshare"]
    assert (PACKAGE / "api" / openapi.RESOURCE).is_file()


# --- the document and the error catalogue agree -------------------------------------------------


def catalogue() -> dict[str, type[errors.ZohoError]]:
    """Every error class of ``domain/errors.py``, by name."""
    return {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.ZohoError)
    }


def documented_errors() -> dict[str, tuple[str, str]]:
    """Each ``Error.*`` variant of the document: (code, message)."""
    schemas = openapi.document()["components"]["schemas"]
    return {
        name: (schema["properties"]["code"]["const"], schema["properties"]["message"]["const"])
        for name, schema in schemas.items()
        if name.startswith("Error.")
    }


def _string_constants(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def source_strings() -> set[str]:
    """Every string literal in the package's Python modules (where messages are raised)."""
    found: set[str] = set()
    for module in PACKAGE.rglob("*.py"):
        found |= set(_string_constants(ast.parse(module.read_text(encoding="utf-8"))))
    return found


def test_every_catalogue_message_is_documented() -> None:
    """A catalogue class's code and default message are an error variant of the document, so
    changing a message in ``domain/errors.py`` without the document fails here."""
    pairs = set(documented_errors().values())
    for name, cls in catalogue().items():
        if name in DEFAULT_NOT_SENT:
            assert (cls.code, cls.message) not in pairs, f"{name} is documented: drop the entry"
            assert any(code == cls.code for code, _ in pairs), name
            continue
        assert (cls.code, cls.message) in pairs, f"{name}: {cls.code} {cls.message!r}"


def test_every_documented_error_is_raised_by_the_code() -> None:
    """Every code the document spells is a catalogue code, and every message is a string the
    package holds (a default in the catalogue or the message a module raises), so changing a
    message where it is raised without the document fails here."""
    codes = {cls.code for cls in catalogue().values()}
    strings = source_strings()
    for name, (code, message) in documented_errors().items():
        assert code in codes, name
        assert message in strings, f"{name}: {message!r} is not in src/emailshare"
    schemas = openapi.document()["components"]["schemas"]
    for action in ("share", "unshare"):
        success = schemas[f"Entry.SUCCESS.{action}"]["properties"]["message"]["const"]
        assert success in strings, action
