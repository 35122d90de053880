"""The application factory: routes, error handlers and the store's lifecycle."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from emailshare import bootstrap
from emailshare.api import (
    actions,
    admin,
    admin_journal,
    emails,
    emails_fast,
    errors,
    hotpath,
    journal,
    limits,
    metrics,
    oauth,
    observe,
    openapi,
    ratelimit,
    routes,
    wire,
)
from emailshare.config import Settings
from emailshare.domain.errors import OAuthError, StoreUnavailable, ZohoError
from emailshare.service.journal import Journal

# Handlers check the method themselves, after the path, as Zoho orders its checks.
ANY = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def create_app(
    settings: Settings | None = None,
    *,
    raise_app_exceptions: bool = False,
    freeze_gc: bool = False,
) -> Starlette:
    """Build the ASGI app. The store opens in the lifespan, after any fork of workers.

    ``raise_app_exceptions`` (for tests in this process, ``emailshare.testing``): a crash is
    answered 500 as always, then raised to the caller of the app too.

    ``freeze_gc`` (a served worker's, :func:`create_app_from_env`): once the services are
    open, every object the process holds then (its modules, the app, the store) is moved out
    of the cyclic collector's sight (:func:`freeze_startup`), and back when the lifespan ends."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The composition root builds the store and the caches; the app keeps them in its state.
        async with bootstrap.open_services(settings, wire.rendered) as services:
            app.state.store = services.store
            app.state.email_store = services.email_store
            app.state.mailbox_store = services.mailbox_store
            app.state.callers = services.callers
            app.state.answers = services.answers
            app.state.freshness = services.freshness
            app.state.org_views = services.org_views
            # The request journal, for the admin API only (captured by api.observe).
            app.state.journal = None
            if settings.admin_key:
                app.state.journal = Journal(
                    services.journal_store,
                    services.store,
                    services.callers,
                    settings.request_log_size,
                    journal.shape,
                )
            if freeze_gc:
                freeze_startup()
            try:
                yield
            finally:
                if freeze_gc:
                    gc.unfreeze()
                if app.state.journal is not None:
                    await app.state.journal.close()

    app = App(
        routes=[
            Route(routes.DETAILS_ROUTE, routes.sharing_details, methods=ANY),
            Route(
                "/crm/{version}/{module}/{record_id}/actions/{action}",
                actions.share_one,
                methods=ANY,
            ),
            Route("/crm/{version}/{module}/actions/{action}", actions.share_many, methods=ANY),
            Route(emails.EMAILS_ROUTE, emails.list_emails, methods=ANY),
            Route(emails.EMAIL_ROUTE, emails.open_email, methods=ANY),
            Route("/crm/{version}/users", routes.users, methods=ANY),
            Route("/oauth/v2/token", oauth.token, methods=ANY),
            Route("/oauth/v2/token/revoke", oauth.revoke, methods=ANY),
            Route("/crm/{version}/org", routes.org, methods=ANY),
            Route("/__emailshare/load", admin.load, methods=ANY),
            Route("/__emailshare/reset", admin.reset, methods=ANY),
            Route("/__emailshare/stats", admin.stats, methods=ANY),
            Route("/__emailshare/state", admin.state, methods=ANY),
            Route("/__emailshare/mailboxes", admin.mailboxes, methods=ANY),
            Route("/__emailshare/requests", admin_journal.requests, methods=ANY),
            Route("/__emailshare/requests/{request_id}", admin_journal.request_entry, methods=ANY),
            Route("/__emailshare/explain", admin.explain, methods=ANY),
            Route("/__emailshare/ui", admin.ui_redirect, methods=ANY),
            Mount("/__emailshare/ui", app=admin.ui),
            Route("/openapi.json", openapi.endpoint, methods=ANY),
            Route("/metrics", metrics.endpoint, methods=ANY),
            Route("/healthz", routes.healthz, methods=ANY),
            Route("/readyz", routes.readyz, methods=ANY),
        ],
        exception_handlers={
            ZohoError: errors.on_zoho_error,
            OAuthError: errors.on_oauth_error,
            StoreUnavailable: errors.on_unexpected,
            HTTPException: errors.on_http_exception,
            Exception: errors.on_unexpected,
        },
        lifespan=lifespan,
        middleware=middleware(settings),
        outer=outer_middleware(settings, raise_app_exceptions),
    )
    app.router.redirect_slashes = False
    app.state.settings = settings
    return app


class App(Starlette):
    """Starlette, with middleware outside its error boundary as well as inside.

    Starlette builds ``ServerErrorMiddleware`` (which answers an unexpected exception with
    the ``Exception`` handler, ``api.errors.on_unexpected``) outermost, then the user
    middleware, then ``ExceptionMiddleware``. ``outer`` wraps all of that: middleware there
    sees every answer as the client gets it, the error boundary's 500 included
    (docs/observability.md).
    """

    def __init__(self, *, outer: Sequence[Middleware] = (), **kwargs: Any) -> None:
        self.outer_middleware = list(outer)
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        for cls, args, kwargs in reversed(self.outer_middleware):
            app = cls(app, *args, **kwargs)
        return app


def outer_middleware(settings: Settings, reraise: bool = False) -> list[Middleware]:
    """Outside the error boundary: observability (request ids, metrics, logs, request log), and
    the hot path it asks first: details answers, cached or computed, sent unrouted (also with
    the answer cache off; docs/performance.md); inside it, the emails calls' plain GETs answered
    unrouted (``api.emails_fast``). When credits or concurrency limits are on, every request
    must be charged: neither."""
    charged = settings.credits_per_day or settings.max_concurrent
    fast = None if charged else hotpath.HotPath()
    observing = Middleware(observe.Observe, settings=settings, fast=fast, reraise=reraise)
    return [observing] if charged else [observing, Middleware(emails_fast.EmailsFast)]


def middleware(settings: Settings) -> list[Middleware]:
    """Inside the error boundary, outermost first: limits refuse early, then credits."""
    if settings.credits_per_day or settings.max_concurrent:  # every request is charged
        return [Middleware(limits.Limits), Middleware(ratelimit.RateLimit, settings=settings)]
    return [Middleware(limits.Limits)]


def freeze_startup() -> None:
    """Collect once, then freeze what is left (``gc.freeze``): the ~40,000 objects a worker
    made to start are never walked again by a collection, which at steady state walked them
    all in every full collection, the reads' p99 (docs/performance.md, "Once the caches are
    full"). The collection first, so that no garbage of the start-up is frozen with them."""
    gc.collect()
    gc.freeze()


def create_app_from_env() -> Starlette:
    """Factory for server workers: settings come from ``EMAILSHARE_*`` variables. Each worker
    freezes its start-up's objects out of the cyclic collector once its services are open
    (``freeze_gc``); a test's process, whose objects are not the app's, is left as it is."""
    return create_app(Settings.from_env(), freeze_gc=True)
