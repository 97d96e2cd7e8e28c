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
sampler says no, so an unsampled request cost almost as much as a sampled one
(measured in bench/tracing.py: about 0.19 ms a request at any ratio). The gate
draws the ratio first, like the SDK's parent-based sampler (an incoming
``traceparent`` decides by its sampled flag), and runs what it leaves out with
instrumentation suppressed and without the middleware at all.
"""

from __future__ import annotations

import random
import re
from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.utils import suppress_instrumentation
from starlette.applications import Starlette
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from warehouse.tracing import current_trace_id

__all__ = ["SampledTracing", "current_trace_id", "instrument"]

# Many, cheap, uninteresting: a trace each would cost more than it tells.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# W3C trace context: version-traceid-parentid-flags; bit 0 of flags is "sampled".
_TRACEPARENT = re.compile(rb"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-([0-9a-f]{2})")


def instrument(app: Starlette, ratio: float) -> None:
    """Trace ``ratio`` of the requests to ``app`` (outermost middleware, so added last)."""

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
        ratio=ratio,
        default_span_details=span_details,
        # One span per request, not one more per ASGI message sent or received.
        exclude_spans=["receive", "send"],
    )


class SampledTracing(OpenTelemetryMiddleware):
    """The OpenTelemetry ASGI middleware for the requests the gate samples; none for the rest."""

    def __init__(self, app: ASGIApp, /, *, ratio: float, **options: Any) -> None:
        super().__init__(app, **options)
        self.ratio = ratio

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.sampled(scope):
            await super().__call__(scope, receive, send)
            return
        # Lifespan, probes and unsampled requests: no span, here or below.
        with suppress_instrumentation():
            await self.app(scope, receive, send)

    def sampled(self, scope: Scope) -> bool:
        """Whether to trace this request: its caller's decision if it sent one, else the ratio."""
        if scope["path"] in UNTRACED_PATHS:
            return False
        for name, value in scope["headers"]:
            if name == b"traceparent":
                found = _TRACEPARENT.fullmatch(value.strip().lower())
                if found:
                    return bool(int(found.group(1), 16) & 1)
                break  # malformed: ignored, as the propagator ignores it
        return random.random() < self.ratio  # noqa: S311 (a sampling draw, not a secret)
