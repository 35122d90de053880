"""emailshare's own OpenAPI 3.1 document, served at ``/openapi.json``.

:func:`document` builds it as plain Python data; nothing runs at import, and the JSON bytes are
built once, on the first request (:func:`serialised`). The codes, messages and details are
written here as ``docs/contract.md`` and ``docs/contract-decisions.md`` spell them, not imported
from
``domain.errors``, so that ``tests/conformance/test_own_openapi.py`` compares the server with an
independent statement of the contract. ``docs/openapi.md`` says what the document covers.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from emailshare import __version__
from emailshare.api import wire
from emailshare.domain.errors import InvalidRequestMethod

Schema = dict[str, Any]

OPENAPI_VERSION = "3.1.0"
JSON = wire.CONTENT_TYPE  # application/json;charset=UTF-8, on every answer but /metrics
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
REQUEST_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.:\\-]{0,63}$"
SECURITY = "zohoOAuthToken"
ADMIN_SECURITY = "adminKey"
ADMIN_HEADER = "X-Emailshare-Admin-Key"

ID_PATTERN = "^[0-9]{1,19}$"
TOKEN_PATTERN = "^1000\\.[0-9a-f]{32}\\.[0-9a-f]{32}$"
DETAILS_VERSIONS = ["v4", "v5", "v6", "v7", "v8"]
ALL_VERSIONS = ["v2", "v2.1", "v3", *DETAILS_VERSIONS]
SHARE_VERSIONS = ["v8"]
MAX_BODY = 64 * 1024
MAX_FIXTURE = 16 * 1024 * 1024
MAX_BULK_IDS = 200
AVAILABLE_TYPES = [
    "emails_sent_from_crm",
    "all_contacts_emails",
    "all_imap_shared_users",
    "all_emails",
]
OAUTH_ERRORS = [
    "invalid_code",
    "invalid_client",
    "invalid_client_secret",
    "invalid_redirect_uri",
    "unsupported_grant_type",
]

TAG_SHARING = "email sharing"
TAG_SDK = "users and org"
TAG_OAUTH = "oauth"
TAG_OPS = "operations"
TAG_ADMIN = "admin"


def ref(kind: str, name: str) -> Schema:
    """A local reference to ``#/components/{kind}/{name}``."""
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> Schema:
    return ref("schemas", name)


# --- error bodies (contract §7: exactly code, details, message, status) -------------------

# Each entry: component name -> (code, message, details schema).
EMPTY: Schema = {"type": "object", "maxProperties": 0}


