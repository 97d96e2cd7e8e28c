"""Shards in a real Prometheus: the ingest dashboard and alerts show a failed shard.

Two shards of one run push to the real Pushgateway, beside the module's
unsharded run: shard 0 loads a good file, shard 1 meets a bad one.
"""

from __future__ import annotations

from typing import Any

import pytest

from ingest_job import shards
from tests import cli
from tests.harness import prometheus
from tests.harness.waiting import wait_for
from tests.observability.dashboards import query
from tests.observability.system import System

FILES = {0: "20000101\t1\t2\t3\n", 1: "not a station file\n"}


def station_of(index: int) -> str:
    """A station id that falls in shard ``index`` of two."""
    return next(s for s in (f"USC{n:08d}" for n in range(100)) if shards.Shard(index, 2).owns(s))


@pytest.fixture(scope="module")
def shards_pushed(system: System, prometheus_url: str) -> str:
    for index, text in FILES.items():
        folder = system.folder / f"shard-{index}"
        folder.mkdir()
        (folder / f"{station_of(index)}.txt").write_text(text, encoding="utf-8")
        run = cli.run(
            "ingest", "--source", str(folder), "--shard", f"{index}/2",
            env={"DATABASE_URL": system.database_url, "PUSHGATEWAY_URL": system.pushgateway},
        )  # fmt: skip
        assert run.returncode == index, run.stderr  # shard 1 rejects its file: exit 1
    return prometheus_url


def _values(url: str, expr: str) -> dict[str, float]:
    """``expr`` now, by its ``shard`` label ("" for a series without one)."""
    result: list[dict[str, Any]] = prometheus.query(url, expr)["data"]["result"]
    return {s["metric"].get("shard", ""): float(s["value"][1]) for s in result}


def test_the_last_run_panel_shows_failed_when_one_shard_failed(shards_pushed: str) -> None:
    expr = query("ingest.json: Last run")
    assert wait_for(lambda: _values(shards_pushed, expr) == {"": 0.0}, "the panel to say failed")


def test_the_duration_panel_draws_each_shard(shards_pushed: str) -> None:
    expr = query("ingest.json: Run duration by shard")
    wait_for(lambda: {"0", "1"} <= set(_values(shards_pushed, expr)), "a series per shard")


def test_ingest_failed_fires_for_the_failed_shard_alone(shards_pushed: str) -> None:
    def firing() -> list[dict[str, Any]] | None:
        alerts = prometheus.api(shards_pushed, "alerts", {})["data"]["alerts"]
        found = [a for a in alerts if a["labels"]["alertname"] == "WeatherWarehouseIngestFailed"
                 and a["state"] == "firing"]  # fmt: skip
        return found or None

    (alert,) = wait_for(firing, "WeatherWarehouseIngestFailed to fire")
    assert alert["labels"]["shard"] == "1"
