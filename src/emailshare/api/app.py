"""The application factory: routes, error handlers and the store's lifecycle."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from emailshare.api import errors, routes
from emailshare.config import Settings
from emailshare.domain.errors import ZohoError
from emailshare.storage import migrate
from emailshare.storage.db import StoreUnavailable, connect
from emailshare.storage.repo import Store


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app. The store opens in the lifespan, after any fork of workers."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = await connect(settings.db_url, pool_size=settings.pool_size)
        try:
            await migrate.upgrade(db)
            app.state.store = Store(db)
            yield
        finally:
            await db.close()

    app = Starlette(
        routes=[
            Route("/crm/{version}/{module}/{record_id}/__emails_sharing_details",
                  routes.sharing_details, methods=None),
            Route("/crm/{version}/users", routes.users, methods=None),
            Route("/crm/{version}/org", routes.org, methods=None),
            Route("/healthz", routes.healthz, methods=None),
            Route("/readyz", routes.readyz, methods=None),
        ],
        exception_handlers={
            ZohoError: errors.on_zoho_error,
            StoreUnavailable: errors.on_unexpected,
            HTTPException: errors.on_http_exception,
            Exception: errors.on_unexpected,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.settings = settings
    return app


def create_app_from_env() -> Starlette:
    """Factory for server workers: settings come from ``EMAILSHARE_*`` variables."""
    return create_app(Settings.from_env())