def _exactly(**props: Schema) -> Schema:
    """An object with exactly these keys."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(props),
        "properties": props,
    }


RECORD_ID_ECHO: Schema = {"type": "string", "pattern": ID_PATTERN}
ERRORS: dict[str, tuple[str, str, Schema]] = {
    "INVALID_URL_PATTERN": (
        "INVALID_URL_PATTERN",
        "Please check if the URL trying to access is a correct one",
        EMPTY,
    ),
    "INVALID_REQUEST_METHOD": (
        "INVALID_REQUEST_METHOD",
        "The http request method type is not a valid one",
        EMPTY,
    ),
    "API_NOT_SUPPORTED.v4": (
        "API_NOT_SUPPORTED",
        "the api is not supported in this version",
        _exactly(supported_version={"const": 4}),
    ),
    "API_NOT_SUPPORTED.v8": (
        "API_NOT_SUPPORTED",
        "the api is not supported in this version",
        _exactly(supported_version={"const": 8}),
    ),
    "AUTHENTICATION_FAILURE": ("AUTHENTICATION_FAILURE", "Authentication failed", EMPTY),
    "INVALID_TOKEN": ("INVALID_TOKEN", "invalid oauth token", EMPTY),
    "OAUTH_SCOPE_MISMATCH": (
        "OAUTH_SCOPE_MISMATCH",
        "invalid oauth scope to access this URL",
        EMPTY,
    ),
    "INVALID_MODULE": (
        "INVALID_MODULE",
        "the module name given seems to be invalid",
        _exactly(resource_path_index={"const": 0}),
    ),
    "NOT_SUPPORTED": (
        "NOT_SUPPORTED",
        "the given module is not supported in api",
        _exactly(resource_path_index={"const": 0}),
    ),
    "INVALID_DATA.record_path": (
        "INVALID_DATA",
        "the related id given seems to be invalid",
        _exactly(resource_path_index={"const": 1}),
    ),
    "INVALID_DATA.users_type": (
        "INVALID_DATA",
        "invalid data",
        _exactly(param_name={"const": "type"}),
    ),
    "INVALID_DATA.body_not_json": ("INVALID_DATA", "the request body is not valid JSON", EMPTY),
    "INVALID_DATA.body_too_deep": ("INVALID_DATA", "the request body is nested too deeply", EMPTY),
    "INVALID_DATA.body_id": (
        "INVALID_DATA",
        "The id given seems to be invalid",
        _exactly(id={"type": "string"}),
    ),
    "INVALID_DATA.fixture": (
        "INVALID_DATA",
        "the fixture is invalid",
        _exactly(reason={"type": "string", "maxLength": 500}),
    ),
    "NO_PERMISSION": (
        "NO_PERMISSION",
        "permission denied",
        _exactly(permissions={"const": ["Crm_Implied_View_Emails"]}),
    ),
    "NOT_ALLOWED.no_mailbox": ("NOT_ALLOWED", "Email Configuration does not exist", EMPTY),
    "NOT_ALLOWED.not_custom": ("NOT_ALLOWED", "User did not enable custom sharing", EMPTY),
    "ALREADY_SHARED": (
        "ALREADY_SHARED",
        "Emails are already shared to the colleagues already",
        _exactly(id=RECORD_ID_ECHO),
    ),
    "NOT_SHARED": (
        "NOT_SHARED",
        "Emails are not  shared to the colleagues already",
        _exactly(id=RECORD_ID_ECHO),
    ),
    "DUPLICATE_DATA": ("DUPLICATE_DATA", "Duplicate Data", _exactly(id=RECORD_ID_ECHO)),
    "MANDATORY_NOT_FOUND.ids": (
        "MANDATORY_NOT_FOUND",
        "expected key is missing",
        _exactly(api_name={"const": "ids"}),
    ),
    "LIMIT_EXCEEDED.body": (
        "LIMIT_EXCEEDED",
        "the request body is too large",
        _exactly(max_bytes={"const": MAX_BODY}),
    ),
    "LIMIT_EXCEEDED.fixture": (
        "LIMIT_EXCEEDED",
        "the request body is too large",
        _exactly(max_bytes={"const": MAX_FIXTURE}),
    ),
    "LIMIT_EXCEEDED.ids": (
        "LIMIT_EXCEEDED",
        "the number of ids exceeds the limit",
        _exactly(api_name={"const": "ids"}, limit={"const": MAX_BULK_IDS}),
    ),
    "INVALID_DATA.body_unreadable": (
        "INVALID_DATA",
        "the request body could not be read",
        EMPTY,
    ),
    # Refused before routing, on every path (api.limits; docs/reliability.md).
    "LIMIT_EXCEEDED.url": (
        "LIMIT_EXCEEDED",
        "the request URL is too long",
        _exactly(max_bytes={"const": 2 * 1024}),
    ),
    "LIMIT_EXCEEDED.query": (
        "LIMIT_EXCEEDED",
        "the query string is too long",
        _exactly(max_bytes={"const": 4 * 1024}),
    ),
    "LIMIT_EXCEEDED.header": (
        "LIMIT_EXCEEDED",
        "a request header is too large",
        _exactly(max_bytes={"const": 8 * 1024}),
    ),
    "LIMIT_EXCEEDED.headers": (
        "LIMIT_EXCEEDED",
        "the request headers are too large",
        _exactly(max_bytes={"const": 32 * 1024}),
    ),
    "INVALID_DATA.query_not_text": (
        "INVALID_DATA",
        "the query string is not valid UTF-8 text",
        EMPTY,
    ),
    "TOO_MANY_REQUESTS": ("TOO_MANY_REQUESTS", "too many requests continuously", EMPTY),
    "INTERNAL_ERROR": ("INTERNAL_ERROR", "Internal Server Error", EMPTY),
}

# Every request may be refused before routing (api.limits), whatever its path: 400.
REFUSALS = (
    "LIMIT_EXCEEDED.url",
    "LIMIT_EXCEEDED.query",
    "LIMIT_EXCEEDED.header",
    "LIMIT_EXCEEDED.headers",
    "INVALID_DATA.query_not_text",
)


def error_schema_name(key: str) -> str:
    return f"Error.{key}"


def _error_schema(code: str, message: str, details: Schema) -> Schema:
    return _exactly(
        code={"type": "string", "const": code},
        details=details,
        message={"type": "string", "const": message},
        status={"type": "string", "const": "error"},
    )


def _any_error() -> Schema:
    codes = sorted({code for code, _, _ in ERRORS.values()})
    return {
        "description": "Every error body of the CRM API (contract §7): these four keys, always.",
        **_exactly(
            code={"type": "string", "enum": codes},
            details={"type": "object"},
            message={"type": "string"},
            status={"type": "string", "const": "error"},
        ),
    }


def errors_of(*keys: str) -> Schema:
    """One status' error bodies: the code enum of that status, then exactly one variant."""
    codes = list(dict.fromkeys(ERRORS[key][0] for key in keys))
    variants = [schema_ref(error_schema_name(key)) for key in keys]
    envelope = _exactly(
        code={"type": "string", "enum": codes},
        details={"type": "object"},
        message={"type": "string"},
        status={"type": "string", "const": "error"},
    )
    if len(variants) == 1:
        return {"allOf": [envelope, variants[0]]}
    return {"allOf": [envelope, {"oneOf": variants}]}


def json_response(description: str, schema: Schema, example: Any = None) -> Schema:
    content: Schema = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {JSON: content}}


def error_response(description: str, *keys: str) -> Schema:
    codes = ", ".join(dict.fromkeys(ERRORS[key][0] for key in keys))
    return json_response(f"{description} Codes: {codes}.", errors_of(*keys))


def bad_request(description: str, *keys: str) -> Schema:
    """A 400: the operation's own errors, then the refusals every request may meet."""
    return error_response(
        f"{description} Any request: a URL, query string or header over its limit, or a "
        "query string that is not UTF-8 text (docs/reliability.md).",
        *keys,
        *REFUSALS,
    )


# --- shared responses --------------------------------------------------------------------------

AUTH_401 = ("AUTHENTICATION_FAILURE", "INVALID_TOKEN", "OAUTH_SCOPE_MISMATCH")


