"""Zoho's OpenAPI file for the emails of a record (``email_related_records.json``), made usable
against our server: "Get Emails of a Record" and "View Email" (docs/contract.md §12).

Found as the sharing-details file is (:func:`tests.conformance.zoho_oas.locate`: the folder of
``$EMAILSHARE_ZOHO_OAS_DIR``, else ``../shared/zoho-oas``; the tests skip with a one-line reason
when neither exists). Read as Zoho ships it and changed in memory only:

1. mechanical fixes: the remote ``$ref`` into ``common.json`` (``UnsupportedVersionError``) is
   inlined from the local copy, with the local references inside it; the remote ``$ref`` into
   ``users.json`` (``Minified_User``, a file Zoho's folder does not hold here) is replaced by a
   stand-in that accepts any object, so that no key of it is decided by the fix (the
   tightening entry :data:`OWNER` then says what an owner is); the ``/crm/v8/...`` path items
   are copied to ``/crm/v7/...``; ``servers`` points at the server under test.
2. :data:`PATCHES`: the places where Zoho's file is wrong, each an :class:`Edit` naming its
   JSON pointer, what Zoho's file says there and why we change it. Relaxations (``extend`` a
   list, ``drop`` values from a list, make a schema ``nullable``, make a parameter optional)
   are each proven necessary by ``test_zoho_openapi_emails.py``: the file without that one
   entry rejects a contract-correct answer (or request). Tightenings (``add``) add keywords and
   response codes Zoho leaves out, so that the checks check something.

Every entry checks its precondition (:class:`~tests.conformance.zoho_oas.PatchError` when Zoho's
file has changed). docs/zoho-openapi-notes.md lists each entry with its evidence.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tests.conformance.zoho_oas import (
    AUTHENTICATION_FAILED,
    COMMON_FILE,
    NO_DETAILS,
    VERSIONS,
    ZOHO_REMOTE_PREFIX,
    PatchError,
    error_body,
    error_response,
    read_oas,
    resolve_pointer,
)

SPEC_FILE = "email_related_records.json"
REQUIRED_FILES = (SPEC_FILE, COMMON_FILE)
LIST_PATH = "/crm/v8/{module_name}/{record_id}/Emails"
ONE_PATH = "/crm/v8/{module_name}/{record_id}/Emails/{message_id}"
_LIST_OP = "/paths/~1crm~1v8~1{module_name}~1{record_id}~1Emails/get"
_ONE_OP = "/paths/~1crm~1v8~1{module_name}~1{record_id}~1Emails~1{message_id}/get"
# The one remote file the folder does not hold; what replaces it accepts any object.
USERS_MINIFIED = ZOHO_REMOTE_PREFIX + "users.json#/components/schemas/Minified_User"
STAND_IN: dict[str, Any] = {"type": "object"}

Action = Literal["extend", "drop", "nullable", "optional", "add"]
RELAXING: frozenset[str] = frozenset({"extend", "drop", "nullable", "optional"})


def path_for(path: str, version: str) -> str:
    """A path template of Zoho's file for another API version."""
    return path.replace("/v8/", f"/{version}/")


