"""CSV export: every matching row, streamed in keyset chunks with constant memory.

The chunked stream (:func:`chunks`) serves the NDJSON export too.

The stream holds a pooled connection only while it fetches a chunk, so a slow
reader never pins one, and a client that disconnects mid-stream cancels the
generator between or during fetches; the pool gets its connection back either
way.

Memory per export is one rendered chunk and the rows of the next: the rows
are let go before the first byte of a chunk is sent, and it is sent in
slices, so that the server's write buffer holds a slice, not a chunk. The
next chunk's query starts as this one is rendered (PostgreSQL reads while the
API formats and sends), and the one after only once the reader has taken
this one (uvicorn waits for a paused transport to drain before it accepts
more), so a slow reader slows the export, never grows it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from opentelemetry import trace

from service.lists.exports import ExportResponse, Slot
from warehouse import sampling
from warehouse.tracing import tracer

Row = TypeVar("Row", bound=tuple[Any, ...])

MEDIA_TYPE = "text/csv; charset=utf-8"
CHUNK_ROWS = 5_000
SLICE_BYTES = 64 * 1024  # uvicorn's write buffer high-water mark


def line(values: Iterable[object]) -> str:
    """One CSV record (RFC 4180): empty for null, quoted where needed."""
    return ",".join(_field(value) for value in values) + "\r\n"


def _field(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


async def chunks(
    first: Sequence[Row],
    fetch_after: Callable[[Row], Awaitable[Sequence[Row]]],
    head: bytes,
    render: Callable[[Sequence[Row]], bytes],
) -> AsyncIterator[bytes]:
    """``head``, then ``first`` and every later chunk, each rendered whole.

    The next chunk's query starts before this one is rendered and sent.
    Shared by every streamed export (CSV here, NDJSON in :mod:`service.lists.ndjson`).
    The whole stream is one span (``csv.stream``, a child of the request's); the
    later chunks' pool waits and queries are its children. Not the current span
    across ``yield``: the generator resumes wherever the server iterates it.
    """
    # None in a request left unsampled: a span here would be a root of its own,
    # and that request runs no tracing code.
    span = tracer.start_span("csv.stream") if sampling.traced() else None
    sent = 0
    pending: asyncio.Future[Sequence[Row]] | None = None
    try:
        if head:
            yield head
        rows = first
        while rows:
            sent += len(rows)
            if len(rows) >= CHUNK_ROWS:
                if span is None:
                    pending = asyncio.ensure_future(fetch_after(rows[-1]))
                else:
                    with trace.use_span(span):  # the task copies this context: children
                        pending = asyncio.ensure_future(fetch_after(rows[-1]))
            data = render(rows)
            rows = ()  # before a slow reader keeps this generator waiting
            for start in range(0, len(data), SLICE_BYTES):
                yield data[start : start + SLICE_BYTES]
            del data
            if pending is None:
                return
            rows = await pending
            pending = None
    finally:
        if pending is not None:
            # The client went away: stop the read so its connection goes back.
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        if span is not None:
            span.set_attribute("csv.rows", sent)
            span.end()


def renderer(render: Callable[[Row], str]) -> Callable[[Sequence[Row]], bytes]:
    """A chunk renderer from a CSV line renderer."""

    def render_chunk(rows: Sequence[Row]) -> bytes:
        return "".join([render(row) for row in rows]).encode()

    return render_chunk


def response(
    body: AsyncIterator[bytes], headers: Mapping[str, str], filename: str, slot: Slot
) -> ExportResponse:
    """A streamed CSV download named ``filename``; ``slot`` is given back when it ends."""
    all_headers = {**headers, "Content-Disposition": f'attachment; filename="{filename}"'}
    return ExportResponse(body, slot, all_headers, MEDIA_TYPE)