def _shared_responses() -> dict[str, Schema]:
    return {
        "Unauthorized": error_response(
            "Contract §4: no `Authorization` header or another scheme than `Zoho-oauthtoken` "
            "(AUTHENTICATION_FAILURE); an unknown, malformed, expired or revoked token, or a "
            "token of a user who is not active (INVALID_TOKEN); a token without the operation's "
            "scopes (OAUTH_SCOPE_MISMATCH).",
            *AUTH_401,
        ),
        "NoPermission": error_response(
            "Contract §5: the caller may not read the record.", "NO_PERMISSION"
        ),
        "NotFound": error_response(
            "Contract §7: the path does not have the operation's shape (an unknown version in "
            "the path, a trailing slash, an extra segment). No redirects.",
            "INVALID_URL_PATTERN",
        ),
        "InvalidRequestMethod": error_response(
            "Contract §7: any method but the documented one on a path that exists (HEAD "
            "included). Not listed under each operation, since OpenAPI describes methods that "
            "are served.",
            "INVALID_REQUEST_METHOD",
        ),
        "TooManyRequests": {
            **error_response(
                "Zoho's API limits, when configured (`--credits-per-day`, `--max-concurrent`; "
                "docs/limits.md).",
                "TOO_MANY_REQUESTS",
            ),
            "headers": {
                "Retry-After": {
                    "description": "Seconds until a request may be admitted again.",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                },
                "X-API-CREDITS-REMAINING": ref("headers", "CreditsRemaining"),
            },
        },
        "InternalError": error_response(
            "Contract §7: anything unexpected inside the server, or the store unreachable. "
            "No trace, SQL or path in the answer.",
            "INTERNAL_ERROR",
        ),
    }


def _standard(*statuses: str) -> dict[str, Schema]:
    names = {
        "401": "Unauthorized",
        "403": "NoPermission",
        "404": "NotFound",
        "429": "TooManyRequests",
        "500": "InternalError",
    }
    return {status: ref("responses", names[status]) for status in statuses}


# --- parameters --------------------------------------------------------------------------------


def _path_param(name: str, schema: Schema, description: str, example: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
        "example": example,
    }


def _parameters() -> dict[str, Schema]:
    return {
        "DetailsVersion": _path_param(
            "version",
            {"type": "string", "enum": DETAILS_VERSIONS},
            "Contract §1: `v4` to `v8` serve the endpoint identically. `v2`, `v2.1`, `v3`: 400 "
            'API_NOT_SUPPORTED `{"supported_version":4}`; anything else: 404.',
            "v8",
        ),
        "ShareVersion": _path_param(
            "version",
            {"type": "string", "enum": SHARE_VERSIONS},
            "Contract §8: a v8 API. `v2` to `v7`: 400 API_NOT_SUPPORTED "
            '`{"supported_version":8}`; anything else: 404.',
            "v8",
        ),
        "AnyVersion": _path_param(
            "version",
            {"type": "string", "enum": ALL_VERSIONS},
            "Contract §11: the official SDKs call with their own version; `v2` to `v8`. "
            "Anything else: 404.",
            "v8",
        ),
        "Module": _path_param(
            "module",
            {"type": "string", "minLength": 1},
            "Contract §2: `Leads` `Accounts` `Contacts` `Deals` `Quotes` `Invoices` "
            "`Sales_Orders` `Purchase_Orders` or a custom module of the org, matched "
            "case-insensitively. An unsupported standard module (`Tasks`, `Events`, ...): 400 "
            "NOT_SUPPORTED; anything else: 400 INVALID_MODULE.",
            "Accounts",
        ),
        "ShareModule": _path_param(
            "module",
            {"type": "string", "minLength": 1},
            "Contract §8: `Leads`, `Contacts` or a custom module, case-insensitively. The other "
            "supported modules and the unsupported standard ones: 400 NOT_SUPPORTED; anything "
            "else: 400 INVALID_MODULE.",
            "Leads",
        ),
        "RecordId": _path_param(
            "record_id",
            {"type": "string", "pattern": ID_PATTERN},
            "Contract §5: 1 to 19 ASCII digits, a positive signed 64-bit value. Anything else, "
            "or no such record in that module of the caller's org: 400 INVALID_DATA "
            '`{"resource_path_index":1}`.',
            "3652397000001790004",
        ),
    }


def _version_param(name: str) -> Schema:
    return ref("parameters", name)


# --- success bodies ----------------------------------------------------------------------------


