"""CSV export: every matching row, streamed in keyset chunks with constant memory.

The stream holds a pooled connection only while it fetches a chunk, so a slow
reader never pins one, and a client that disconnects mid-stream cancels the
generator between or during fetches; the pool gets its connection back either
way.

Memory per export is one rendered chunk: the rows are let go before the
first byte of it is sent, and it is sent in slices, so that the server's
write buffer holds a slice, not a chunk. The next chunk is fetched only when
the reader has taken this one (uvicorn waits for a paused transport to drain
before it accepts more), so a slow reader slows the export, never grows it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from opentelemetry import trace

from service.exports import ExportResponse, Slot
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
    header: Sequence[str],
    render: Callable[[Row], str],
) -> AsyncIterator[bytes]:
    """The header, then ``first`` and every later chunk, rendered row by row.

    The whole stream is one span (``csv.stream``, a child of the request's);
    the later chunks' pool waits and queries are its children. Not the current
    span across ``yield``: the generator resumes wherever the server iterates it.
    """
    span = tracer.start_span("csv.stream")
    sent = 0
    try:
        yield line(header).encode()
        rows = first
        while rows:
            last, complete = rows[-1], len(rows) < CHUNK_ROWS
            sent += len(rows)
            data = "".join([render(row) for row in rows]).encode()
            rows = ()  # before a slow reader keeps this generator waiting
            for start in range(0, len(data), SLICE_BYTES):
                yield data[start : start + SLICE_BYTES]
            del data
            if complete:
                return
            with trace.use_span(span):
                rows = await fetch_after(last)
    finally:
        span.set_attribute("csv.rows", sent)
        span.end()


def response(
    body: AsyncIterator[bytes], headers: Mapping[str, str], filename: str, slot: Slot
) -> ExportResponse:
    """A streamed CSV download named ``filename``; ``slot`` is given back when it ends."""
    all_headers = {**headers, "Content-Disposition": f'attachment; filename="{filename}"'}
    return ExportResponse(body, slot, all_headers, MEDIA_TYPE)
