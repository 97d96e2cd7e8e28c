"""The OpenAPI 3.1 document, generated from the pydantic models that validate requests.

Each endpoint module lists its :class:`Operation` next to its routes; this
module turns the query models into parameters and the response models into
schemas under ``components``. Nothing here is written by hand twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from service.middleware.forwarded import UNCHECKED_PATHS
from service.models import Problem

REF = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# Every response header the API sends, described once (``components.headers``)
# and referred to by each response that carries it. Not listed: those of HTTP
# itself (Content-Type, which OpenAPI ignores, Content-Length,
# Transfer-Encoding, Date, Server). tests/api/test_response_headers.py walks
# live responses against this: a new header must be added here.
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": (
            "The request's id: the caller's `X-Request-ID` when it is 1-64 of "
            "`[A-Za-z0-9._:-]`, else a fresh one. Also in the logs and in problem bodies."
        ),
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": (
            "Data: `public, max-age=60, stale-while-revalidate=300, stale-if-error=3600`; "
            "health, uploads and problems: `no-store`."
        ),
        "schema": {"type": "string"},
    },
    "Vary": {
        "description": (
            "Data: `Accept, Accept-Encoding` (JSON, CSV and NDJSON of one URL, identity or "
            "gzip, are different representations); any other answer that may be gzip-coded: "
            "`Accept-Encoding`."
        ),
        "schema": {"type": "string"},
    },
    "Content-Encoding": {
        "description": (
            "`gzip` when `Accept-Encoding` allows it; the gzip representation has its own "
            "`ETag` (`-gzip` before the closing quote)."
        ),
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": (
            "Weak validator of the data version (the latest finished ingest run) and the "
            "representation; absent before the first run. Send it back in `If-None-Match`."
        ),
        "schema": {"type": "string"},
    },
    "Last-Modified": {
        "description": (
            "When the latest ingest run finished (`last_run.finished_at` of `/api/freshness`); "
            "absent before the first run."
        ),
        "schema": {"type": "string"},
    },
    "Link": {
        "description": '`<next page URL>; rel="next"` (RFC 8288) when there is a next page.',
        "schema": {"type": "string"},
    },
    "Content-Disposition": {
        "description": (
            'CSV: `attachment; filename="<list>.csv"`; NDJSON: `inline; filename="<list>.ndjson"`.'
        ),
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
    "WWW-Authenticate": {
        "description": "The bearer challenge (RFC 6750).",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "Where the accepted file was stored.",
        "schema": {"type": "string"},
    },
    # CORS, on answers to a request whose Origin is in CORS_ALLOW_ORIGINS.
    "Access-Control-Allow-Origin": {
        "description": "The request's `Origin`, when `CORS_ALLOW_ORIGINS` allows it (or `*`).",
        "schema": {"type": "string"},
    },
    "Access-Control-Expose-Headers": {
        "description": "The headers a browser script may read (`Link`, `ETag`, `RateLimit`, ...).",
        "schema": {"type": "string"},
    },
    # draft-ietf-httpapi-ratelimit-headers, on every /api/ answer when the rate
    # limit is on (service.middleware.ratelimit).
    "RateLimit-Policy": {
        "description": 'The quota: `"per-client";q=<requests>;w=<seconds>` (per replica).',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": (
            'What is left: `"per-client";r=<requests left>;t=<seconds until the quota is whole>`.'
        ),
        "schema": {"type": "string"},
    },
}
_VALIDATORS = ("Cache-Control", "Vary", "ETag", "Last-Modified")
_RATE_LIMIT = ("RateLimit-Policy", "RateLimit")
_CORS = ("Access-Control-Allow-Origin", "Access-Control-Expose-Headers")


@dataclass(frozen=True)
class Operation:
    """One documented operation: where, what it takes, what it answers."""

    path: str
    summary: str
    description: str
    tag: str
    query: type[BaseModel] | None = None
    ok: Sequence[type[BaseModel]] = ()
    method: str = "get"
    status: int = 200
    csv_header: Sequence[str] = ()  # the CSV columns, for lists that offer CSV
    path_parameters: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    problems: Sequence[int] = (400, 406, 503)
    request_body: dict[str, Any] | None = None
    secured: bool = False
    cached: bool = True
    headers: Sequence[str] = ()  # further headers of the success response (see HEADERS)


def document(operations: Iterable[Operation], *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``operations``."""
    operations = list(operations)
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for op in operations:
        models.extend((model, "serialization") for model in op.ok)
        if op.query is not None:
            models.append((op.query, "validation"))
    keys, schemas = models_json_schema(models, ref_template=REF)
    components: dict[str, Any] = dict(schemas.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        query_schema = None
        if op.query is not None:
            query_schema = _resolve(keys[(op.query, "validation")], components)
        paths.setdefault(op.path, {})[op.method] = _operation(op, query_schema, keys)
    for op in operations:
        if op.query is not None:
            # Query models become parameters; they are not payloads.
            components.pop(op.query.__name__, None)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Daily weather observations, yearly and monthly statistics, US corn yield, "
                "station search and data freshness. "
                "Errors are RFC 9457 problem details (`application/problem+json`). "
                "Lists are keyset-paginated: follow `next` (also in the `Link` header), or "
                "pass `next_cursor` as `cursor`; or stream every row as CSV or NDJSON. "
                "gzip when `Accept-Encoding` allows it."
            ),
        },
        "paths": paths,
        "components": {"schemas": components, "headers": HEADERS},
    }
    if any(op.secured for op in operations):
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    return doc


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = components[ref.rsplit("/", 1)[-1]]
    return resolved


