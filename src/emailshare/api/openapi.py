"""emailshare's own OpenAPI document, served at ``/openapi.json``.

SCAFFOLD (issue 6): not yet.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from emailshare.domain.errors import InvalidUrlPattern


async def endpoint(request: Request) -> Response:
    raise InvalidUrlPattern()
