"""OpenTelemetry traces for the API and the ingest job: off unless ``TRACING_ENABLED``.

``setup`` installs the SDK once per process: a parent-based ratio sampler
(``OTEL_TRACES_SAMPLER_ARG``), a batching OTLP/HTTP exporter (endpoint from the
standard ``OTEL_EXPORTER_OTLP_*`` variables) and the maintained psycopg
instrumentation, which makes every SQL statement a span carrying the statement
text but never its parameters. Without ``setup`` the API's tracer is a no-op,
so code may open spans unconditionally.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from warehouse.settings import Settings

log = logging.getLogger("warehouse.tracing")

tracer = trace.get_tracer("weather-warehouse")
F = TypeVar("F", bound=Callable[..., Any])


def setup(settings: Settings, service_name: str, *, sampled_by_caller: bool = False) -> bool:
    """Start exporting spans when tracing is enabled; True if it is.

    ``sampled_by_caller``: the caller draws the sampling ratio itself before any
    span exists (the API's request gate) and suppresses instrumentation for what
    it leaves out, so the SDK records every trace that reaches it.
    """
    if not settings.tracing_enabled:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased

    resource = Resource.create({"service.name": settings.otel_service_name or service_name})
    root = ALWAYS_ON if sampled_by_caller else TraceIdRatioBased(settings.otel_traces_sampler_arg)
    sampler = ParentBased(root)
    provider = TracerProvider(resource=resource, sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    # capture_parameters stays off: values may be personal or secret.
    PsycopgInstrumentor().instrument(enable_commenter=False, skip_dep_check=True)
    log.info(
        "tracing on",
        extra={"service": resource.attributes["service.name"],
               "sampling_ratio": settings.otel_traces_sampler_arg},
    )  # fmt: skip
    return True


def shutdown() -> None:
    """Send the spans still buffered (at the end of a job or server)."""
    provider = trace.get_tracer_provider()
    flush = getattr(provider, "shutdown", None)
    if flush is not None:
        flush()


def current_trace_id() -> str | None:
    """The current trace's id (32 hex digits) when it is sampled, else None.

    Only sampled traces reach X-Ray, so a logged id always leads to a trace.
    """
    context = trace.get_current_span().get_span_context()
    if context.is_valid and context.trace_flags.sampled:
        return format(context.trace_id, "032x")
    return None


def suppressed() -> bool:
    """True where instrumentation is switched off (a request the API chose not to trace).

    Spans started there anyway would become roots of traces of their own.
    """
    return not is_instrumentation_enabled()


def traced(name: str) -> Callable[[F], F]:
    """Decorator: run the (synchronous) function inside a span called ``name``."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(name):
                return func(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def annotate(**attributes: object) -> None:
    """Set attributes on the current span (nothing when it is not recorded).

    Values other than str, int, float and bool (None, say) are left out.
    """
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(
            {k: v for k, v in attributes.items() if isinstance(v, str | int | float | bool)}
        )