def _operation(
    op: Operation,
    query_schema: dict[str, Any] | None,
    keys: Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]],
) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in op.path_parameters.items()
    ]
    if query_schema is not None:
        parameters.extend(_query_parameters(query_schema))
    responses: dict[str, Any] = {str(op.status): _ok_response(op, keys)}
    if op.cached:
        responses["304"] = {
            "description": "Not modified since the `If-None-Match` validator.",
            "headers": _headers("X-Request-ID", *_VALIDATORS),
        }
    for code in op.problems:
        responses[str(code)] = _problem_response(code)
    if op.path not in UNCHECKED_PATHS:  # a host that is not served (service.middleware.forwarded)
        responses["421"] = _problem_response(421)
    if op.path.startswith("/api/"):
        # Only when RATE_LIMIT_REQUESTS is set, but a client should be ready for it.
        responses["429"] = _problem_response(429)
        for response in responses.values():
            response.setdefault("headers", {}).update(_headers(*_RATE_LIMIT, *_CORS))
    responses["500"] = _problem_response(500)
    body: dict[str, Any] = {
        "summary": op.summary,
        "description": op.description,
        "tags": [op.tag],
        "operationId": _operation_id(op),
        "parameters": parameters,
        "responses": responses,
    }
    if op.request_body is not None:
        body["requestBody"] = op.request_body
    if op.secured:
        body["security"] = [{"bearer": []}]
    return body


def _operation_id(op: Operation) -> str:
    words = [p.strip("{}") for p in op.path.split("/") if p and p != "api"]
    return op.method + "_" + "_".join(words)


def _ok_response(
    op: Operation, keys: Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]]
) -> dict[str, Any]:
    content: dict[str, Any] = {}
    refs = [keys[(model, "serialization")] for model in op.ok]
    if refs:
        content["application/json"] = {"schema": refs[0] if len(refs) == 1 else {"oneOf": refs}}
    if op.csv_header:
        content["text/csv"] = {
            "schema": {"type": "string"},
            "example": ",".join(op.csv_header) + "\r\n",
        }
        # Every list that streams CSV streams NDJSON too: one `data` object a line.
        content["application/x-ndjson"] = {"schema": {"type": "string"}}
    names = ["X-Request-ID", *(_VALIDATORS if op.cached else ("Cache-Control",))]
    if op.csv_header:
        names += ["Link", "Content-Disposition"]
    if content:
        names.append("Content-Encoding")
        if "Vary" not in names:
            names.append("Vary")
    response: dict[str, Any] = {
        "description": HTTPStatus(op.status).phrase,
        "headers": _headers(*names, *op.headers),
    }
    if content:
        response["content"] = content
    return response


def _headers(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _problem_response(code: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": HTTPStatus(code).phrase,
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }
    names = ["X-Request-ID", "Cache-Control", "Vary"]
    if code in (429, 503):
        names.append("Retry-After")
    if code == 401:
        names.append("WWW-Authenticate")
    response["headers"] = _headers(*names)
    return response


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.get("description")
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _without_null(prop),
        }
        if description:
            param["description"] = description
        if param["schema"].get("type") == "array":
            param["style"] = "form"
            param["explode"] = True
        parameters.append(param)
    return parameters


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch."""
    schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
    if schema.get("default", 0) is None:
        del schema["default"]
    variants = schema.get("anyOf")
    if variants is not None:
        kept = [v for v in variants if v.get("type") != "null"]
        del schema["anyOf"]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    return schema
