"""Every `curl` GET example of the README and docs/api.md answers 200 from the real server."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
import pytest

from tests.api.live import LiveServer

REPO = Path(__file__).resolve().parents[2]
PAGES = (REPO / "README.md", REPO / "docs" / "api.md")
_CURL = re.compile(r"^\s*curl (.*'http://127\.0\.0\.1:8000/[^']*'.*)$", re.MULTILINE)


def examples() -> list[str]:
    """The curl lines of the README and docs/api.md, without their redirections."""
    found = []
    text = "".join(page.read_text(encoding="utf-8") for page in PAGES)
    for match in _CURL.finditer(text):
        line = match[1].split(" > ")[0].split("   #")[0]
        if "-X" not in shlex.split(line):
            found.append(line)
    return found


def test_the_readme_has_examples_for_the_new_endpoints() -> None:
    text = " ".join(examples())
    for path in ("/stats/monthly", "/freshness", "/stations/search", "/stations/nearest"):
        assert path in text


@pytest.mark.parametrize("example", examples())
def test_a_readme_example_answers_200(live: LiveServer, example: str) -> None:
    words = shlex.split(example)
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    url = next(w for w in words if w.startswith("http://127.0.0.1:8000/"))
    response = httpx.get(url.replace("http://127.0.0.1:8000", live.url), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] in ("application/json", "text/csv")
