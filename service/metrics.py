"""Prometheus metrics of the API (names are a contract with the dashboards and alerts).

With ``PROMETHEUS_MULTIPROC_DIR`` set (several workers), prometheus-client
keeps values in shared files and ``/metrics`` aggregates every process;
gauges say how to combine them.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from psycopg_pool import AsyncConnectionPool

from service.queries import Freshness

PREFIX = "weather_warehouse"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=BUCKETS,
)
IN_FLIGHT = Gauge(
    f"{PREFIX}_http_requests_in_flight",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    f"{PREFIX}_db_pool_size",
    "Connections the pool holds (idle and in use).",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    f"{PREFIX}_db_pool_connections_in_use",
    "Connections lent out to requests.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    f"{PREFIX}_db_pool_requests_waiting",
    "Requests waiting for a connection.",
    ["pool"],
    multiprocess_mode="livesum",
)
PAGE_CACHE = Counter(
    f"{PREFIX}_response_cache_lookups",
    "JSON pages looked up in the in-process cache of rendered pages, by result (hit, miss).",
    ["result"],
)
PAGE_CACHE_HIT = PAGE_CACHE.labels(result="hit")
PAGE_CACHE_MISS = PAGE_CACHE.labels(result="miss")
LAST_INGEST_SUCCESS = Gauge(
    f"{PREFIX}_last_ingest_success_timestamp_seconds",
    "Unix time the latest successful ingest run finished (0 if none).",
    multiprocess_mode="max",
)
LATEST_OBSERVATION = Gauge(
    f"{PREFIX}_latest_observation_timestamp_seconds",
    "Midnight UTC of the newest observation day, as Unix time (0 if none).",
    multiprocess_mode="max",
)


class RequestMetrics:
    """Counts and times requests, with the labelled children cached for speed."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._timers: dict[tuple[str, str], Histogram] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = REQUESTS.labels(method, route, str(status))
            self._counters[(method, route, status)] = counter
        counter.inc()
        timer = self._timers.get((method, route))
        if timer is None:
            timer = self._timers[(method, route)] = DURATION.labels(method, route)
        timer.observe(seconds)


def record_pool(pool: AsyncConnectionPool) -> None:
    """Copy the pool's current figures into the gauges."""
    stats = pool.get_stats()
    name = pool.name
    size = stats.get("pool_size", 0)
    POOL_SIZE.labels(name).set(size)
    POOL_IN_USE.labels(name).set(size - stats.get("pool_available", 0))
    POOL_WAITING.labels(name).set(stats.get("requests_waiting", 0))


def record_freshness(freshness: Freshness) -> None:
    """Copy the ingest and data freshness into the gauges."""
    success = freshness.last_success_at
    LAST_INGEST_SUCCESS.set(success.timestamp() if success is not None else 0)
    latest = freshness.latest_observation
    midnight = datetime.combine(latest, time(), UTC).timestamp() if latest is not None else 0
    LATEST_OBSERVATION.set(midnight)


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