@dataclass(frozen=True, eq=False)
class Edit:
    """One documented edit of ``email_related_records.json``.

    * ``extend``: append each of ``value`` (a list) to the list at ``pointer`` (an ``enum`` or a
      ``oneOf``); none may be there yet.
    * ``drop``: remove each of ``value`` (a list) from the list at ``pointer`` (a ``required``);
      each must be there.
    * ``nullable``: let the schema at ``pointer`` be ``null`` too (a ``$ref`` is wrapped in
      ``allOf``, since OpenAPI 3.0 ignores keys beside a ``$ref``); it must not be yet.
    * ``optional``: the parameter at ``pointer`` stops being ``required``; it must be now.
    * ``add``: add the keys of ``value`` (a dict) to the object at ``pointer``; none may exist.
    """

    pointer: str
    action: Action
    value: Any
    zoho_says: str
    why: str

    @property
    def kind(self) -> Literal["relax", "tighten"]:
        return "relax" if self.action in RELAXING else "tighten"

    @property
    def label(self) -> str:
        shown = sorted(self.value) if isinstance(self.value, dict) else self.value
        return f"{self.action} {self.pointer} {shown!r}" if shown is not None else self.pointer

    def apply(self, doc: dict[str, Any]) -> None:
        """Apply the edit in place, after checking Zoho's file is as described."""
        parent_pointer, _, key = self.pointer.rpartition("/")
        try:
            target = resolve_pointer(doc, self.pointer)
            parent = resolve_pointer(doc, parent_pointer)
        except (KeyError, IndexError, ValueError) as exc:
            raise PatchError(f"{self.label}: not in Zoho's file") from exc
        if self.action == "extend":
            if not isinstance(target, list) or any(v in target for v in self.value):
                raise PatchError(f"{self.label}: not a list, or Zoho's file already has it")
            target.extend(copy.deepcopy(self.value))
        elif self.action == "drop":
            if not isinstance(target, list) or any(v not in target for v in self.value):
                raise PatchError(f"{self.label}: Zoho's file no longer has it; drop this entry")
            target[:] = [v for v in target if v not in self.value]
        elif self.action == "nullable":
            if not isinstance(target, dict) or target.get("nullable"):
                raise PatchError(f"{self.label}: already nullable in Zoho's file")
            if "$ref" in target:
                parent[key] = {"allOf": [target], "nullable": True}
            else:
                target["nullable"] = True
        elif self.action == "optional":
            if not isinstance(target, dict) or target.get("required") is not True:
                raise PatchError(f"{self.label}: the parameter is not required in Zoho's file")
            target["required"] = False
        else:
            if not isinstance(target, dict) or set(self.value) & set(target):
                raise PatchError(f"{self.label}: Zoho's file already defines some of it")
            target.update(copy.deepcopy(self.value))


# --- the edits ----------------------------------------------------------------------------------

_S = "/components/schemas"
_EMAIL = f"{_S}/email"
_PARAMS = "/components/parameters"
_ERRORS = "/components/responses/ErrorResponse/content/application~1json/schema/oneOf"
_DIGITS = {"pattern": "^[0-9]+$"}
# ISO 8601 with an offset, to the second (docs/contract.md §12.4).
_TIME = {"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$"}
# The keys of Zoho's `email.required` that the one-email answer of §12.5 does not have.
ONE_EMAIL_LACKS = (
    "cc",
    "summary",
    "owner",
    "read",
    "sent",
    "message_id",
    "source",
    "linked_record",
    "time",
    "has_attachment",
    "has_thread_attachment",
)


_COLLEAGUE = (
    "Your colleague has not provided viewing permissions for the email messages related to "
    "this record."
)
_BAD_METHOD = "The http request method type is not a valid one"
_NOT_IN_MAILBOX = "Do not have any email with this message id in user configured email account"
_PERMISSIONS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["permissions"],
    "properties": {"permissions": {"enum": [["Crm_Implied_View_Emails"]]}},
}


def _other_responses(with_message: bool) -> dict[str, Any]:
    forbidden = [
        error_body("NO_PERMISSION", "permission denied", _PERMISSIONS),
        error_body("NO_PERMISSION", _COLLEAGUE, NO_DETAILS),
    ]
    if with_message:
        forbidden.append(error_body("NO_PERMISSION", _NOT_IN_MAILBOX, NO_DETAILS))
    return {
        "401": AUTHENTICATION_FAILED,
        "403": error_response("Permission denied (docs/contract.md §§5, 12.3, 12.5)", *forbidden),
        "404": error_response(
            "Unknown URL (docs/contract.md §§7, 12.1)",
            error_body(
                "INVALID_URL_PATTERN",
                "Please check if the URL trying to access is a correct one",
                NO_DETAILS,
            ),
        ),
    }


OWNER = Edit(
    f"{_EMAIL}/properties/owner",
    "add",
    {
        "required": ["name", "id"],
        "additionalProperties": False,
        "properties": {"name": {"type": "string"}, "id": {"type": "string", **_DIGITS}},
    },
    "a $ref to users.json#/components/schemas/Minified_User, a file not in Zoho's folder here "
    "(the mechanical fix puts an any-object stand-in there)",
    "docs/contract.md §12.4: owner is {name, id}, the id a digit string (the SDKs' MinifiedUser "
    "reads name, id as Long, email).",
)