def _success_schemas() -> dict[str, Schema]:
    share_from_users: Schema = {
        "type": "array",
        "maxItems": 50,
        "uniqueItems": True,
        "description": "Contract §6: the caller first (when they have a mailbox), then by the "
        "case-folded name, then by id; at most 50.",
        "items": schema_ref("ShareFromUser"),
    }
    has_users: Schema = {"properties": {"share_from_users": {"minItems": 1}}}
    imap_type: Schema = {"contains": {"const": "all_imap_shared_users"}}
    return {
        "ShareFromUser": _exactly(
            id={"type": "string", "pattern": ID_PATTERN},
            name={"type": "string"},
            _type={"type": "string", "enum": ["imap", "pop", "api"]},
        ),
        "EmailSharingDetails": {
            **_exactly(
                available_types={
                    "description": "Contract §6, always in this order: `emails_sent_from_crm`; "
                    "`all_contacts_emails` for Accounts and Deals; `all_imap_shared_users` when "
                    "`share_from_users` is not empty; `all_emails`.",
                    "type": "array",
                    "items": {"type": "string", "enum": AVAILABLE_TYPES},
                    "enum": [
                        [AVAILABLE_TYPES[0], AVAILABLE_TYPES[3]],
                        [AVAILABLE_TYPES[0], AVAILABLE_TYPES[1], AVAILABLE_TYPES[3]],
                        [AVAILABLE_TYPES[0], AVAILABLE_TYPES[2], AVAILABLE_TYPES[3]],
                        AVAILABLE_TYPES,
                    ],
                },
                share_from_users=share_from_users,
            ),
            "if": has_users,
            "then": {"properties": {"available_types": imap_type}},
            "else": {"properties": {"available_types": {"not": imap_type}}},
        },
        "SharingDetails": _exactly(
            __emails_sharing_details={
                "type": "array",
                "description": "Contract §1: an array holding one object.",
                "minItems": 1,
                "maxItems": 1,
                "items": schema_ref("EmailSharingDetails"),
            }
        ),
        "Entry.SUCCESS.share": _entry_success("Successfully shared"),
        "Entry.SUCCESS.unshare": _entry_success("Sharing revoked successfully"),
        "ShareOne.share": _data(schema_ref("Entry.SUCCESS.share"), 1, 1),
        "ShareOne.unshare": _data(schema_ref("Entry.SUCCESS.unshare"), 1, 1),
        "ShareIds": _exactly(
            ids={
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BULK_IDS,
                "description": "Record ids, in the order the answer keeps. A JSON number is "
                "accepted as its digits; an id given twice answers DUPLICATE_DATA from its "
                "second place on.",
                "items": {
                    "anyOf": [
                        {"type": "string", "pattern": ID_PATTERN},
                        {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                    ]
                },
            }
        ),
        "User": _exactly(
            id={"type": "string", "pattern": ID_PATTERN},
            full_name={"type": "string"},
            first_name={"type": ["string", "null"]},
            last_name={"type": "string"},
            email={"type": "string"},
            status={"type": "string", "enum": ["active", "inactive", "deleted"]},
            role={
                "oneOf": [
                    {"type": "null"},
                    _exactly(
                        name={"type": "string"},
                        id={"type": "string", "pattern": ID_PATTERN},
                    ),
                ]
            },
            profile=_exactly(
                name={"type": "string", "enum": ["Administrator", "Standard"]},
                id={"type": "string", "pattern": "^[0-9]+$"},
            ),
            confirm={"const": True},
            zuid={"type": "string", "pattern": ID_PATTERN},
        ),
        "Users": _exactly(
            users={"type": "array", "maxItems": 200, "items": schema_ref("User")},
            info=_exactly(
                per_page={"const": 200},
                count={"type": "integer", "minimum": 0, "maximum": 200},
                page={"const": 1},
                more_records={"type": "boolean"},
            ),
        ),
        "Org": _exactly(
            org={
                "type": "array",
                "minItems": 1,
                "maxItems": 1,
                "items": _exactly(
                    id={"type": "string", "pattern": ID_PATTERN},
                    company_name={"type": "string"},
                    zgid={"type": "string", "pattern": ID_PATTERN},
                    primary_email={"type": ["string", "null"]},
                    domain_name={"type": "string"},
                    currency={"const": "US Dollar"},
                    iso_code={"const": "USD"},
                    time_zone={"const": "GMT"},
                    type={"const": "production"},
                ),
            }
        ),
        "TokenParameters": _token_parameters(),
        "Token.issued": {
            "description": "Contract §9: a grant code exchanged (with a refresh token).",
            **_token_answer(with_refresh=True),
        },
        "Token.refreshed": {
            "description": "Contract §9: a refresh token or client credentials exchanged.",
            **_token_answer(with_refresh=False),
        },
        "Token.error": {
            "description": "Contract §9 and docs/contract-decisions.md: errors are HTTP 200.",
            **_exactly(error={"type": "string", "enum": OAUTH_ERRORS}),
        },
        "RevokeParameters": _revoke_parameters(),
        "Success": _exactly(status={"const": "success"}),
        "Health": _exactly(status={"const": "ok"}),
        "Ready": _exactly(status={"const": "ready"}),
        "LoadSummary": _exactly(
            status={"const": "success"},
            orgs={"type": "integer", "minimum": 0},
            users={"type": "integer", "minimum": 0},
            records={"type": "integer", "minimum": 0},
            tokens={"type": "integer", "minimum": 0},
        ),
        "OpenAPIDocument": {
            "type": "object",
            "required": ["openapi", "info", "paths", "components"],
            "properties": {"openapi": {"const": OPENAPI_VERSION}},
        },
    }


def _entry_success(message: str) -> Schema:
    return _exactly(
        code={"const": "SUCCESS"},
        details=_exactly(id={"type": "string", "pattern": ID_PATTERN}),
        message={"const": message},
        status={"const": "success"},
    )


def _data(items: Schema, min_items: int, max_items: int, **extra: Any) -> Schema:
    array: Schema = {"type": "array", "minItems": min_items, "maxItems": max_items, "items": items}
    array.update(extra)
    return _exactly(data=array)


def _token_parameters() -> Schema:
    text: Schema = {"type": "string", "maxLength": 512}
    return {
        "type": "object",
        "description": "Zoho Accounts' parameters (contract §9), as query or form fields (a "
        "form field wins over the query parameter of the same name). At most 32 form fields.",
        "properties": {
            "grant_type": {
                "type": "string",
                "enum": ["authorization_code", "refresh_token", "client_credentials"],
            },
            "client_id": text,
            "client_secret": text,
            "redirect_uri": text,
            "code": text,
            "refresh_token": text,
            "scope": {
                "type": "string",
                "maxLength": 512,
                "description": "Scopes separated by commas (Zoho's form) or spaces.",
            },
            "soid": {"type": "string", "pattern": "^ZohoCRM\\.[0-9]{1,19}$"},
        },
        "maxProperties": 32,
    }


def _revoke_parameters() -> Schema:
    return {
        "type": "object",
        "description": "`token` as a query or form field. At most 32 form fields.",
        "properties": {"token": {"type": "string", "maxLength": 512}},
        "maxProperties": 32,
    }


def _token_answer(*, with_refresh: bool) -> Schema:
    token: Schema = {"type": "string", "pattern": TOKEN_PATTERN}
    props: dict[str, Schema] = {"access_token": token}
    if with_refresh:
        props["refresh_token"] = token
    props.update(
        scope={"type": "string"},
        api_domain={"type": "string", "format": "uri"},
        token_type={"const": "Bearer"},
        expires_in={"const": 3600},
    )
    return _exactly(**props)


# --- operations --------------------------------------------------------------------------------

SEED_SAMPLE = {
    "__emails_sharing_details": [
        {
            "available_types": AVAILABLE_TYPES,
            "share_from_users": [
                {"id": "412463000001213019", "name": "Will Grandon", "_type": "pop"},
                {"id": "412463000000867017", "name": "boyle", "_type": "imap"},
            ],
        }
    ]
}


def _details() -> Schema:
    return {
        "get": {
            "tags": [TAG_SHARING],
            "operationId": "getEmailsSharingDetails",
            "summary": "Whose mailbox emails on a record the caller may read",
            "description": "Contract §1 (endpoint), §2 (modules), §3 (order of checks: path, "
            "method, version, token, module, scopes, record id, read permission; the first "
            "failing check answers), §4 (scopes: module read — `ZohoCRM.modules.ALL`, "
            "`.READ`, `.{scope name}.ALL` or `.READ` — and emails read — "
            "`ZohoCRM.modules.ALL`, `ZohoCRM.modules.emails.ALL` or `.READ`), §5 (the record), "
            "§6 (the answer).",
            "security": [{SECURITY: []}],
            "parameters": [
                _version_param("DetailsVersion"),
                ref("parameters", "Module"),
                ref("parameters", "RecordId"),
            ],
            "responses": {
                "200": json_response(
                    "Contract §1 and §6. Never 204.",
                    schema_ref("SharingDetails"),
                    SEED_SAMPLE,
                ),
                "400": bad_request(
                    "Contract §1 (a known older version), §2 (module), §5 (record id).",
                    "API_NOT_SUPPORTED.v4",
                    "INVALID_MODULE",
                    "NOT_SUPPORTED",
                    "INVALID_DATA.record_path",
                ),
                **_standard("401", "403", "404", "429", "500"),
            },
        }
    }


def _share_one(action: str) -> Schema:
    share = action == "share"
    done = "Successfully shared" if share else "Sharing revoked successfully"
    conflict = "ALREADY_SHARED" if share else "NOT_SHARED"
    return {
        "post": {
            "tags": [TAG_SHARING],
            "operationId": f"{action}EmailsOfRecord",
            "summary": (
                "Share the caller's mailbox emails of one record"
                if share
                else "Stop sharing the caller's mailbox emails of one record"
            ),
            "description": "Contract §8, with the order of checks of "
            "docs/contract-decisions.md: path, method, version, token, module, scopes "
            "(`ZohoCRM.modules.ALL`, `ZohoCRM.modules.{scope name}.ALL` or `.CREATE`), record "
            "id, read permission (§5), the caller's mailbox, the caller's `custom` sharing, "
            f"then {conflict}. Any request body is ignored.",
            "security": [{SECURITY: []}],
            "parameters": [
                _version_param("ShareVersion"),
                ref("parameters", "ShareModule"),
                ref("parameters", "RecordId"),
            ],
            "requestBody": {
                "required": False,
                "description": "Ignored (contract §8).",
                "content": {"application/json": {"schema": {}}},
            },
            "responses": {
                "200": json_response(
                    "Contract §8.",
                    schema_ref(f"ShareOne.{action}"),
                    {
                        "data": [
                            {
                                "code": "SUCCESS",
                                "details": {"id": "3652397000001790011"},
                                "message": done,
                                "status": "success",
                            }
                        ]
                    },
                ),
                "400": bad_request(
                    "Contract §8: a flat error body.",
                    "API_NOT_SUPPORTED.v8",
                    "INVALID_MODULE",
                    "NOT_SUPPORTED",
                    "INVALID_DATA.record_path",
                    "NOT_ALLOWED.no_mailbox",
                    "NOT_ALLOWED.not_custom",
                    conflict,
                ),
                **_standard("401", "403", "404", "429", "500"),
            },
        }
    }


def _share_many(action: str) -> Schema:
    share = action == "share"
    conflict = "ALREADY_SHARED" if share else "NOT_SHARED"
    success = schema_ref(f"Entry.SUCCESS.{action}")
    failures = [
        schema_ref(error_schema_name(key))
        for key in (
            "INVALID_DATA.body_id",
            "DUPLICATE_DATA",
            "NO_PERMISSION",
            "NOT_ALLOWED.no_mailbox",
            "NOT_ALLOWED.not_custom",
            conflict,
        )
    ]
    failure: Schema = {"oneOf": failures}
    some_of_each = _data(
        {"oneOf": [success, failure]},
        2,
        MAX_BULK_IDS,
        allOf=[{"contains": success}, {"contains": failure}],
    )
    flat = errors_of(
        "API_NOT_SUPPORTED.v8",
        "INVALID_DATA.body_not_json",
        "INVALID_DATA.body_too_deep",
        "LIMIT_EXCEEDED.body",
        "MANDATORY_NOT_FOUND.ids",
        "LIMIT_EXCEEDED.ids",
        "INVALID_MODULE",
        "NOT_SUPPORTED",
        "INVALID_DATA.body_unreadable",
        *REFUSALS,
    )
    return {
        "post": {
            "tags": [TAG_SHARING],
            "operationId": f"{action}EmailsOfRecords",
            "summary": f"{'Share' if share else 'Stop sharing'} the caller's mailbox emails of "
            "up to 200 records",
            "description": "Contract §8 and docs/contract-decisions.md (bulk bodies): path, "
            "method, version, token, then the body (at most 64 KiB, JSON nested at most 32 "
            "deep, `ids` a list of 1 to 200), then module and scopes. Each id then answers "
            "one `data` entry, in order: 200 when all succeed, 207 when some do, 400 when none "
            "do. All ids of a request are applied in one transaction.",
            "security": [{SECURITY: []}],
            "parameters": [_version_param("ShareVersion"), ref("parameters", "ShareModule")],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("ShareIds")}},
            },
            "responses": {
                "200": json_response("Every id succeeded.", _data(success, 1, MAX_BULK_IDS)),
                "207": json_response("Some ids succeeded, some did not.", some_of_each),
                "400": json_response(
                    "No id succeeded (a `data` array of error entries), or the request was "
                    "refused as a whole (a flat error body).",
                    {"oneOf": [flat, _data(failure, 1, MAX_BULK_IDS)]},
                ),
                **_standard("401", "404", "429", "500"),
            },
        }
    }


