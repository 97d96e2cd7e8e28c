"""CSV export: every matching row, streamed in keyset chunks with constant memory.

The stream holds a pooled connection only while it fetches a chunk, so a slow
reader never pins one, and a client that disconnects mid-stream cancels the
generator between or during fetches; the pool gets its connection back either
way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from starlette.responses import StreamingResponse

Row = TypeVar("Row", bound=tuple[Any, ...])

MEDIA_TYPE = "text/csv; charset=utf-8"
CHUNK_ROWS = 20_000


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
    """The header, then ``first`` and every later chunk, rendered row by row."""
    yield line(header).encode()
    rows = first
    while rows:
        yield "".join([render(row) for row in rows]).encode()
        if len(rows) < CHUNK_ROWS:
            return
        rows = await fetch_after(rows[-1])


def response(
    body: AsyncIterator[bytes], headers: Mapping[str, str], filename: str
) -> StreamingResponse:
    """A streamed CSV download named ``filename``."""
    all_headers = {**headers, "Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(body, headers=all_headers, media_type=MEDIA_TYPE)