PATCHES: tuple[Edit, ...] = (
    # --- relaxations: each removes a rejection of a contract-correct answer or request --------
    Edit(
        f"{_PARAMS}/owner_id",
        "optional",
        None,
        "owner_id is required: true (both operations)",
        "docs/contract.md §12.2: owner_id is optional (the list uses it only with "
        "type=user_emails); the SDKs send it only when given, and Zoho's doc samples have none.",
    ),
    Edit(
        f"{_EMAIL}/required",
        "drop",
        ["activity_info"],
        "activity_info is required",
        "docs/contract.md §12.4: the 19 keys of Zoho's list sample, without activity_info "
        "(neither the doc page's samples nor the SDKs' fixtures have it).",
    ),
    Edit(
        f"{_EMAIL}/required",
        "drop",
        list(ONE_EMAIL_LACKS),
        "one schema, email, for a list item and for the one-email answer, requiring keys only "
        "a list item has",
        "docs/contract.md §12.5: the one-email answer has 14 keys (the View Email sample) and "
        "none of these.",
    ),
    Edit(
        f"{_S}/wrapper/required",
        "drop",
        ["info"],
        "info is required, and the same wrapper is the 200 of the one-email operation",
        "docs/contract.md §12.5: the one-email answer has no info.",
    ),
    Edit(
        f"{_EMAIL}/properties/cc",
        "nullable",
        None,
        "cc is an array, not nullable",
        'docs/contract.md §12.4: "cc": null when there are no cc recipients (Zoho\'s sample).',
    ),
    Edit(
        f"{_EMAIL}/properties/linked_record",
        "nullable",
        None,
        "linked_record is a $ref to an object, not nullable",
        'docs/contract.md §12.4: "linked_record": null when no Deal is linked (Zoho\'s sample).',
    ),
    Edit(
        f"{_EMAIL}/properties/attachments",
        "nullable",
        None,
        "attachments is an array, not nullable",
        "docs/contract.md §12.5: attachments is null when there are none.",
    ),
    Edit(
        f"{_EMAIL}/properties/thread_id",
        "nullable",
        None,
        "thread_id is a string, not nullable",
        "docs/contract.md §12.5 gives thread_id as a digit string and is silent on an email "
        "without a thread (a fixture email without thread_id, a message without References); "
        "emailshare answers null there (docs/emails.md). Doubtful: reported in "
        "docs/zoho-openapi-notes.md.",
    ),
    Edit(
        f"{_S}/status/required",
        "drop",
        ["bounced_time", "bounced_reason"],
        "every status entry requires bounced_time and bounced_reason",
        'docs/contract.md §12.4: a status entry is {"type": ...}; only bounced entries carry '
        'more (Zoho\'s samples: [{"type":"sent"}]).',
    ),
    Edit(
        f"{_S}/InvalidUrlError/properties/code/enum",
        "extend",
        ["NOT_SUPPORTED"],
        "400 codes INVALID_DATA, INVALID_MODULE",
        "docs/contract.md §§2, 12.1: a Zoho module this API does not serve is 400 NOT_SUPPORTED "
        '{"resource_path_index":0}.',
    ),
    Edit(
        _ERRORS,
        "extend",
        [
            error_body(
                "INVALID_REQUEST_METHOD",
                "The http request method type is not a valid one",
                NO_DETAILS,
            )
        ],
        "the 400 oneOf has no body with empty details",
        "docs/contract.md §§3, 7: another method on the path is 400 INVALID_REQUEST_METHOD {}.",
    ),
    # --- tightenings: what Zoho's file leaves open ------------------------------------------
    OWNER,
    Edit(
        f"{_S}/wrapper/properties/Emails",
        "add",
        {"minItems": 1},
        "any number of emails",
        "docs/contract.md §12.1: nothing to list is 204 with no body, so a 200 holds one or more.",
    ),
    Edit(
        f"{_S}/info",
        "add",
        {"additionalProperties": False},
        "other keys allowed",
        "docs/contract.md §12.4: info has exactly these five keys.",
    ),
    Edit(
        f"{_S}/info/properties/per_page",
        "add",
        {"enum": [10]},
        "any integer",
        "docs/contract.md §12.4: 10 to a page.",
    ),
    Edit(
        f"{_S}/info/properties/next_index",
        "add",
        {"pattern": "^[0-9a-f]+$"},
        "any string",
        "docs/contract.md §12.4: an opaque lowercase-hex token, or null.",
    ),
    Edit(
        f"{_EMAIL}/properties/time",
        "add",
        _TIME,
        "format date-time only",
        "docs/contract.md §12.4: ISO 8601 with an offset, to the second (the Python SDKs drop "
        "the whole answer on any other).",
    ),
    Edit(
        f"{_EMAIL}/properties/sent_time",
        "add",
        _TIME,
        "any string",
        "docs/contract.md §12.5, the View Email sample.",
    ),
    Edit(
        f"{_EMAIL}/properties/thread_id",
        "add",
        _DIGITS,
        "any string",
        "docs/contract.md §12.5: thread_id is a digit string.",
    ),
    Edit(
        f"{_EMAIL}/properties/mail_format",
        "add",
        {"enum": ["html", "text"]},
        "any string",
        "docs/contract.md §12.5.",
    ),
    Edit(
        f"{_S}/attachments",
        "add",
        {"required": ["size", "name", "id"], "additionalProperties": False},
        "no required keys",
        "docs/contract.md §12.5: {size, name, id}.",
    ),
    Edit(
        f"{_S}/attachments/properties/size",
        "add",
        _DIGITS,
        "any string",
        "docs/contract.md §12.5: size is a digit string.",
    ),
    Edit(
        f"{_S}/linked_record/properties/id",
        "add",
        _DIGITS,
        "any string",
        "docs/contract.md §12.4: ids are digit strings.",
    ),
    Edit(
        f"{_S}/module/properties/id",
        "add",
        _DIGITS,
        "any string",
        "docs/contract.md §12.4: ids are digit strings.",
    ),
    Edit(
        f"{_LIST_OP}/responses",
        "add",
        _other_responses(False),
        "only 200, 204, 400 and 500 are documented; schemathesis leaves any other status unchecked",
        "docs/contract.md §§4, 5, 7, 12.3: 401, 403 (record, colleague), 404.",
    ),
    Edit(
        f"{_ONE_OP}/responses",
        "add",
        _other_responses(True),
        "only 200, 204, 400 and 500 are documented",
        "docs/contract.md §§4, 5, 7, 12.5: 401, 403 (record, colleague, not in the mailbox), 404.",
    ),
)


