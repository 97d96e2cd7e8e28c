"""The page's routes without a browser: where a browser is sent, what the HTML loads, the assets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from scripts import vendor_explore

CHROME_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_a_browser_asking_for_the_root_is_sent_to_the_page(client: TestClient) -> None:
    response = client.get("/", headers={"Accept": CHROME_ACCEPT}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/explore"
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5"]
)
def test_a_client_not_preferring_html_still_gets_the_json_index(
    client: TestClient, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/", headers=headers, follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


def test_the_json_index_links_the_page(client: TestClient) -> None:
    links = {link["href"]: link for link in client.get("/").json()["links"]}
    assert links["/explore"]["type"] == "text/html"


def test_the_page_loads_its_scripts_and_styles_from_under_the_prefix(
    prefixed_client: TestClient,
) -> None:
    page = prefixed_client.get("/weather/explore").text
    local = [s for s in re.findall(r'(?:src|href)="([^"#]+)"', page) if not s.startswith("data:")]
    assert len(local) >= 6
    assert all(s.startswith("/weather/") for s in local), local
    assert '<meta name="api-root" content="/weather">' in page


def test_every_asset_the_page_names_is_served(client: TestClient) -> None:
    page = client.get("/explore").text
    for path in re.findall(r'(?:src|href)="(/explore/assets/[^"]+)"', page):
        assert client.get(path).status_code == 200, path


def test_the_vendored_libraries_match_their_pins() -> None:
    assert vendor_explore.check() == []


def test_a_vendored_file_changed_by_hand_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "vendor"
    _copy_tree(vendor_explore.VENDOR, copy)
    (copy / "uplot" / "uPlot.iife.min.js").write_text("/* edited */")
    monkeypatch.setattr(vendor_explore, "VENDOR", copy)
    monkeypatch.setattr(vendor_explore, "MANIFEST", copy / "MANIFEST.json")
    assert vendor_explore.check() == ["uplot/uPlot.iife.min.js: SHA-256 differs from MANIFEST.json"]


def _copy_tree(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        if path.is_file():
            (target / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            (target / path.relative_to(source)).write_bytes(path.read_bytes())