def _users() -> Schema:
    return {
        "get": {
            "tags": [TAG_SDK],
            "operationId": "getUsers",
            "summary": "The org's users, or the caller (what the SDKs ask on a token's first use)",
            "description": "Contract §11 and docs/contract-decisions.md (users and org). Scopes: "
            "`ZohoCRM.users.READ` or `.ALL` (`ZohoCRM.modules.ALL` does not cover them).",
            "security": [{SECURITY: []}],
            "parameters": [
                _version_param("AnyVersion"),
                {
                    "name": "type",
                    "in": "query",
                    "required": False,
                    "description": "`CurrentUser`: the caller; `AllUsers` (the default) and "
                    "`ActiveUsers`: the org's users, first 200. Anything else: 400 "
                    'INVALID_DATA `{"param_name":"type"}`.',
                    "schema": {
                        "type": "string",
                        "enum": ["CurrentUser", "AllUsers", "ActiveUsers"],
                    },
                },
            ],
            "responses": {
                "200": json_response("Zoho's Users API shape.", schema_ref("Users")),
                "400": bad_request("An unknown `type`.", "INVALID_DATA.users_type"),
                **_standard("401", "404", "429", "500"),
            },
        }
    }


def _org() -> Schema:
    return {
        "get": {
            "tags": [TAG_SDK],
            "operationId": "getOrg",
            "summary": "The caller's org (what the SDKs ask on a token's first use)",
            "description": "Contract §11 and docs/contract-decisions.md (users and org). Scopes: "
            "`ZohoCRM.org.READ` or `.ALL`.",
            "security": [{SECURITY: []}],
            "parameters": [_version_param("AnyVersion")],
            "responses": {
                "200": json_response("Zoho's Org API shape.", schema_ref("Org")),
                "400": bad_request("A request refused before routing."),
                **_standard("401", "404", "429", "500"),
            },
        }
    }


