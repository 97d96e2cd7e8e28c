"""A limit on the streamed exports (CSV) one server runs at once.

An export runs for seconds to minutes and holds its rendered chunk for as
long as its reader is slow, so their number bounds the API's memory and the
share of the pool they take. Beyond the limit an export is refused at once
with a 503 and ``Retry-After``; nothing queues.
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import AsyncIterator, Callable, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from service.problems import RETRY_AFTER_S, ApiProblem

# Exports fetching a chunk at the same time. Each fetch holds a pooled
# connection and a chunk of rows as Python objects (a few MiB): exports take
# turns, so that they never crowd the pages out of the pool, and their rows
# in memory stay bounded however many exports run.
FETCHES_AT_ONCE = 2


class ExportSlots:
    """At most ``limit`` exports at a time in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.fetching = asyncio.Semaphore(FETCHES_AT_ONCE)

    def claim(self) -> Slot:
        """A slot for one export, or a 503 problem when all are taken."""
        if self.active >= self.limit:
            raise ApiProblem(
                503,
                f"too many exports in progress ({self.limit} at most per server); "
                "try again shortly or page through the JSON instead",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        self.active += 1
        return Slot(self)


class Slot:
    """One claimed export; :meth:`release` gives it back (once, however often called)."""

    def __init__(self, slots: ExportSlots) -> None:
        self._slots: ExportSlots | None = slots

    def release(self) -> None:
        if self._slots is not None:
            self._slots.active -= 1
            if self._slots.active == 0:
                _return_free_memory()
            self._slots = None


class ExportResponse(StreamingResponse):
    """A streamed response that gives its slot back when it ends, however it ends."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        slot: Slot,
        headers: Mapping[str, str],
        media_type: str,
    ) -> None:
        super().__init__(content, headers=headers, media_type=media_type)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


def _load_malloc_trim() -> Callable[[int], int] | None:
    # The process's own symbols include the C library's; musl has no malloc_trim.
    trim: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)
    return trim


_MALLOC_TRIM = _load_malloc_trim()


def _return_free_memory() -> None:
    """Hand the heap's free pages back to the system once no export runs (glibc only).

    Exports free many chunk-sized blocks in the middle of glibc's heap, which
    it keeps for reuse; the process's RSS would then stay at its peak.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
