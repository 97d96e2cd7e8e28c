"""A real moto server over HTTP on 127.0.0.1, for S3, Secrets Manager and CloudWatch."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from tests.harness.process import wait_until_up
from warehouse.embedded_pg import free_port

# Credentials moto accepts; they exist only inside the test run.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def running_server() -> Iterator[str]:
    """Start ``moto.server`` in its own process; yield its endpoint URL."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"{endpoint}/moto-api/", process, "moto server")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def reset(endpoint: str) -> None:
    """Forget every bucket, secret and metric (between tests)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