def _form_request(schema_name: str) -> Schema:
    form: Schema = {"schema": schema_ref(schema_name)}
    return {
        "required": False,
        "description": "Form fields (the Python SDK posts a urlencoded form, the Node SDK a "
        "multipart one). A JSON body is refused: the token endpoint answers "
        '`{"error":"invalid_client"}`, revoke reads the query only. At most 64 KiB.',
        "content": {
            "application/x-www-form-urlencoded": form,
            "multipart/form-data": form,
            "application/json": {"schema": {}},
        },
    }


def _query(properties: dict[str, Schema]) -> list[Schema]:
    return [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in properties.items()
    ]


def _token() -> Schema:
    return {
        "post": {
            "tags": [TAG_OAUTH],
            "operationId": "oauthToken",
            "summary": "Zoho Accounts' token endpoint",
            "description": "Contract §9 and docs/contract-decisions.md (OAuth): "
            "`authorization_code` (client_id, client_secret, redirect_uri, code), "
            "`refresh_token` (client_id, client_secret, refresh_token), `client_credentials` "
            "(client_id, client_secret, scope, soid=ZohoCRM.<org id>). Errors are HTTP 200 "
            'with `{"error": ...}`. `api_domain` is `--public-url`, else the request\'s base '
            "URL. `expires_in` is in seconds; `expires_in_sec` is never sent.",
            "security": [],
            "parameters": _query(_token_parameters()["properties"]),
            "requestBody": _form_request("TokenParameters"),
            "responses": {
                "200": json_response(
                    "Tokens, or an OAuth error.",
                    {
                        "oneOf": [
                            schema_ref("Token.issued"),
                            schema_ref("Token.refreshed"),
                            schema_ref("Token.error"),
                        ]
                    },
                ),
                "400": bad_request(
                    "A body over 64 KiB, or one that breaks off.",
                    "LIMIT_EXCEEDED.body",
                    "INVALID_DATA.body_unreadable",
                ),
                **_standard("500"),
            },
        }
    }


def _revoke() -> Schema:
    return {
        "post": {
            "tags": [TAG_OAUTH],
            "operationId": "oauthRevoke",
            "summary": "Revoke a refresh token (and its access tokens) or an access token",
            "description": "Contract §9 and docs/contract-decisions.md: `token` from the query "
            'or a form body. The answer is always `{"status":"success"}`: it reveals '
            "nothing about the token.",
            "security": [],
            "parameters": _query(_revoke_parameters()["properties"]),
            "requestBody": _form_request("RevokeParameters"),
            "responses": {
                "200": json_response("Done (or nothing to do).", schema_ref("Success")),
                "400": bad_request(
                    "A body over 64 KiB, or one that breaks off.",
                    "LIMIT_EXCEEDED.body",
                    "INVALID_DATA.body_unreadable",
                ),
                **_standard("500"),
            },
        }
    }


