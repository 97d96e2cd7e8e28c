"""Rendered JSON pages, kept in memory until the data change.

Data change only when an ingest run finishes (the validators of
:mod:`service.caching` come from that run), so a page rendered once is the
same bytes for every later request of the same URL until then. Dashboards
and notebooks ask for the same first pages over and over; answering those
from here skips the pooled connection, the query and the rendering.

Keyed by the data version (the latest finished run) and by everything the
body depends on: the representation, scheme, host, path and query string
(the ``next`` link is absolute). When a request sees a newer version the
whole cache is dropped. Least recently used pages go first once the bytes
exceed the budget (``RESPONSE_CACHE_MAX_BYTES``; 0 turns the cache off).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

# A page bigger than this share of the budget is not kept: it would evict
# many small, busy ones.
LARGEST_SHARE = 16


@dataclass(frozen=True)
class Page:
    """One rendered response: body and headers."""

    body: bytes
    headers: Mapping[str, str]


class ResponseCache:
    """An LRU of :class:`Page` by key, valid for one data version at a time."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._version: Hashable = None
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        """Whether anything is ever kept."""
        return self.max_bytes > 0

    def get(self, version: Hashable, key: Hashable) -> Page | None:
        """The page for ``key`` rendered from data ``version``, if kept."""
        if version != self._version:
            self._drop(version)
        page = self._pages.get(key)
        if page is None:
            self.misses += 1
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return page

    def put(self, version: Hashable, key: Hashable, page: Page) -> None:
        """Keep ``page`` if it was rendered from the current version and fits."""
        size = len(page.body)
        if version != self._version or size > self.max_bytes // LARGEST_SHARE:
            return
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._pages[key] = page
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, evicted = self._pages.popitem(last=False)
            self._bytes -= len(evicted.body)

    def _drop(self, version: Hashable) -> None:
        self._pages.clear()
        self._bytes = 0
        self._version = version

    def __len__(self) -> int:
        return len(self._pages)
