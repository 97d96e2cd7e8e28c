"""Wait for a server the tests started in a process of its own."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request


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
