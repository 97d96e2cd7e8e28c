"""A real moto server over HTTP on 127.0.0.1, for S3, Secrets Manager and CloudWatch."""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from tests.harness.process import running
from warehouse.ports import free_port

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
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with running(command, f"{endpoint}/moto-api/", "moto server"):
        yield endpoint


def reset(endpoint: str) -> None:
    """Forget every bucket, secret and metric (between tests)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
