"""OpenTelemetry traces for the API and the ingest job: off unless ``TRACING_ENABLED``.

``setup`` installs the SDK once per process: a parent-based sampler whose new
traces are at most ``TRACING_TRACES_PER_SECOND`` plus ``OTEL_TRACES_SAMPLER_ARG``
of the rest (:mod:`warehouse.sampling`), a batching OTLP/HTTP exporter (endpoint
from the standard ``OTEL_EXPORTER_OTLP_*`` variables) and the maintained psycopg
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

from warehouse import sampling
from warehouse.settings import Settings

log = logging.getLogger("warehouse.tracing")

tracer = trace.get_tracer("weather-warehouse")
F = TypeVar("F", bound=Callable[..., Any])


def setup(settings: Settings, service_name: str, *, sampled_by_caller: bool = False) -> bool:
    """Start exporting spans when tracing is enabled; True if it is.

    ``sampled_by_caller``: the API, whose request gate samples before any span
    exists and marks the requests it keeps (:func:`warehouse.sampling.traced`).
    The SDK then records exactly those as new traces; the API's pool hands
    unsampled requests plain psycopg cursors (:class:`warehouse.db.TracedPool`).
    """
    if not settings.tracing_enabled:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased

    resource = Resource.create({"service.name": settings.otel_service_name or service_name})
    if sampled_by_caller:
        root = _decided(sampling.traced, "the request gate")
    else:
        per_second, ratio = settings.tracing_traces_per_second, settings.otel_traces_sampler_arg
        root = _decided(sampling.RootSampler(per_second, ratio), f"{per_second}/s + {ratio}")
    provider = TracerProvider(resource=resource, sampler=ParentBased(root))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    # capture_parameters stays off: values may be personal or secret.
    PsycopgInstrumentor().instrument(enable_commenter=False, skip_dep_check=True)
    log.info(
        "tracing on",
        extra={"service": resource.attributes["service.name"],
               "traces_per_second": settings.tracing_traces_per_second,
               "sampling_ratio": settings.otel_traces_sampler_arg},
    )  # fmt: skip
    return True


def _decided(decide: Callable[[], bool], description: str) -> Any:
    """An SDK sampler for root spans that keeps a trace when ``decide()`` says so."""
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    class Decided(Sampler):
        def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
            if decide():
                return SamplingResult(Decision.RECORD_AND_SAMPLE, kwargs.get("attributes"))
            return SamplingResult(Decision.DROP)

        def get_description(self) -> str:
            return f"Decided({description})"

    return Decided()


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
