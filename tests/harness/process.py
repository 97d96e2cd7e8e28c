"""Servers the tests start in processes of their own, and waiting for them."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO


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
    """Return once GET ``url`` succeeds; raise if ``process`` (``name``) exits or is too slow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # A server that died would otherwise cost the whole timeout.
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start within {timeout:g} s")
