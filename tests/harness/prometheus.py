"""A real Prometheus server on 127.0.0.1, fed a generated config, queried over its HTTP API."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tests.harness.process import running
from warehouse.ports import free_port

T = TypeVar("T")


def scrape_job(
    name: str,
    target: str,
    *,
    labels: Mapping[str, str] | None = None,
    honor_labels: bool = False,
) -> dict[str, Any]:
    """A scrape config for one ``host:port`` target, scraped every second."""
    job: dict[str, Any] = {
        "job_name": name,
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "honor_labels": honor_labels,
        "static_configs": [{"targets": [target], "labels": dict(labels or {})}],
    }
    return job


@contextmanager
def running_server(
    binary: Path,
    folder: Path,
    jobs: Sequence[dict[str, Any]],
    rule_files: Sequence[Path] = (),
) -> Iterator[str]:
    """Start Prometheus with ``jobs`` (and rules, evaluated every second); yield its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": list(jobs),
        "rule_files": [str(path) for path in rule_files],
    }
    config_file = folder / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    command = [
        str(binary),
        f"--config.file={config_file}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    url = f"http://127.0.0.1:{port}"
    with (
        (folder / "prometheus.log").open("wb") as log,
        running(command, f"{url}/-/ready", "prometheus", output=log),
    ):
        yield url


def api(url: str, path: str, params: Mapping[str, str] | Sequence[tuple[str, str]]) -> Any:
    """GET ``/api/v1/<path>`` and return the decoded body (``status`` and ``data``)."""
    query = urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(f"{url}/api/v1/{path}?{query}", timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:  # 400/422 bodies say what was wrong with the query
        return json.load(exc)


def query(url: str, expr: str) -> Any:
    """An instant query: the whole response body."""
    return api(url, "query", {"query": expr})


def query_range(url: str, expr: str, seconds: int = 30) -> Any:
    """A range query over the last ``seconds``, one step a second: the whole response body."""
    now = time.time()
    params = {"query": expr, "start": str(now - seconds), "end": str(now), "step": "1"}
    return api(url, "query_range", params)
