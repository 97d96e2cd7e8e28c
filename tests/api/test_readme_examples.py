"""The examples of docs/api.md for curl, pandas, a browser and Grafana, run against the real server.

Each fenced block of its "Using the API" section is taken as it is
written, with only the address changed to the test server's, and run the way
its reader would run it: shell blocks with bash, Python blocks with this
interpreter, the browser page's module script with Node (whose ``fetch`` is
the browser's), and the Grafana query by following Infinity's cursor
pagination rules (the ``pagination_param_cursor_*`` fields) over HTTP.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.api.live import LiveServer, serving
from tests.tools import require

README = Path(__file__).resolve().parents[2] / "docs" / "api.md"
SECTION = "## Using the API"
DOC_ADDRESS = "http://127.0.0.1:8000"
PAGE_ORIGIN = "http://localhost:3000"


def blocks(language: str) -> list[str]:
    """The fenced blocks of ``language`` in the usage section of docs/api.md."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION)) % (len(text) + 1)  # or the page's end
    fence = re.compile(rf"^```{language}\n(.*?)^```$", re.MULTILINE | re.DOTALL)
    found = fence.findall(text[start:end])
    assert found, f"no {language} example in the usage section of docs/api.md"
    return found


@pytest.fixture(scope="module")
def api(loaded_url: str) -> Iterator[LiveServer]:
    env = {"CORS_ALLOW_ORIGINS": PAGE_ORIGIN, "RATE_LIMIT_REQUESTS": "10000"}
    with serving(loaded_url, env) as server:
        yield server


def here(example: str, api: LiveServer) -> str:
    return example.replace(DOC_ADDRESS, api.url)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_curl_examples_run(api: LiveServer, tmp_path: Path) -> None:
    (example,) = blocks("sh")
    bash = shutil.which("bash")
    assert bash is not None
    out = run([bash, "-euo", "pipefail", "-c", here(example, api)], tmp_path).stdout
    assert out.startswith('{"data":[{"station_id":"USC00110072","date":"1990-01-01"')
    assert "station_id,date,max_temp_c,min_temp_c,precip_mm" in out
    assert '"year":1992' in out
    assert "\n304\n" in out
    assert 'ratelimit-policy: "per-client";q=10000;w=60' in out.lower()


def test_the_pandas_example_runs(api: LiveServer, tmp_path: Path) -> None:
    (example,) = blocks("python")
    out = run([sys.executable, "-c", here(example, api)], tmp_path).stdout
    assert "1990" in out
    assert "USC00110187" in out
    assert "count" in out


def test_the_browser_example_runs(api: LiveServer, tmp_path: Path) -> None:
    (page,) = blocks("html")
    script = page.split('<script type="module">', 1)[1].rsplit("</script>", 1)[0]
    module = tmp_path / "page.mjs"
    module.write_text(here(script, api), encoding="utf-8")
    out = run([str(require("node")), str(module)], tmp_path).stdout
    assert out.startswith("30 station-years, wettest:")
    # What the browser itself checks before handing the answers to the page.
    answer = httpx.get(f"{api.url}/api/weather/stats?limit=10", headers={"Origin": PAGE_ORIGIN})
    assert answer.headers["access-control-allow-origin"] == PAGE_ORIGIN


def epoch_ms(day: str) -> str:
    return str(int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000))


def test_the_grafana_query_pages_through_the_dashboards_range(api: LiveServer) -> None:
    (saved,) = blocks("json")
    query = json.loads(here(saved, api))
    assert query["pagination_mode"] == "cursor"
    dashboard = {"${__from}": epoch_ms("1990-01-01"), "${__to}": epoch_ms("1993-12-31")}
    params = [
        (p["key"], dashboard.get(p["value"], p["value"])) for p in query["url_options"]["params"]
    ]
    rows: list[dict[str, object]] = []
    cursor = ""
    with httpx.Client() as client:
        for _ in range(query["pagination_max_pages"]):
            extra = [(query["pagination_param_cursor_field_name"], cursor)] if cursor else []
            page = client.get(query["url"], params=params + extra).json()
            rows.extend(page[query["root_selector"]])
            cursor = page.get(query["pagination_param_cursor_extraction_path"]) or ""
            if not cursor:
                break
        everything = client.get(
            query["url"],
            params=[*params[:1], ("start_date", "1990-01-01"), ("end_date", "1993-12-31")],
            headers={"Accept": "application/x-ndjson"},
        )
    expected = [json.loads(line) for line in everything.text.splitlines()]
    assert len(expected) > 1000  # more than one page
    assert rows == expected
    columns = {column["selector"] for column in query["columns"]}
    assert columns <= set(rows[0])
