"""The page in a real browser (Debian's Chromium): every view shows what the API holds.

The server is the shipped data set under a path prefix with the rate limit on
(conftest.py). Each view leaves a screenshot in ``.cache/explore/`` (or in the
folder ``WW_EXPLORE_SCREENSHOTS`` names: ``docs/explore`` refreshes the ones
docs/explore.md shows), so a test run leaves the checkout as it found it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.explore.browser import (
    DRAW_TIMEOUT_S,
    console_problems,
    open_view,
    resources,
    screenshot,
)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / os.environ.get("WW_EXPLORE_SCREENSHOTS", ".cache/explore")
STATION = "USC00110072"  # ALEDO, IL: every year 1985-2014
YEAR = "1985"
VIEWS = {
    "map": "#/",
    "station": f"#/station/{STATION}/{YEAR}-01-01/{YEAR}-12-31",
    "yield": "#/yield",
}


def api(base: str, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of an API list (pages of 1000 followed to the end)."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 1000, **({"cursor": cursor} if cursor else {})}
        body = httpx.get(base + path, params=query).json()
        rows += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def test_a_browser_opening_the_root_lands_on_the_map(browser: WebDriver, base: str) -> None:
    assert open_view(browser, base + "/") == "map"
    assert browser.current_url == base + "/explore"


def test_the_map_shows_every_station_the_api_lists(browser: WebDriver, base: str) -> None:
    open_view(browser, base + "/explore" + VIEWS["map"])
    placed = {s["station_id"] for s in api(base, "/api/stations") if s["latitude"] is not None}
    dots = browser.find_elements(By.CSS_SELECTOR, "svg.map circle.station")
    assert {dot.get_attribute("data-id") for dot in dots} == placed
    assert len(dots) == len(placed) >= 167


def test_a_search_by_name_finds_the_station(browser: WebDriver, base: str) -> None:
    open_view(browser, base + "/explore" + VIEWS["map"])
    browser.find_element(By.ID, "search").send_keys("aledo", Keys.ENTER)
    link = WebDriverWait(browser, DRAW_TIMEOUT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"#search-results a[href='#/station/{STATION}']")
    )
    assert link.text == f"ALEDO, IL ({STATION})"
    assert (
        browser.find_element(By.CSS_SELECTOR, f"circle[data-id='{STATION}']").get_attribute("class")
        == "station found"
    )


def test_a_point_typed_in_lists_the_nearest_stations_nearest_first(
    browser: WebDriver, base: str
) -> None:
    open_view(browser, base + "/explore" + VIEWS["map"])
    browser.find_element(By.ID, "near-lat").send_keys("41.2069")
    browser.find_element(By.ID, "near-lon").send_keys("-90.7419", Keys.ENTER)
    items = WebDriverWait(browser, DRAW_TIMEOUT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#nearest ol li")
    )
    assert len(items) == 5
    assert items[0].text.startswith(f"ALEDO, IL ({STATION}) 0 km")


def test_a_click_on_the_map_lists_the_stations_nearest_the_point(
    browser: WebDriver, base: str
) -> None:
    open_view(browser, base + "/explore" + VIEWS["map"])
    svg = browser.find_element(By.CSS_SELECTOR, "svg.map")
    # The top left corner of the map: open sea, far from any station dot.
    browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "arguments[0].dispatchEvent(new MouseEvent('click', "
        "{bubbles: true, clientX: r.left + 5, clientY: r.top + 5}));",
        svg,
    )
    items = WebDriverWait(browser, DRAW_TIMEOUT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#nearest ol li")
    )
    assert len(items) == 5
    distances = [float(item.text.rsplit(" ", 2)[-2]) for item in items]
    assert distances == sorted(distances)


def _chart_data(browser: WebDriver, figure: str) -> list[list[Any]]:
    data: list[list[Any]] = browser.execute_script(
        f"return document.getElementById('{figure}-chart').uplot.data"
    )
    return data


def test_the_daily_charts_hold_the_values_the_api_returns_for_a_station_year(
    browser: WebDriver, base: str
) -> None:
    assert open_view(browser, base + "/explore" + VIEWS["station"]) == "station"
    days = api(base, "/api/weather", station_id=STATION, start_date=f"{YEAR}-01-01",
               end_date=f"{YEAR}-12-31")  # fmt: skip
    assert len(days) == 365
    _, tmax, tmin = _chart_data(browser, "daily-temperature")
    assert tmax == [d["max_temp_c"] for d in days]
    assert tmin == [d["min_temp_c"] for d in days]
    _, rain = _chart_data(browser, "daily-precipitation")
    assert rain == [d["precip_mm"] for d in days]


@pytest.mark.parametrize(
    ("figure", "path", "params"),
    [
        ("yearly-stats", "/api/weather/stats", {}),
        ("monthly-stats", "/api/weather/stats/monthly", {"start_year": YEAR, "end_year": YEAR}),
    ],
)
def test_the_statistics_charts_hold_the_values_the_api_returns(
    browser: WebDriver, base: str, figure: str, path: str, params: dict[str, str]
) -> None:
    open_view(browser, base + "/explore" + VIEWS["station"])
    rows = api(base, path, station_id=STATION, **params)
    _, tmax, tmin, rain = _chart_data(browser, figure)
    assert tmax == [r["avg_max_temp_c"] for r in rows]
    assert tmin == [r["avg_min_temp_c"] for r in rows]
    assert rain == [r["total_precip_cm"] for r in rows]


def test_the_yield_scatter_has_one_point_per_year(browser: WebDriver, base: str) -> None:
    assert open_view(browser, base + "/explore" + VIEWS["yield"]) == "yield"
    years = [str(row["year"]) for row in api(base, "/api/yield")]
    labels = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "svg.scatter .point text")]
    assert sorted(labels) == years
    assert len(years) == 30


@pytest.mark.parametrize("view", ["map", "station", "yield"])
def test_every_chart_offers_its_request_as_a_link_a_curl_line_and_a_csv_download(
    browser: WebDriver, base: str, view: str
) -> None:
    open_view(browser, base + "/explore" + VIEWS[view])
    boxes = browser.find_elements(By.CSS_SELECTOR, ".request-box li")
    assert boxes
    for box in boxes:
        link = box.find_element(By.CSS_SELECTOR, "a.api-link").get_attribute("href")
        assert box.find_element(By.CSS_SELECTOR, "code.curl").text == f"curl '{link}'"
        assert httpx.get(link).status_code == 200, link
        csv = httpx.get(box.find_element(By.CSS_SELECTOR, "a.csv-link").get_attribute("href"))
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("view", ["map", "station", "yield"])
def test_a_view_logs_no_console_error_and_requests_only_its_own_server(
    browser: WebDriver, base: str, view: str
) -> None:
    open_view(browser, base + "/explore" + VIEWS[view])
    screenshot(browser, SCREENSHOTS / f"{view}.png")
    requests = resources(browser)
    assert requests
    assert [r for r in requests if not r["url"].startswith(base + "/")] == []
    assert [r for r in requests if r["status"] != 200] == []
    assert console_problems(browser) == []


def test_the_indices_small_multiples_hold_the_values_the_api_returns(
    browser: WebDriver, base: str
) -> None:
    open_view(browser, base + "/explore" + VIEWS["station"])
    rows = api(base, "/api/weather/indices", station_id=STATION)
    multiples = browser.find_elements(By.CSS_SELECTOR, "#indices .small-multiple .chart")
    assert len(multiples) == 19
    for index in ("fd", "su", "txx", "cdd", "gdd", "season_prcp"):
        _, values = _chart_data(browser, f"index-{index}")
        assert values == [row[index] for row in rows], index


def test_a_yield_view_of_open_sea_says_no_year_has_values(browser: WebDriver, base: str) -> None:
    assert open_view(browser, base + "/explore#/yield/-40,0,-30,10") == "yield"
    chart = browser.find_element(By.ID, "yield-scatter-chart")
    assert chart.text == "No year has both values for these stations."
    assert console_problems(browser) == []