def _plain_get(
    operation_id: str,
    summary: str,
    description: str,
    ok: Schema,
    *,
    media_type: str = JSON,
) -> Schema:
    return {
        "get": {
            "tags": [TAG_OPS],
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "security": [],
            "responses": {
                "200": {"description": summary, "content": {media_type: {"schema": ok}}},
                "400": bad_request("A request refused before routing."),
                **_standard("500"),
            },
        }
    }


def _admin(operation_id: str, summary: str, description: str, body: Schema | None) -> Schema:
    responses: dict[str, Schema] = {
        "200": json_response(summary, schema_ref("LoadSummary" if body is not None else "Success")),
        "401": error_response(
            f"The `{ADMIN_HEADER}` header is missing or wrong.", "AUTHENTICATION_FAILURE"
        ),
        "404": error_response(
            "The admin API is off (no `--admin-key`): it answers as if it did not exist.",
            "INVALID_URL_PATTERN",
        ),
        **_standard("500"),
    }
    if body is None:
        responses["400"] = bad_request("A request refused before routing.")
    else:
        responses["400"] = bad_request(
            "The fixture is invalid (the reason names the key or id), over 16 MiB, or breaks off.",
            "INVALID_DATA.fixture",
            "LIMIT_EXCEEDED.fixture",
            "INVALID_DATA.body_unreadable",
        )
    operation: Schema = {
        "tags": [TAG_ADMIN],
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "security": [{ADMIN_SECURITY: []}],
        "responses": responses,
    }
    if body is not None:
        operation["requestBody"] = body
    return {"post": operation}


def _fixture_schemas() -> dict[str, Schema]:
    """Contract §10's fixture format; unknown keys are an error that names the key."""
    ident: Schema = {"type": "string", "pattern": ID_PATTERN}
    text: Schema = {"type": "string", "minLength": 1, "maxLength": 250}
    ids: Schema = {"type": ["array", "null"], "uniqueItems": True, "items": ident}

    def obj(required: list[str], **props: Schema) -> Schema:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": required,
            "properties": props,
        }

    def nullable(schema: Schema) -> Schema:
        return {"oneOf": [{"type": "null"}, schema]}

    def many(name: str) -> Schema:
        return {"type": ["array", "null"], "items": schema_ref(name)}

    return {
        "Fixture": obj(["orgs"], orgs={"type": "array", "items": schema_ref("Fixture.Org")}),
        "Fixture.Org": obj(
            ["id", "name"],
            id=ident,
            name=text,
            data_sharing=nullable(
                {
                    "type": "object",
                    "additionalProperties": {
                        "enum": ["private", "public_read_only", "public_read_write", "public"]
                    },
                }
            ),
            custom_modules={
                "type": ["array", "null"],
                "items": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,49}$"},
            },
            roles=many("Fixture.Role"),
            users=many("Fixture.User"),
            records=many("Fixture.Record"),
            clients=many("Fixture.Client"),
            tokens=many("Fixture.Token"),
        ),
        "Fixture.Role": obj(["id", "name"], id=ident, name=text, reports_to=nullable(ident)),
        "Fixture.User": obj(
            ["id", "name"],
            id=ident,
            name=text,
            email=nullable({"type": "string", "maxLength": 320}),
            status=nullable({"enum": ["active", "inactive", "deleted"]}),
            profile=nullable({"enum": ["administrator", "standard"]}),
            role=nullable(ident),
            mailbox=nullable(
                obj(
                    ["protocol"],
                    protocol={"enum": ["imap", "pop", "api"]},
                    address=nullable({"type": "string", "maxLength": 320}),
                    enabled=nullable({"type": "boolean"}),
                )
            ),
            email_sharing=nullable({"enum": ["private", "public", "custom"]}),
        ),
        "Fixture.Record": obj(
            ["module", "id", "owner"],
            module={"type": "string", "minLength": 1, "maxLength": 60},
            id=ident,
            name=nullable({"type": "string", "maxLength": 250}),
            owner=ident,
            shared_with=ids,
            emails_shared_by=ids,
            deleted=nullable({"type": "boolean"}),
        ),
        "Fixture.Client": obj(
            ["client_id", "client_secret"],
            client_id={"type": "string", "minLength": 1, "maxLength": 100},
            client_secret={"type": "string", "minLength": 1, "maxLength": 200},
            redirect_uri=nullable({"type": "string", "minLength": 1, "maxLength": 2000}),
        ),
        "Fixture.Token": obj(
            ["access_token", "user", "scopes"],
            access_token={"type": "string", "pattern": TOKEN_PATTERN},
            user=ident,
            scopes={
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "minLength": 1, "maxLength": 200},
            },
            expires_in=nullable({"type": "integer", "minimum": -(10**10), "maximum": 10**10}),
        ),
    }


def _with_credits(path_item: Schema) -> Schema:
    """Zoho's credit header, which any answer of the CRM API may carry (docs/limits.md)."""
    for operation in path_item.values():
        for response in operation["responses"].values():
            if "$ref" not in response:
                headers = response.setdefault("headers", {})
                headers["X-API-CREDITS-REMAINING"] = ref("headers", "CreditsRemaining")
    return path_item


