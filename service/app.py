"""The Starlette application: routes, error handlers, observing middleware, the pool's lifespan."""

from __future__ import annotations

import gc
import itertools
import logging
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from time import perf_counter

import psycopg
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import (
    docs,
    freshness,
    health,
    metrics,
    monthly,
    problems,
    queries,
    station_search,
    stations,
    stats,
    tracing,
    uploads,
    weather,
    yields,
)
from service.caching import FreshnessCache
from service.compression import Compression
from service.exports import ExportSlots
from service.forwarded import Forwarded
from service.openapi import Operation
from service.pagination import Cursors
from service.ratelimit import Policy, RateLimit
from service.response_cache import ResponseCache
from service.state import AppState
from warehouse import db
from warehouse.errors import WarehouseError
from warehouse.settings import Settings

log = logging.getLogger("service")
access_log = logging.getLogger("service.access")

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
SLOW_REQUEST_S = 1.0
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
    for module in (weather, stats, monthly, yields, station_search, stations, freshness, health):
        routes.extend(module.ROUTES)
        operations.extend(module.OPERATIONS)
    if upload_config is not None:
        routes.extend(uploads.ROUTES)
        operations.extend(uploads.OPERATIONS)
    routes.extend(docs.routes(operations, _version()))

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
    app.add_middleware(Observe, traced=settings.tracing_enabled)
    if settings.tracing_enabled:
        # Added last, so outermost: Observe and the routes run in its span.
        tracing.instrument(app, settings.otel_traces_sampler_arg)


def _version() -> str:
    try:
        return metadata.version("weather-warehouse")
    except metadata.PackageNotFoundError:
        return "0.0.0"


class Observe:
    """Request id, metrics and the access log, in one cheap pass (a pure ASGI middleware)."""

    def __init__(self, app: ASGIApp, *, traced: bool = False) -> None:
        self.app = app
        self.metrics = metrics.RequestMetrics()
        self.traced = traced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope["headers"])
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # Kept in the scope: the 500 handler runs after the request span ended.
        trace_id = state["trace_id"] = tracing.current_trace_id() if self.traced else None
        header = (b"x-request-id", request_id.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        started = perf_counter()
        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.IN_FLIGHT.dec()
            elapsed = perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, elapsed)
            self._log(scope, request_id, template, status, elapsed, trace_id=trace_id)

    @staticmethod
    def _log(
        scope: Scope,
        request_id: str,
        route: str,
        status: int,
        elapsed: float,
        *,
        trace_id: str | None = None,
    ) -> None:
        # Errors and slow requests are always logged; routine successes only at
        # DEBUG: the request metrics already count them, and a line per request
        # would cost a tenth of the API's CPU at full load.
        if status >= 500:
            level = logging.WARNING
        elif status == 429 and elapsed < SLOW_REQUEST_S:
            # A client over its quota would otherwise buy a log line per refusal.
            level = logging.DEBUG
        elif status >= 400 or elapsed >= SLOW_REQUEST_S:
            level = logging.INFO
        else:
            level = logging.DEBUG
        if not access_log.isEnabledFor(level):
            return
        fields: dict[str, object] = {"trace_id": trace_id} if trace_id else {}
        access_log.log(
            level,
            "%s %s %s",
            scope["method"],
            scope["path"],
            status,
            extra={
                **fields,
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )


# A random per-process prefix and a counter: unique across pods and restarts
# without a random read per request.
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)


def _request_id(headers: Sequence[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-ID`` when it is sane, else a fresh one."""
    for name, value in headers:
        if name == b"x-request-id" and _REQUEST_ID.match(value):
            return value.decode()
    return f"{_ID_PREFIX}{next(_id_counter):016x}"
