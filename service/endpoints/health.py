"""``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics``."""

from __future__ import annotations

import asyncio

import psycopg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import metrics, queries
from service.models import Health
from service.openapi import Operation
from service.problems import unavailable
from service.state import AppState
from warehouse.errors import DatabaseUnavailable

# The database's share of readiness: the answer (200 or 503) comes within
# READY_PROMISE_S, the README's promise, well inside the probe's timeout.
READY_TIMEOUT_S = 1.5
READY_PROMISE_S = 2.0
_OK = b'{"status":"ok"}'
_NO_STORE = {"Cache-Control": "no-store"}


async def healthz(request: Request) -> Response:
    """The process answers; never touches the database (a restart would not fix it)."""
    return Response(_OK, headers=_NO_STORE, media_type="application/json")


async def readyz(request: Request) -> Response:
    """The database answers within a short time; else 503 so traffic goes elsewhere."""
    state: AppState = request.app.state.warehouse
    try:
        await state.pool.run(queries.ping, timeout=READY_TIMEOUT_S)
    except (DatabaseUnavailable, psycopg.Error) as exc:
        return unavailable(request, type(exc).__name__)
    return Response(_OK, headers=_NO_STORE, media_type="application/json")


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text exposition; refreshes the pool and freshness figures first."""
    state: AppState = request.app.state.warehouse
    metrics.record_pool(state.pool)
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await state.freshness.get()
    except (TimeoutError, DatabaseUnavailable, psycopg.Error):
        pass  # the freshness gauges keep their last values; the scrape must not fail
    body, content_type = metrics.exposition()
    return Response(body, headers=_NO_STORE, media_type=content_type)


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False),
]

OPERATIONS = [
    Operation(
        path="/healthz",
        summary="Liveness",
        description="200 while the process serves requests. Never touches the database.",
        tag="operations",
        ok=(Health,),
        problems=(),
        cached=False,
    ),
    Operation(
        path="/readyz",
        summary="Readiness",
        description=(
            f"200 when the database answers within {READY_TIMEOUT_S:g} s, "
            f"else 503 with `Retry-After`; either within {READY_PROMISE_S:g} s."
        ),
        tag="operations",
        ok=(Health,),
        problems=(503,),
        cached=False,
    ),
]
