"""Uvicorn's server, returning normally after a graceful stop (imported only by ``serve``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


class GracefulServer(uvicorn.Server):
    """Stops on SIGTERM or SIGINT after in-flight requests finish, then returns.

    Uvicorn re-raises the SIGTERM it caught once it has drained, which kills
    the process before ``serve`` can return; a drained server has nothing
    left to report, so it exits 0 like any finished command.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()
