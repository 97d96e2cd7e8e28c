"""Servers the tests start in processes of their own, and waiting for them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from tests.harness import http
from tests.harness.waiting import wait_for


@contextmanager
def running(
    command: Sequence[str],
    ready_url: str,
    name: str,
    output: IO[bytes] | int = subprocess.DEVNULL,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` (stdout and stderr to ``output``); yield once ``ready_url`` answers."""
    process = subprocess.Popen(list(command), stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_up(ready_url, process, name)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], name: str, timeout: float = 30
) -> None:
    """Return once GET ``url`` answers 200; raise if ``process`` (``name``) exits or is too slow."""

    def up() -> bool:
        # A server that died would otherwise cost the whole timeout.
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        return http.answers_ok(url, timeout=1)

    wait_for(up, f"{name} to answer {url}", timeout)
