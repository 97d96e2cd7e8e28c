"""NDJSON export: every matching row as one JSON object a line (``application/x-ndjson``).

For clients that stream (``jq``, pandas ``read_json(lines=True)``, log
shippers): the same objects as a JSON page's ``data``, streamed in the same
keyset chunks as CSV (:func:`service.lists.csv_stream.chunks`), so memory stays
constant however many rows match.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import orjson

from service.lists.exports import ExportResponse, Slot

MEDIA_TYPE = "application/x-ndjson"
Row = tuple[Any, ...]


def renderer(to_json: Callable[[Row], dict[str, Any]]) -> Callable[[Sequence[Row]], bytes]:
    """A chunk renderer: each row's JSON object, one a line."""
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE

    def render_chunk(rows: Sequence[Row]) -> bytes:
        # One growing buffer, not a list of 20,000 small bytes objects: orjson
        # gives each of those kilobytes of capacity, which made a chunk peak at
        # ~80 MB and ran 3x slower.
        out = bytearray()
        for row in rows:
            out += dumps(to_json(row), option=option)
        return bytes(out)

    return render_chunk


def response(
    body: AsyncIterator[bytes], headers: Mapping[str, str], filename: str, slot: Slot
) -> ExportResponse:
    """A streamed NDJSON download named ``filename``; ``slot`` is given back when it ends."""
    all_headers = {**headers, "Content-Disposition": f'inline; filename="{filename}"'}
    return ExportResponse(body, slot, all_headers, MEDIA_TYPE)
