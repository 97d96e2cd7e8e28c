"""Run the project as an ordinary user: the test user itself, or under root a throwaway one.

Under root (CI on this machine) :func:`ordinary_user` creates a system user
with no home, no shell and no groups, and deletes it afterwards. That user
cannot read root's files: not a checkout under ``/root``, nor an interpreter
installed there (pyenv). So :func:`installation` gives it its own: a virtual
environment made with the machine's ``/usr/bin/python3`` (Debian 12's 3.11.2,
the oldest Python the README claims) holding exactly what ``make run``
installs, pinned by ``constraints.txt`` (kept in ``/var/cache``, named by the
lock's digest), and a copy of the code and of ``data/``, owned by that user.
As any other user, the test user's own interpreter and checkout are used.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
CODE = ["warehouse", "ingest_job", "service", "command", "data", "pyproject.toml"]
VENV_CACHE = Path("/var/cache/weather-warehouse-tests")
SYSTEM_PYTHON = Path("/usr/bin/python3")


@dataclass(frozen=True)
class Installation:
    """How to start ``python -m command`` as ``user`` (None: as the test user)."""

    user: str | None
    python: Path
    checkout: Path  # the folder holding the code and data/; also the working folder
    home: Path  # a folder of the user's own, removed afterwards

    def command(self, *args: str) -> list[str]:
        """The command line running ``python ARGS`` as the user."""
        run = [str(self.python), *args]
        if self.user is None:
            return run
        return ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--clear-groups",
                "--", *run]  # fmt: skip

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        """A small environment: no variable of the test user's shell leaks in."""
        base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.home)}
        if self.user is not None:
            base["PYTHONPATH"] = str(self.checkout)
        for key in ("PG_BIN_DIR",):
            if key in os.environ:
                base[key] = os.environ[key]
        return {**base, **extra}


@contextmanager
def ordinary_user() -> Iterator[str | None]:
    """None when the tests do not run as root; else a throwaway system user, deleted after."""
    if os.geteuid() != 0:
        yield None
        return
    name = f"ww-test-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


@contextmanager
def installation(user: str | None) -> Iterator[Installation]:
    """The project installed where ``user`` can run it, in a folder removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="wh-user-"))
    try:
        if user is None:
            (base / "home").mkdir()
            yield Installation(None, Path(sys.executable), REPO, base / "home")
            return
        checkout = base / "checkout"
        checkout.mkdir()
        for name in CODE:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(
                    source, checkout / name, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                shutil.copy(source, checkout / name)
        (base / "home").mkdir()
        for path in [base, *base.rglob("*")]:
            shutil.chown(path, user, user)
        yield Installation(user, runtime_venv() / "bin" / "python", checkout, base / "home")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def runtime_venv() -> Path:
    """A virtual environment with what ``make run`` installs, made with the system Python."""
    lock = (REPO / "constraints.txt").read_bytes() + (REPO / "pyproject.toml").read_bytes()
    venv = VENV_CACHE / f"run-{hashlib.sha256(lock).hexdigest()[:16]}"
    if (venv / ".complete").exists():
        return venv
    VENV_CACHE.mkdir(mode=0o755, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".run-", dir=VENV_CACHE))
    try:
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(staging)], check=True)
        # The project's own requirements only: its code comes from the copy (PYTHONPATH).
        requirements = _run_requirements()
        subprocess.run([str(staging / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "-c", str(REPO / "constraints.txt"),
                        *requirements], check=True)  # fmt: skip
        (staging / ".complete").touch()
        staging.chmod(0o755)
        shutil.rmtree(venv, ignore_errors=True)
        # Its scripts name the staging folder, but only bin/python is used, and
        # that finds its packages from where it lies.
        staging.rename(venv)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return venv


def _run_requirements() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["embedded"]]
