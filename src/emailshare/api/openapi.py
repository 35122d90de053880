"""emailshare's own OpenAPI 3.1 document, served at ``GET /openapi.json``.

The document is data: ``openapi.yaml`` beside this module, shipped in the package (see
``docs/openapi.md`` for how it is maintained and checked). Nothing is read at import; the file is
parsed and serialised to JSON once, on the first request, and the bytes are kept.
``info.version`` is stamped from the package's ``__version__`` so that it has one owner.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import Response

from emailshare import __version__
from emailshare.api import wire
from emailshare.domain.errors import InvalidRequestMethod

RESOURCE = "openapi.yaml"
JSON = wire.CONTENT_TYPE  # application/json;charset=UTF-8

# libyaml's loader when PyYAML was built with it (parses the file about ten times faster).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load() -> dict[str, Any]:
    """Parse the packaged ``openapi.yaml`` (a new dict on every call), with ``info.version``
    set to the package's version."""
    text = resources.files("emailshare.api").joinpath(RESOURCE).read_text(encoding="utf-8")
    doc = yaml.load(text, Loader=_Loader)  # noqa: S506 -- a safe loader (C or pure Python)
    if not isinstance(doc, dict) or not isinstance(doc.get("info"), dict):
        raise RuntimeError(f"{RESOURCE} is not an OpenAPI document")
    doc["info"]["version"] = __version__
    return doc


@functools.cache
def serialised() -> bytes:
    """The document as compact JSON bytes, built on first use and then kept."""
    return wire.dumps(load())


def document() -> dict[str, Any]:
    """The document exactly as served: a fresh copy, which callers may change."""
    parsed: dict[str, Any] = orjson.loads(serialised())
    return parsed


async def endpoint(request: Request) -> Response:
    """``GET /openapi.json``; any other method is Zoho's INVALID_REQUEST_METHOD."""
    if request.method != "GET":
        raise InvalidRequestMethod()
    return Response(serialised(), 200, media_type=JSON)
