"""What the app holds between requests: the pool, the freshness cache, the cursor key, pages."""

from __future__ import annotations

from dataclasses import dataclass

from service.caching import FreshnessCache
from service.lists.exports import ExportSlots
from service.lists.pagination import Cursors
from service.lists.response_cache import ResponseCache
from warehouse.db import BoundedPool
from warehouse.settings import Settings


@dataclass(frozen=True)
class AppState:
    """Shared by every request of one app (``request.app.state.warehouse``)."""

    settings: Settings
    pool: BoundedPool
    freshness: FreshnessCache
    cursors: Cursors
    exports: ExportSlots
    pages: ResponseCache
