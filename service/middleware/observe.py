"""Request id, metrics and the access log of every request, in one cheap pass."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from collections.abc import Sequence
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import metrics
from service.middleware import tracing
from warehouse import sampling

access_log = logging.getLogger("service.access")

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
SLOW_REQUEST_S = 1.0


class Observe:
    """Request id, metrics and the access log, in one cheap pass (a pure ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = metrics.RequestMetrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope["headers"])
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # Kept in the scope: the 500 handler runs after the request span ended.
        # Only a traced request asks OpenTelemetry: an unsampled one runs none of its code.
        trace_id = state["trace_id"] = tracing.current_trace_id() if sampling.traced() else None
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
