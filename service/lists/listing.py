"""The one flow every list endpoint follows.

query string → validated query model → representation (JSON, CSV or NDJSON, else 406)
→ cursor (400 if bad) → validators (304 if unchanged) → a page kept from before, or
keyset query → rows in the asked units → page with ``next`` (body and ``Link``
header), or a CSV or NDJSON stream.

Each resource module describes itself with a :class:`Listing`; this module
knows nothing of weather, statistics or yields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import unquote_plus

import orjson
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from service import caching, metrics
from service.lists import csv_stream, ndjson, negotiation
from service.lists.pagination import Cursors, scope_of
from service.lists.response_cache import Page
from service.middleware import forwarded
from service.params import Format, ListQuery
from service.problems import bad_parameter, from_validation
from service.queries import Conn
from service.state import AppState
from service.units import Units

Q = TypeVar("Q", bound=ListQuery)
M = TypeVar("M", bound=BaseModel)
Row = tuple[Any, ...]
Key = tuple[Any, ...]
FORMATS = (Format.json, Format.csv, Format.ndjson)
# C0, DEL and C1 controls, and lone surrogates: in no parameter's alphabet.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Listing(Generic[Q]):
    """What makes one list endpoint: its query, its keyset, its rows in each unit system."""

    name: str
    query_model: type[Q]
    filters: Callable[[Q], tuple[object, ...]]
    key: Callable[[Row], Key]
    parse_key: Callable[[list[Any]], Key]
    fetch: Callable[[Conn, Q, Key | None, int], Awaitable[Sequence[Row]]]
    to_json: Mapping[Units, Callable[[Row], dict[str, Any]]]
    csv_header: Mapping[Units, Sequence[str]]
    to_csv: Mapping[Units, Callable[[Row], str]]
    # The fields a query keeps in each row (``index=``), None for all of them.
    fields: Callable[[Q], frozenset[str] | None] = lambda query: None


def parse_query(model: type[M], params: QueryParams) -> M:
    """Validate the query string with ``model``; a 400 names each bad parameter."""
    lists = _list_fields(model)
    data: dict[str, object] = {}
    for name in params:
        values = params.getlist(name)
        if bad := next(filter(None, map(_CONTROL.search, values)), None):
            # PostgreSQL text cannot hold NUL; no parameter means any of these.
            raise bad_parameter(name, f"contains the control character U+{ord(bad[0]):04X}")
        if name in lists:
            data[name] = values
        elif len(values) > 1:
            raise bad_parameter(name, "given more than once")
        else:
            data[name] = values[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from None


@functools.cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        field.alias or name
        for name, field in model.model_fields.items()
        if getattr(field.annotation, "__origin__", None) is list
    )


def endpoint(listing: Listing[Q]) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint serving ``listing``."""

    async def list_endpoint(request: Request) -> Response:
        query = parse_query(listing.query_model, request.query_params)
        fmt = negotiation.choose(request.headers.get("accept"), query.format, FORMATS)
        state: AppState = request.app.state.warehouse
        # The cursor is checked before the validators: a bad one is a 400, never a 304.
        after = _after(listing, state.cursors, _scope(listing, query), query.cursor)
        headers, unchanged = await caching.conditional(request.headers, state.freshness, fmt.value)
        if unchanged is not None:
            return unchanged
        if fmt is not Format.json:
            return await _export(listing, state, query, fmt, after=after, headers=headers)
        return await _cached_page(listing, state, request, query, after=after, headers=headers)

    list_endpoint.__name__ = f"list_{listing.name}"
    return list_endpoint


def _scope(listing: Listing[Q], query: Q) -> str:
    return scope_of(listing.name, *listing.filters(query))


def _after(listing: Listing[Q], cursors: Cursors, scope: str, cursor: str | None) -> Key | None:
    if cursor is None:
        return None
    values = cursors.decode(scope, cursor)
    try:
        return listing.parse_key(values)
    except (TypeError, ValueError, IndexError):
        # Only reachable with a validly signed cursor of an older layout.
        raise bad_parameter("cursor", "from an older version of the API; start again") from None


