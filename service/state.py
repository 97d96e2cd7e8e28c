"""What the app holds between requests: the pool, the freshness cache, the cursor key."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from service.caching import FreshnessCache
from service.pagination import Cursors
from warehouse.settings import Settings


@dataclass(frozen=True)
class AppState:
    """Shared by every request of one app (``request.app.state.warehouse``)."""

    settings: Settings
    pool: AsyncConnectionPool
    freshness: FreshnessCache
    cursors: Cursors
