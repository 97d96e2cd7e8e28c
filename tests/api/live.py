"""``weather-warehouse serve`` in a real process on a free port, for tests that need real HTTP."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests import cli
from tests.api.loaded import CURSOR_SECRET
from warehouse.ports import free_port


@dataclass
class LiveServer:
    """A running server: its base URL, its process, the log lines it wrote so far."""

    url: str
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)


@contextmanager
def serving(database_url: str, env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    """Start the API; yield once uvicorn says it listens; stop it (SIGTERM) afterwards."""
    port = free_port()
    process = cli.start(
        "serve",
        "--port",
        str(port),
        env={"DATABASE_URL": database_url, "CURSOR_SECRET": CURSOR_SECRET, **(env or {})},
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process)
    assert process.stderr is not None
    # Wait for uvicorn's own "running" line instead of polling or sleeping.
    for line in process.stderr:
        server.log.append(line)
        if "Uvicorn running on" in line:
            break
    else:
        raise RuntimeError(f"the server did not start: {''.join(server.log)}")
    # Keep reading its log, so a full pipe never blocks the server.
    drain = threading.Thread(target=_drain, args=(process, server.log), daemon=True)
    drain.start()
    try:
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        drain.join(timeout=5)


def _drain(process: subprocess.Popen[str], log: list[str]) -> None:
    assert process.stderr is not None
    log.extend(process.stderr)
