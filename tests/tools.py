"""Find the external tools a test runs (helm, promtool, checkov, ...).

``make tools`` installs them under ``.tools/``. Outside CI a missing tool
skips the test and says which tool and how to get it; under ``CI=true`` a
missing tool fails the test, because CI must run everything.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / ".tools"
SEARCH = [TOOLS / "bin", TOOLS / "venv" / "bin", TOOLS / "node" / "node_modules" / ".bin"]
# Debian leaves the sbin folders off a normal user's PATH; their tools
# (debootstrap) are still there, run through sudo.
SYSTEM = os.pathsep.join(("/usr/local/sbin", "/usr/sbin", "/sbin"))


def require(name: str) -> Path:
    """The path of tool ``name``; skip (or fail under CI) when it is absent."""
    for folder in SEARCH:
        if (folder / name).exists():
            return folder / name
    found = shutil.which(name) or shutil.which(name, path=SYSTEM)
    if found:
        return Path(found)
    message = f"{name} is not installed: run `make tools` (see scripts/install_tools.py)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must run every test")
    pytest.skip(message)


def node_modules() -> Path:
    """The folder holding the npm CRD validators (skips or fails like ``require``)."""
    folder = TOOLS / "node" / "node_modules"
    if (folder / "@kubernetes-models").is_dir():
        return folder
    require("node")
    message = "npm validators missing: run `make tools`"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
