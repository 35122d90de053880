"""The baseline: Starlette on granian, the same stack as emailshare, answering the seed's
sample bytes with no work at all. emailshare's speed is reported as a ratio to this."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SEED = (
    b'{"__emails_sharing_details":[{"available_types":["emails_sent_from_crm",'
    b'"all_contacts_emails","all_imap_shared_users","all_emails"],"share_from_users":'
    b'[{"id":"412463000001213019","name":"Will Grandon","_type":"pop"},'
    b'{"id":"412463000000867017","name":"boyle","_type":"imap"}]}]}'
)


async def details(_: Request) -> Response:
    return Response(SEED, media_type="application/json;charset=UTF-8")


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/crm/{version}/{module}/{record_id}/__emails_sharing_details", details),
            Route("/healthz", details),
        ]
    )
