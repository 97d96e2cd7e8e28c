"""Request traces: the maintained OpenTelemetry ASGI middleware, behind a sampling gate.

The request span (a server span named ``GET /api/weather`` after the route
template, with ``http.route``) comes from ``opentelemetry-instrumentation-asgi``;
below it, the pool wait (``warehouse.db``), each SQL statement
(``opentelemetry-instrumentation-psycopg``) and the CSV stream
(``service.lists.csv_stream``). Probes and scrapes are not traced. The Starlette
instrumentation wraps the same middleware but cannot exclude URLs or the
per-message spans except through import-time environment variables.

Why a gate: the middleware and the psycopg wrappers do most of their work
(attributes, context, a non-recording span per statement) before the SDK's
sampler says no, so an unsampled request cost almost as much as a sampled one.
The gate is the sampler: parent-based (an incoming ``traceparent`` decides by
its sampled flag), and for a new trace at most ``TRACING_TRACES_PER_SECOND``
per process plus ``OTEL_TRACES_SAMPLER_ARG`` of the rest
(:class:`warehouse.sampling.RootSampler`). A request it keeps runs in the
middleware with :func:`warehouse.sampling.traced` true, which the pool, the
SQL and the CSV stream check; one it leaves out goes straight to the app and
runs no OpenTelemetry code at all.
"""

from __future__ import annotations

import re
from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.applications import Starlette
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from warehouse.sampling import RootSampler, tracing_this
from warehouse.tracing import current_trace_id

__all__ = ["SampledTracing", "current_trace_id", "instrument"]

# Many, cheap, uninteresting: a trace each would cost more than it tells.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# W3C trace context: version-traceid-parentid-flags; bit 0 of flags is "sampled".
_TRACEPARENT = re.compile(rb"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-([0-9a-f]{2})")


def instrument(app: Starlette, per_second: float, ratio: float) -> None:
    """Trace ``app``'s requests as the gate samples them (outermost middleware, so added last)."""

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
        SampledTracing,
        new_traces=RootSampler(per_second, ratio),
        default_span_details=span_details,
        # One span per request, not one more per ASGI message sent or received.
        exclude_spans=["receive", "send"],
    )


class SampledTracing(OpenTelemetryMiddleware):
    """The OpenTelemetry ASGI middleware for the requests the gate samples; none for the rest."""

    def __init__(self, app: ASGIApp, /, *, new_traces: RootSampler, **options: Any) -> None:
        super().__init__(app, **options)
        self.new_traces = new_traces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.sampled(scope):
            token = tracing_this.set(True)
            try:
                await super().__call__(scope, receive, send)
            finally:
                tracing_this.reset(token)
            return
        # Lifespan, probes and unsampled requests: straight through, no tracing code.
        await self.app(scope, receive, send)

    def sampled(self, scope: Scope) -> bool:
        """Whether to trace this request: its caller's decision if it sent one, else new."""
        if scope["path"] in UNTRACED_PATHS:
            return False
        for name, value in scope["headers"]:
            if name == b"traceparent":
                found = _TRACEPARENT.fullmatch(value.strip().lower())
                if found:
                    return bool(int(found.group(1), 16) & 1)
                break  # malformed: ignored, as the propagator ignores it
        return self.new_traces()
