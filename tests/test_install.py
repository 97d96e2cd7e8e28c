"""``pip install .`` resolves without constraints.txt, with Python 3.11.7's pip and today's.

Users who install the package their own way get whatever pip their Python
came with; the dependency ranges of pyproject.toml must resolve for it too.
A fresh virtual environment, the chosen pip, then ``pip install --dry-run .``:
the resolver runs in full against the package index, nothing is installed.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Resolution takes 30-60 s on this 2-core machine; far more means it is lost backtracking.
RESOLVE_TIMEOUT_S = 600


@pytest.mark.parametrize("pip", ["pip==23.2.1", "pip"], ids=["pip-23.2.1", "pip-latest"])
def test_pip_install_resolves_the_dependency_ranges(pip: str, tmp_path: Path) -> None:
    venv.create(tmp_path / "env", with_pip=True)
    python = str(tmp_path / "env" / ("Scripts" if sys.platform == "win32" else "bin") / "python")
    upgrade = [python, "-m", "pip", "install", "--quiet", "--upgrade", pip]
    subprocess.run(upgrade, check=True, timeout=RESOLVE_TIMEOUT_S)
    resolve = [python, "-m", "pip", "install", "--dry-run", "--quiet", str(REPO)]
    result = subprocess.run(
        resolve, capture_output=True, text=True, timeout=RESOLVE_TIMEOUT_S, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