async def _cached_page(
    listing: Listing[Q],
    state: AppState,
    request: Request,
    query: Q,
    *,
    after: Key | None,
    headers: Mapping[str, str],
) -> Response:
    """A JSON page from the response cache, or rendered (and kept) now."""
    # The ETag names the data version (the latest finished run) exactly.
    version = headers.get("ETag")
    key = (listing.name, *_link_base(request), request.scope["query_string"])
    cached = state.pages.get(version, key) if state.pages.enabled else None
    if cached is None:
        cached = await _page(listing, state, request, query, after=after, headers=headers)
        if state.pages.enabled:
            metrics.PAGE_CACHE_MISS.inc()
            state.pages.put(version, key, cached)
    else:
        metrics.PAGE_CACHE_HIT.inc()
    return Response(cached.body, 200, dict(cached.headers), media_type=negotiation.JSON)


def _link_base(request: Request) -> tuple[str, str, str]:
    """What this request's links are built from (:func:`forwarded.link`): base, prefix, path."""
    scope = request.scope
    base = scope.get("state", {}).get(forwarded.STATE_KEY) or request.headers.get("host", "")
    return str(base), scope.get("root_path", ""), scope["path"]


async def _page(
    listing: Listing[Q],
    state: AppState,
    request: Request,
    query: Q,
    *,
    after: Key | None,
    headers: Mapping[str, str],
) -> Page:
    rows = await state.pool.run(lambda conn: listing.fetch(conn, query, after, query.limit + 1))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_url = cursor = None
    if more:
        cursor = state.cursors.encode(_scope(listing, query), listing.key(rows[-1]))
        next_url = _with_cursor(request, cursor)
        headers = {**headers, "Link": f'<{next_url}>; rel="next"'}
    to_json = _kept(listing.to_json[query.units], listing.fields(query))
    body = {
        "data": [to_json(row) for row in rows],
        "next": next_url,
        "next_cursor": cursor,
        "units": query.units.value,
        "limit": query.limit,
        "count": len(rows),
    }
    return Page(orjson.dumps(body), headers)


def _with_cursor(request: Request, cursor: str) -> str:
    """This request's public URL with ``cursor`` replaced (cheaper than ``URL`` objects)."""
    query = request.scope["query_string"].decode("latin-1")
    kept = [part for part in query.split("&") if part and _name(part) != "cursor"]
    kept.append(f"cursor={cursor}")  # base64url and '.': nothing to escape
    return forwarded.link(request, "&".join(kept))


def _name(parameter: str) -> str:
    return unquote_plus(parameter.partition("=")[0])


async def _export(
    listing: Listing[Q],
    state: AppState,
    query: Q,
    fmt: Format,
    *,
    after: Key | None,
    headers: Mapping[str, str],
) -> Response:
    """Every row after ``after`` as a CSV or NDJSON stream."""

    async def fetch(after: Key | None) -> Sequence[Row]:
        async with state.exports.fetching:
            return await state.pool.run(
                lambda conn: listing.fetch(conn, query, after, csv_stream.CHUNK_ROWS)
            )

    async def fetch_after(row: Row) -> Sequence[Row]:
        return await fetch(listing.key(row))

    slot = state.exports.claim()
    try:
        # The first chunk is read before the response starts, so that a database
        # outage is still a clean 503 rather than a truncated download.
        first = await fetch(after)
    except BaseException:
        slot.release()
        raise
    kept = listing.fields(query)
    to_json = _kept(listing.to_json[query.units], kept)
    if fmt is Format.ndjson:
        render = ndjson.renderer(to_json)
        body = csv_stream.chunks(first, fetch_after, b"", render)
        return ndjson.response(body, headers, f"{listing.name}.ndjson", slot)
    header = listing.csv_header[query.units]
    to_csv = listing.to_csv[query.units]
    if kept is not None:
        header = [name for name in header if name in kept]
        to_csv = lambda row: csv_stream.line(to_json(row).values())  # noqa: E731
    head = csv_stream.line(header).encode()
    body = csv_stream.chunks(first, fetch_after, head, csv_stream.renderer(to_csv))
    return csv_stream.response(body, headers, f"{listing.name}.csv", slot)


def _kept(
    to_json: Callable[[Row], dict[str, Any]], kept: frozenset[str] | None
) -> Callable[[Row], dict[str, Any]]:
    """``to_json`` keeping only the fields ``kept`` (all when None)."""
    if kept is None:
        return to_json
    return lambda row: {name: value for name, value in to_json(row).items() if name in kept}
