"""Waiting for an observable state, bounded in time: the tests' only polling loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | None], what: str, timeout: float = 30, interval: float = 0.1
) -> T:
    """Call ``check`` until it returns something truthy, and return that.

    Raises ``TimeoutError`` naming ``what`` after ``timeout`` seconds. ``check`` may
    raise to stop waiting at once (a server that exited, say).
    """
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        time.sleep(interval)
