"""Request traces: the maintained OpenTelemetry ASGI middleware around the whole app.

The request span (a server span named ``GET /api/weather`` after the route
template, with ``http.route``) comes from ``opentelemetry-instrumentation-asgi``;
below it, the pool wait (``warehouse.db``), each SQL statement
(``opentelemetry-instrumentation-psycopg``) and the CSV stream
(``service.csv_stream``). Probes and scrapes are not traced. The Starlette
instrumentation wraps the same middleware but cannot exclude URLs or the
per-message spans except through import-time environment variables.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.applications import Starlette
from starlette.routing import Match

from warehouse.tracing import current_trace_id

__all__ = ["current_trace_id", "instrument"]

# Many, cheap, uninteresting: a trace each would cost more than it tells.
UNTRACED_PATHS = r"/(healthz|readyz|metrics)(\?.*)?$"


def instrument(app: Starlette) -> None:
    """Wrap ``app`` in the OpenTelemetry ASGI middleware (outermost, so added last)."""

    def span_details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        # Named by the route template, never the raw path (one name per route).
        method = scope.get("method", "HTTP")
        for route in app.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                template = getattr(route, "path", "unmatched")
                return f"{method} {template}", {"http.route": template}
        return method, {}

    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls=UNTRACED_PATHS,
        default_span_details=span_details,
        # One span per request, not one more per ASGI message sent or received.
        exclude_spans=["receive", "send"],
    )
