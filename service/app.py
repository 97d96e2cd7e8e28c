"""The Starlette application: routes, error handlers, middleware in order, the pool's lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

import psycopg
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute

from service import metrics, problems, queries
from service.caching import FreshnessCache
from service.endpoints import (
    docs,
    freshness,
    health,
    indices,
    monthly,
    station_search,
    stations,
    stats,
    uploads,
    weather,
    yields,
)
from service.explore import ROUTES as EXPLORE_ROUTES
from service.lists.exports import ExportSlots
from service.lists.pagination import Cursors
from service.lists.response_cache import ResponseCache
from service.middleware import tracing
from service.middleware.compression import Compression
from service.middleware.forwarded import Forwarded
from service.middleware.observe import Observe
from service.middleware.ratelimit import Policy, RateLimit
from service.openapi import Operation
from service.state import AppState
from warehouse import db
from warehouse.errors import WarehouseError
from warehouse.settings import Settings

log = logging.getLogger("service")

# What a browser page may send and read (others are hidden from its script).
CORS_REQUEST_HEADERS = [
    "Accept",
    "Authorization",
    "Content-Type",
    "If-Modified-Since",
    "If-None-Match",
    "X-Request-ID",
]
CORS_EXPOSED_HEADERS = [
    "Content-Disposition",
    "ETag",
    "Last-Modified",
    "Link",
    "Location",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "X-Request-ID",
]
CORS_MAX_AGE_S = 600


def create_app(settings: Settings) -> Starlette:
    """The API for ``settings``; the database pool opens when the app starts."""
    pool = db.async_pool(settings, read=True)

    async def load_freshness() -> queries.Freshness:
        return await pool.run(queries.freshness)

    def on_refresh(value: queries.Freshness) -> None:
        metrics.record_freshness(value)
        metrics.record_pool(pool)

    state = AppState(
        settings=settings,
        pool=pool,
        freshness=FreshnessCache(load_freshness, on_refresh=on_refresh),
        cursors=Cursors.from_settings(settings),
        exports=ExportSlots(settings.export_max_concurrent),
        pages=ResponseCache(settings.response_cache_max_bytes),
    )
    upload_config = uploads.UploadConfig.from_settings(settings)

    routes: list[BaseRoute] = []
    operations: list[Operation] = []
    for module in (
        weather,
        stats,
        monthly,
        indices,
        yields,
        station_search,
        stations,
        freshness,
        health,
    ):
        routes.extend(module.ROUTES)
        operations.extend(module.OPERATIONS)
    if upload_config is not None:
        routes.extend(uploads.ROUTES)
        operations.extend(uploads.OPERATIONS)
    routes.extend(docs.routes(operations, _version()))
    routes.extend(EXPLORE_ROUTES)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Opening does not wait for the database: the API starts, answers
        # 503 while the database is away, and recovers when it returns.
        await pool.open(wait=False)
        # Everything loaded so far lives as long as the process: keep it out
        # of the collector's full passes, which otherwise stall requests.
        gc.collect()
        gc.freeze()
        log.info("API started", extra={"pool": pool.name})
        try:
            yield
        finally:
            await pool.close()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            problems.ApiProblem: problems.api_problem,
            HTTPException: problems.http_exception,
            psycopg.OperationalError: problems.database_error,
            WarehouseError: problems.warehouse_error,
            Exception: problems.internal_error,
        },
    )
    app.state.warehouse = state
    app.state.uploads = upload_config
    _add_middleware(app, settings)
    return app


def _add_middleware(app: Starlette, settings: Settings) -> None:
    """Outermost last: Observe sees everything, Forwarded names the client, CORS headers
    reach 429s, gzip is innermost."""
    app.add_middleware(Compression)
    if RateLimit.enabled(settings):
        policy = Policy(settings.rate_limit_requests, settings.rate_limit_window_s)
        app.add_middleware(RateLimit, policy=policy, key_header=settings.rate_limit_key_header)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_allow_origins),
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=CORS_MAX_AGE_S,
        )
    # Before the limit: the client address it counts by comes from trusted proxies.
    app.add_middleware(Forwarded, settings=settings)
    # Observe also counts and logs the refusals of the middleware inside it.
    app.add_middleware(Observe)
    if settings.tracing_enabled:
        # Added last, so outermost: Observe and the routes run in its span.
        tracing.instrument(
            app, settings.tracing_traces_per_second, settings.otel_traces_sampler_arg
        )


def _version() -> str:
    try:
        return metadata.version("weather-warehouse")
    except metadata.PackageNotFoundError:
        return "0.0.0"