# --- building the document ------------------------------------------------------------------


def _inline(node: Any, file_doc: dict[str, Any], directory: Path | None) -> Any:
    """``node`` with every ``$ref`` it holds replaced by its target, resolved in ``file_doc``
    (local ``#...``) or in the named local copy of another Zoho file (remote)."""
    if isinstance(node, list):
        return [_inline(item, file_doc, directory) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return {k: _inline(v, file_doc, directory) for k, v in node.items()}
    if len(node) != 1:
        raise PatchError(f"$ref {ref!r} has sibling keys")
    if ref.startswith("#"):
        return _inline(copy.deepcopy(resolve_pointer(file_doc, ref[1:])), file_doc, directory)
    if not ref.startswith(ZOHO_REMOTE_PREFIX) or "#" not in ref:
        raise PatchError(f"unexpected $ref {ref!r}")
    name, pointer = ref[len(ZOHO_REMOTE_PREFIX) :].split("#", 1)
    other = read_oas(name, directory)
    return _inline(copy.deepcopy(resolve_pointer(other, pointer)), other, directory)


def mechanical_fixes(doc: dict[str, Any], directory: Path | None = None) -> list[str]:
    """Inline the remote references (the ``users.json`` one by :data:`STAND_IN`); returns the
    references replaced. Local references stay local."""
    replaced: list[str] = []

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            replaced.append(ref)
            if ref == USERS_MINIFIED:
                return copy.deepcopy(STAND_IN)
            return _inline(node, doc, directory)
        return {k: walk(v) for k, v in node.items()}

    doc.update(walk(doc))
    return replaced


def build_document(
    base_url: str, patches: Iterable[Edit] = PATCHES, *, directory: Path | None = None
) -> dict[str, Any]:
    """Zoho's ``email_related_records.json``, usable here, with ``patches`` applied (``()``:
    the file as Zoho wrote it, with the mechanical fixes only)."""
    doc = read_oas(SPEC_FILE, directory)
    mechanical_fixes(doc, directory)
    for patch in patches:
        patch.apply(doc)
    paths: dict[str, Any] = doc["paths"]
    if set(paths) != {LIST_PATH, ONE_PATH}:
        raise PatchError(f"Zoho's file now has paths {sorted(paths)}")
    for version in VERSIONS:
        for path in (LIST_PATH, ONE_PATH):
            paths.setdefault(path_for(path, version), copy.deepcopy(paths[path]))
    doc["servers"] = [{"url": base_url, "description": "the emailshare server under test"}]
    return doc


def relax_patches(patches: Sequence[Edit] = PATCHES) -> list[Edit]:
    """The entries that let through more than Zoho's file does (each must be proven needed)."""
    return [p for p in patches if p.kind == "relax"]


if __name__ == "__main__":
    print(json.dumps(build_document("http://127.0.0.1:8000"), indent=1))
