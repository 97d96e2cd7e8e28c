"""Which new traces to keep: at most N a second per process, plus a share of the rest.

Like AWS X-Ray's default rule (a reservoir of one trace a second, then a fixed
rate): the trace volume, and so what tracing costs, has a ceiling that does not
grow with traffic, yet a quiet service still gets its traces. Plain Python, no
OpenTelemetry: the API's request gate decides here, before any span exists, and
an unsampled request runs no tracing code beyond this.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["RootSampler", "TokenBucket", "traced", "tracing_this"]

# Set only inside a request the gate traces: spans elsewhere would be roots of their own.
tracing_this: ContextVar[bool] = ContextVar("tracing_this", default=False)


def traced() -> bool:
    """True inside a request the API chose to trace."""
    return tracing_this.get()


class TokenBucket:
    """``rate`` tokens a second, holding at most ``burst`` (one second's worth, at least 1).

    Thread-safe (the ingest job's spans may start on any thread); the clock is
    monotonic, so a wall-clock step cannot empty or flood the bucket.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 0:
            raise ValueError("rate must be 0 or more")
        self.rate = rate
        self.burst = max(rate, 1.0) if burst is None else burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self.burst if rate > 0 else 0.0  # a fresh replica traces its first request
        self._updated = clock()

    def take(self) -> bool:
        """Take one token if there is one."""
        if self.rate == 0:
            return False
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


class RootSampler:
    """For a trace without a parent: a token from the bucket, else a draw against ``ratio``."""

    def __init__(
        self,
        per_second: float,
        ratio: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.bucket = TokenBucket(per_second, clock=clock)
        self.ratio = ratio
        self._draw = draw

    def __call__(self) -> bool:
        # Reservoir first, as X-Ray does: the ratio only adds to a busy service's traces.
        return self.bucket.take() or (self.ratio > 0 and self._draw() < self.ratio)
