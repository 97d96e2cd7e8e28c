"""Debian's Chromium, driven by Selenium through Debian's chromedriver, headless."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.tools import require

# A view draws in well under a second on this machine; the bound only stops a hung test.
DRAW_TIMEOUT_S = 60
WINDOW = "1200,1400"
MAX_SHOT_HEIGHT = 4000


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless Chromium that keeps every console message for the test to read."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(require("chromium"))
    for argument in (
        "--headless=new",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-extensions",
    ):
        options.add_argument(argument)  # fmt: skip
    if os.geteuid() == 0:
        # Chromium refuses to run as root inside its own sandbox.
        options.add_argument("--no-sandbox")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(require("chromedriver"))), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def open_view(driver: WebDriver, url: str) -> str:
    """Load ``url`` afresh and wait until the page says its view is drawn; which one."""
    driver.get("about:blank")
    driver.get(url)
    drawn: str = WebDriverWait(driver, DRAW_TIMEOUT_S).until(_drawn)
    return drawn


def screenshot(driver: WebDriver, path: Path) -> None:
    """The whole page (up to MAX_SHOT_HEIGHT) as a PNG; the window is restored afterwards."""
    width, height = (int(v) for v in WINDOW.split(","))
    page = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(MAX_SHOT_HEIGHT, max(height, int(page))))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(width, height)


def _drawn(driver: WebDriver) -> Any:
    return driver.execute_script("return document.getElementById('view')?.dataset.drawn")


def console_problems(driver: WebDriver) -> list[str]:
    """Console errors and warnings (failed requests are logged there too) since the last call."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] in {"SEVERE", "WARNING"}]


def resources(driver: WebDriver) -> list[dict[str, Any]]:
    """Every request the page made: its URL and HTTP status (Resource Timing)."""
    script = (
        "return performance.getEntriesByType('resource')"
        ".map(e => ({url: e.name, status: e.responseStatus}))"
    )
    found: list[dict[str, Any]] = driver.execute_script(script)
    return found
