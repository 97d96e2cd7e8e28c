"""Rendered pages are kept until the next ingest run, through the real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg

from service.lists.response_cache import LARGEST_SHARE, Page, ResponseCache
from tests import cli
from tests.api.live import serving
from tests.harness.waiting import wait_for

PAGE = "/api/weather?station_id=USC00000001&limit=10"


def load(database_url: str, folder: Path, station: str, tmax_tenths: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{station}.txt").write_text(f"20200101\t{tmax_tenths:5d}\t  -5\t   0\n")
    run = cli.run("ingest", "--source", str(folder), env={"DATABASE_URL": database_url})
    assert run.returncode == 0, run.stderr


def tmax(response: httpx.Response) -> float:
    return float(response.json()["data"][0]["max_temp_c"])


def set_tmax_behind_the_apis_back(database_url: str, tenths: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE observation SET tmax_tenths_c = %s", (tenths,))


def test_a_page_is_rendered_again_only_after_an_ingest_run(
    database_url: str, tmp_path: Path
) -> None:
    load(database_url, tmp_path / "first", "USC00000001", 10)
    with serving(database_url) as api, httpx.Client(base_url=api.url) as client:
        assert tmax(client.get(PAGE)) == 1.0
        # No ingest run, so the same data version: the kept page is answered.
        set_tmax_behind_the_apis_back(database_url, 20)
        assert tmax(client.get(PAGE)) == 1.0
        exposition = client.get("/metrics").text
        assert 'weather_warehouse_response_cache_lookups_total{result="hit"} 1.0' in exposition
        assert 'weather_warehouse_response_cache_lookups_total{result="miss"} 1.0' in exposition
        # Another URL is another page, rendered now.
        assert tmax(client.get(PAGE + "&units=metric")) == 2.0
        load(database_url, tmp_path / "second", "USC00000002", 30)
        # The API reads the latest run at most a second late.
        wait_for(lambda: tmax(client.get(PAGE)) == 2.0, "the page of the new data version")


def test_with_a_zero_budget_every_page_is_rendered_from_the_database(
    database_url: str, tmp_path: Path
) -> None:
    load(database_url, tmp_path, "USC00000001", 10)
    with (
        serving(database_url, {"RESPONSE_CACHE_MAX_BYTES": "0"}) as api,
        httpx.Client(base_url=api.url) as client,
    ):
        assert tmax(client.get(PAGE)) == 1.0
        set_tmax_behind_the_apis_back(database_url, 20)
        assert tmax(client.get(PAGE)) == 2.0


def page(size: int) -> Page:
    return Page(b"x" * size, {})


def test_least_recently_used_pages_go_first_when_over_budget() -> None:
    cache = ResponseCache(max_bytes=100 * LARGEST_SHARE)
    keys = [f"page{i}" for i in range(LARGEST_SHARE)]
    cache.get(1, keys[0])
    for key in keys:
        cache.put(1, key, page(100))  # exactly the budget
    assert len(cache) == LARGEST_SHARE
    assert cache.get(1, keys[0]) is not None  # now the most recently used
    cache.put(1, "one more", page(100))
    assert cache.get(1, keys[1]) is None
    assert cache.get(1, keys[0]) is not None
    assert len(cache) == LARGEST_SHARE


def test_a_page_over_its_share_of_the_budget_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=1600)
    cache.get(1, "a")
    cache.put(1, "a", page(101))
    assert cache.get(1, "a") is None


def test_a_new_data_version_drops_every_page() -> None:
    cache = ResponseCache(max_bytes=10_000)
    cache.get(1, "a")
    cache.put(1, "a", page(10))
    assert cache.get(2, "a") is None
    cache.put(1, "a", page(10))  # rendered from the old version: not kept
    assert cache.get(2, "a") is None
