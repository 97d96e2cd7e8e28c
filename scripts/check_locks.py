"""Check that the pinned dependencies install on the oldest Python the README claims.

For each lock file, pip resolves what ``make run``/``make test`` and
``make tools`` install as if for that Python (``--python-version``), from
wheels only, installing nothing: a pin whose release needs a newer Python
(``Requires-Python``) makes it fail with pip's own explanation. It needs PyPI,
not that Python. Run by CI (``.github/workflows/deliver.yaml``) and by
``make lock``.

    python3 scripts/check_locks.py [--python-version 3.11.0]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The README and pyproject.toml say "3.11+": the first 3.11 release is the floor
# (Debian 12's python3 is 3.11.2).
FLOOR = "3.11.0"


def project_requirements() -> list[str]:
    """Every requirement of the project and its extras, without the self-references."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = project["name"]
    found: list[str] = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        found += [r for r in extra if not r.startswith(f"{name}[")]
    return found


def resolves(python_version: str, args: list[str]) -> bool:
    """True when pip finds a wheel set for ``args`` on ``python_version``."""
    with tempfile.TemporaryDirectory() as target:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run",
                   "--ignore-installed", "--only-binary=:all:",
                   "--python-version", python_version, "--target", target, *args]  # fmt: skip
        return subprocess.run(command, cwd=REPO, check=False).returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-version", default=FLOOR)
    version = parser.parse_args().python_version
    checks = {
        "constraints.txt (make run, make test)": ["-c", "constraints.txt", *project_requirements()],
        "scripts/tools-constraints.txt (make tools)": [
            "-c", "scripts/tools-constraints.txt", "-r", "scripts/tools-requirements.txt",
        ],
    }  # fmt: skip
    failed = [name for name, args in checks.items() if not resolves(version, args)]
    for name in checks:
        print(f"{'FAILS' if name in failed else 'ok   '} {name} on Python {version}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
