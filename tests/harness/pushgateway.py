"""A real Prometheus Pushgateway on 127.0.0.1, read back over its HTTP API."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.harness.process import running
from warehouse.ports import free_port


@contextmanager
def running_server(binary: Path) -> Iterator[str]:
    """Start the Pushgateway (in memory, admin API on); yield its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(binary),
        f"--web.listen-address=127.0.0.1:{port}",
        "--persistence.file=",
        "--web.enable-admin-api",
        "--log.level=warn",
    ]
    with running(command, f"{url}/-/ready", "pushgateway"):
        yield url


def reset(url: str) -> None:
    """Delete every pushed group (between tests)."""
    request = urllib.request.Request(f"{url}/api/v1/admin/wipe", method="PUT")
    with urllib.request.urlopen(request, timeout=10):
        pass


def groups(url: str) -> list[dict[str, Any]]:
    """The metric groups the Pushgateway holds (``GET /api/v1/metrics``, ``data``)."""
    with urllib.request.urlopen(f"{url}/api/v1/metrics", timeout=10) as response:
        body = json.load(response)
    data: list[dict[str, Any]] = body["data"]
    return data


def values(url: str, job: str) -> dict[str, float]:
    """``name{label="v",...}`` -> value for every sample pushed under ``job``.

    Labels other than ``job`` and ``instance`` appear in the key, sorted, so
    that a test can look up ``weather_warehouse_ingest_rows{outcome="inserted"}``.
    """
    found: dict[str, float] = {}
    for group in groups(url):
        if group["labels"].get("job") != job:
            continue
        for name, family in group.items():
            if not isinstance(family, dict) or "metrics" not in family:
                continue
            for sample in family["metrics"]:
                labels = {
                    k: v
                    for k, v in sample.get("labels", {}).items()
                    if k not in ("job", "instance")
                }
                key = name
                if labels:
                    key += "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
                found[key] = float(sample["value"])
    return found