def _paths() -> dict[str, Schema]:
    crm = "/crm/{version}/{module}"
    paths = {
        f"{crm}/{{record_id}}/__emails_sharing_details": _details(),
        f"{crm}/{{record_id}}/actions/share_emails": _share_one("share"),
        f"{crm}/{{record_id}}/actions/unshare_emails": _share_one("unshare"),
        f"{crm}/actions/share_emails": _share_many("share"),
        f"{crm}/actions/unshare_emails": _share_many("unshare"),
        "/crm/{version}/users": _users(),
        "/crm/{version}/org": _org(),
    }
    paths = {path: _with_credits(item) for path, item in paths.items()}
    return paths | {
        "/oauth/v2/token": _token(),
        "/oauth/v2/token/revoke": _revoke(),
        "/healthz": _plain_get(
            "healthz",
            "Liveness: the process answers",
            "docs/operations.md. Stays 200 while the store is down.",
            schema_ref("Health"),
        ),
        "/readyz": _plain_get(
            "readyz",
            "Readiness: the store answers a query",
            "docs/operations.md. 500 INTERNAL_ERROR while the store is unreachable.",
            schema_ref("Ready"),
        ),
        "/metrics": _plain_get(
            "metrics",
            "Prometheus metrics of the whole server",
            "docs/observability.md: every worker's counts added up, in Prometheus' text format.",
            {"type": "string"},
            media_type=PROMETHEUS,
        ),
        "/openapi.json": _plain_get(
            "openapi",
            "This document",
            "emailshare's own OpenAPI document (docs/openapi.md).",
            schema_ref("OpenAPIDocument"),
        ),
        "/__emailshare/load": _admin(
            "adminLoad",
            "Load a fixture document, all or nothing",
            "Contract §10 and docs/contract-decisions.md (fixtures): JSON or YAML, at most "
            "16 MiB. An org with the id of a stored org replaces it wholly.",
            {
                "required": True,
                "content": {
                    "application/json": {"schema": schema_ref("Fixture")},
                    "application/yaml": {"schema": {"type": "string"}},
                },
            },
        ),
        "/__emailshare/reset": _admin(
            "adminReset",
            "Delete every org and everything in it",
            "Empties the store. Any request body is ignored.",
            None,
        ),
    }


INFO_DESCRIPTION = """\
emailshare: a faithful stand-in for Zoho CRM's email-sharing API. `docs/contract.md` is the wire
specification; section numbers (§) below refer to it, and `docs/contract-decisions.md` records
every decision where it is silent.

- Every answer is JSON with `Content-Type: application/json;charset=UTF-8`, keys in the
  contract's order.
- CRM calls authenticate with `Authorization: Zoho-oauthtoken <access token>` (§4); any other
  scheme is 401 AUTHENTICATION_FAILURE.
- Every CRM error body is exactly `{"code", "details", "message", "status":"error"}` (§7);
  `#/components/schemas/Error` lists every code.
- Paths are matched as given (no redirects, no trailing slash). An unknown path is 404
  INVALID_URL_PATTERN (§7); any method but the documented one on a path that exists is 400
  INVALID_REQUEST_METHOD (`#/components/responses/InvalidRequestMethod`).
- The admin API (`/__emailshare/*`) is off unless the server runs with `--admin-key`; only
  `load` and `reset` are described here.
"""


def _with_request_id(responses: dict[str, Schema]) -> None:
    for response in responses.values():
        if "$ref" not in response:
            response.setdefault("headers", {})["X-Request-Id"] = ref("headers", "RequestId")


def document() -> dict[str, Any]:
    """The whole OpenAPI document, freshly built (callers may change their copy)."""
    errors: dict[str, Schema] = {
        error_schema_name(key): _error_schema(*value) for key, value in ERRORS.items()
    }
    paths = _paths()
    shared = _shared_responses()
    for response_set in [shared, *(op["responses"] for i in paths.values() for op in i.values())]:
        _with_request_id(response_set)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "emailshare",
            "version": __version__,
            "summary": "Zoho CRM's email-sharing API, emulated",
            "description": INFO_DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [
            {"name": TAG_SHARING, "description": "Contract §1-§8"},
            {"name": TAG_SDK, "description": "Contract §11: what the official SDKs read"},
            {"name": TAG_OAUTH, "description": "Contract §9: Zoho Accounts"},
            {"name": TAG_OPS, "description": "Health, readiness, this document"},
            {"name": TAG_ADMIN, "description": f"Off unless `--admin-key`; `{ADMIN_HEADER}`"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                SECURITY: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Zoho-oauthtoken <access token>` (contract §4). Tokens "
                    "look like `1000.` + 32 hex + `.` + 32 hex and live 3600 s by default.",
                },
                ADMIN_SECURITY: {
                    "type": "apiKey",
                    "in": "header",
                    "name": ADMIN_HEADER,
                    "description": "The server's `--admin-key`, compared in constant time.",
                },
            },
            "parameters": _parameters(),
            "headers": {
                "RequestId": {
                    "description": "Every answer's request id: the client's own `X-Request-Id` "
                    "when it is letters, digits and `-_.:` (at most 64), else a new one "
                    "(docs/observability.md).",
                    "required": True,
                    "schema": {"type": "string", "pattern": REQUEST_ID_PATTERN},
                },
                "CreditsRemaining": {
                    "description": "Credits left in the org's rolling 24 h budget; sent once "
                    "half of it is used, when `--credits-per-day` is set (docs/limits.md).",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                },
            },
            "responses": shared,
            "schemas": {
                "Error": _any_error(),
                **errors,
                **_success_schemas(),
                **_fixture_schemas(),
            },
        },
    }


@functools.cache
def serialised() -> bytes:
    """The document as JSON bytes, built on first use and then kept."""
    return wire.dumps(document())


async def endpoint(request: Request) -> Response:
    """``GET /openapi.json``; any other method is Zoho's INVALID_REQUEST_METHOD."""
    if request.method != "GET":
        raise InvalidRequestMethod()
    return Response(serialised(), 200, media_type=JSON)
