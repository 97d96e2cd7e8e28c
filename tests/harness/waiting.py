"""Waiting for an observable state, bounded in time: the tests' only polling loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Supervised(Protocol):
    """Something that raises when a process it watches has died (the cluster's supervisor)."""

    def check_alive(self) -> None: ...


def wait_for(
    check: Callable[[], T | None],
    what: str,
    timeout: float = 30,
    every: float = 0.1,
    *,
    supervisor: Supervised | None = None,
    errors: tuple[type[Exception], ...] = (),
) -> T:
    """Call ``check`` until it returns something truthy, and return that.

    Raises ``TimeoutError`` naming ``what`` after ``timeout`` seconds. ``check`` may
    raise to stop waiting at once (a server that exited, say), except ``errors``:
    those mean "not yet" (a service still starting refuses connections), and the
    last one is named if time runs out. ``supervisor`` stops the wait when a
    process it watches has died.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        if supervisor is not None:
            supervisor.check_alive()
        try:
            found = check()
        except errors as error:
            last = error
        else:
            if found:
                return found
            last = found
        if time.monotonic() > deadline:
            seen = f" (last: {last!r})" if errors else ""
            raise TimeoutError(f"waited {timeout:g} s for {what}{seen}")
        time.sleep(every)


def wait_through_errors(
    check: Callable[[], T | None],
    what: str,
    timeout: float,
    every: float = 0.5,
    supervisor: Supervised | None = None,
) -> T:
    """:func:`wait_for` where any exception of ``check`` means "not yet" (the cluster tests')."""
    return wait_for(check, what, timeout, every, supervisor=supervisor, errors=(Exception,))
