"""HTTP caching: ``ETag`` and ``Last-Modified`` from the latest finished ingest run.

Data change only when an ingest run finishes, so the latest finished run is a
validator for every data response. It is read from the database at most once
a second per process (a single-flight refresh), and a request whose
``If-None-Match`` or ``If-Modified-Since`` still matches is answered 304,
once the request is known to be valid and its resource to exist: a 304
never stands in for a 400 or a 404 (RFC 9110 section 13.2.1).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from types import MappingProxyType
from typing import NamedTuple

from starlette.datastructures import Headers
from starlette.responses import Response

from service.queries import Freshness

# Long enough to spare the database under a burst, short enough that a new
# ingest run shows within a CDN's lifetime of a page.
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300, stale-if-error=3600"
NO_STORE = "no-store"
REFRESH_INTERVAL_S = 1.0


class FreshnessCache:
    """The current :class:`Freshness`, refreshed at most once per interval."""

    def __init__(
        self,
        load: Callable[[], Awaitable[Freshness]],
        interval_s: float = REFRESH_INTERVAL_S,
        on_refresh: Callable[[Freshness], None] | None = None,
    ) -> None:
        self._load = load
        self._interval = interval_s
        self._on_refresh = on_refresh
        self._value: Freshness | None = None
        self._loaded_at = -float("inf")
        self._flight: asyncio.Task[Freshness] | None = None

    async def get(self) -> Freshness:
        """The cached value, refreshed first if it is older than the interval.

        Concurrent callers share one refresh and its outcome: when the
        database does not answer, they all fail together at its deadline
        rather than each waiting for its own attempt in turn.
        """
        if time.monotonic() - self._loaded_at < self._interval and self._value is not None:
            return self._value
        if self._flight is None:
            self._flight = asyncio.create_task(self._refresh())
            self._flight.add_done_callback(_retrieve)
        # Shielded: a caller that goes away does not cancel the others' refresh.
        return await asyncio.shield(self._flight)

    async def _refresh(self) -> Freshness:
        try:
            value = await self._load()
        finally:
            self._flight = None
        self._value = value
        self._loaded_at = time.monotonic()
        if self._on_refresh is not None:
            self._on_refresh(value)
        return value

    def expire(self) -> None:
        """Forget the cached value (the next request reads it again)."""
        self._loaded_at = -float("inf")


def _retrieve(task: asyncio.Task[Freshness]) -> None:
    # Every waiter may have gone; mark the outcome seen so asyncio logs nothing.
    if not task.cancelled():
        task.exception()


@functools.lru_cache(maxsize=64)
def validators(freshness: Freshness, variant: str) -> Mapping[str, str]:
    """``ETag``, ``Last-Modified`` and ``Cache-Control`` for one representation.

    ``variant`` distinguishes representations of one URL (JSON or CSV, chosen
    by ``Accept``), so a cache never hands one out for the other. Memoised,
    hence read-only: callers copy it to add headers.
    """
    headers = {"Cache-Control": CACHE_CONTROL, "Vary": "Accept"}
    if freshness.run_id is None or freshness.finished_at is None:
        return MappingProxyType(headers)
    stamp = int(freshness.finished_at.timestamp() * 1_000_000)
    headers["ETag"] = f'W/"{freshness.run_id}-{stamp:x}-{variant}"'
    headers["Last-Modified"] = format_datetime(freshness.finished_at.astimezone(UTC), usegmt=True)
    return MappingProxyType(headers)


class Conditional(NamedTuple):
    """The validators of a response, and the 304 to send instead when they still match."""

    headers: Mapping[str, str]
    not_modified: Response | None


async def conditional(
    request_headers: Headers, freshness: FreshnessCache, variant: str
) -> Conditional:
    """Validators for the current data and the client's conditional headers.

    Call it only once the request is validated (and, for a single resource,
    once it is known to exist): the 304 it may return is a success.
    """
    headers = validators(await freshness.get(), variant)
    return Conditional(headers, not_modified(request_headers, headers))


def not_modified(request_headers: Headers, headers: Mapping[str, str]) -> Response | None:
    """A 304 when the client's validators still match, else ``None``."""
    etag = headers.get("ETag")
    if etag is None:
        return None
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        if _etag_matches(if_none_match, etag):
            return Response(status_code=304, headers=dict(headers))
        return None
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since is not None and _not_modified_since(
        if_modified_since, headers["Last-Modified"]
    ):
        return Response(status_code=304, headers=dict(headers))
    return None


def _etag_matches(header: str, etag: str) -> bool:
    # Weak comparison (RFC 9110 13.1.2): W/ prefixes do not matter.
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _not_modified_since(header: str, last_modified: str) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return parsedate_to_datetime(last_modified) <= since
