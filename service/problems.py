"""RFC 9457 problem details: every error the API sends is ``application/problem+json``.

Handlers here turn Starlette's HTTP exceptions (404, 405), validation errors
(400 naming the parameter), database outages (503 with ``Retry-After``) and
bugs (500, details only in the log, tied to the request id) into one shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
import psycopg
import psycopg_pool
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from warehouse.errors import DatabaseTimeout, DatabaseUnavailable, WarehouseError

log = logging.getLogger("service")

MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_S = 5


class ApiProblem(Exception):
    """An error the API answers with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def bad_parameter(parameter: str, detail: str) -> ApiProblem:
    """A 400 naming one parameter."""
    return ApiProblem(400, f"{parameter}: {detail}", errors=[(parameter, detail)])


# What a parameter with a pattern holds, in words, for the 400 that refuses it.
EXPECTED = {
    "bbox": "a bounding box: west,south,east,north in degrees (e.g. -91,39,-87,42)",
    "q": "a station id prefix or words of a station name, with at least one letter or digit",
    "station_id": "a station id: capital letters, digits, '_' or '-' (e.g. USC00110072)",
    "name": "a file name: letters, digits, '.', '_' or '-', without folders",
    "cursor": "a cursor copied from the `next` of a previous page",
}


def from_validation(exc: ValidationError) -> ApiProblem:
    """A 400 naming every parameter pydantic rejected."""
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        location = error["loc"]
        parameter = str(location[0]) if location else "query"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "string_pattern_mismatch":  # never show a regex to people
            message = f"expected {EXPECTED.get(parameter, 'a value of the form /docs shows')}"
        errors.append((parameter, message))
    detail = "; ".join(f"{name}: {message}" for name, message in errors)
    return ApiProblem(400, detail, errors=errors)


def response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    errors: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem+json response for ``request``."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    state = request.scope.get("state", {})
    if request_id := state.get("request_id"):
        body["request_id"] = request_id
    if status >= 500 and (trace_id := state.get("trace_id")):
        body["trace_id"] = trace_id  # the X-Ray trace of the failure
    if errors:
        body["errors"] = [{"parameter": name, "detail": message} for name, message in errors]
    all_headers = {"Cache-Control": "no-store", **(headers or {})}
    return Response(orjson.dumps(body), status, all_headers, media_type=MEDIA_TYPE)


async def api_problem(request: Request, exc: Exception) -> Response:
    """Handler for :class:`ApiProblem`."""
    assert isinstance(exc, ApiProblem)
    return response(request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers)


async def http_exception(request: Request, exc: Exception) -> Response:
    """Handler for Starlette's own 404 and 405 (keeps its ``Allow`` header)."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    if exc.status_code == 404 and detail is None:
        detail = f"no resource at {request.url.path}"
    if exc.status_code == 405 and detail is None:
        detail = f"{request.method} is not allowed here"
    return response(request, exc.status_code, detail, headers=exc.headers)


def unavailable(request: Request, reason: str) -> Response:
    """A 503 that tells clients and load balancers when to try again."""
    return response(
        request,
        503,
        f"the database is unavailable ({reason}); try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def database_error(request: Request, exc: Exception) -> Response:
    """Handler for a database that is away, overloaded or too slow: 503, never 500."""
    if isinstance(exc, psycopg_pool.PoolTimeout):
        reason = "no connection available in time"
    elif isinstance(exc, psycopg.errors.QueryCanceled):
        reason = "the query exceeded its time limit"
    else:
        reason = "connection failed"
    log.warning(
        "database unavailable",
        extra={"error": type(exc).__name__, "path": request.url.path},
    )
    return unavailable(request, reason)


async def warehouse_error(request: Request, exc: Exception) -> Response:
    """Handler for the warehouse's own errors: their HTTP status, their message."""
    assert isinstance(exc, WarehouseError)
    if isinstance(exc, DatabaseTimeout):
        log.warning("database timeout", extra={"error": exc.message, "path": request.url.path})
        return unavailable(request, exc.message)
    if isinstance(exc, DatabaseUnavailable):
        return unavailable(request, "connection failed")
    if exc.http_status >= 500:
        return await internal_error(request, exc)
    return response(request, exc.http_status, exc.message)


async def internal_error(request: Request, exc: Exception) -> Response:
    """Handler for bugs: a bare 500 for the client, the traceback in the log."""
    request_id = request.scope.get("state", {}).get("request_id")
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"request_id": request_id, "path": request.url.path, "method": request.method},
    )
    return response(request, 500, "an internal error occurred; quote the request id")
