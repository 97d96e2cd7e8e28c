"""Root for the few commands that need it: nothing when root, ``sudo -n`` otherwise.

A GitHub-hosted runner is a normal user with passwordless sudo; this machine's CI
is root. ``make tools`` (Debian packages) and the tests that need root for one
step (a network namespace, rootful podman, containerd) take it for that step
only, through :func:`root_prefix`; nothing may prompt for a password mid-run.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence


@functools.cache
def root_prefix() -> list[str] | None:
    """``[]`` as root, ``[sudo, -n]`` with passwordless sudo, None without either."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo is None:
        return None
    probe = subprocess.run([sudo, "-n", "true"], capture_output=True, check=False)
    return [sudo, "-n"] if probe.returncode == 0 else None


def as_root(argv: Sequence[str], env: Mapping[str, str] | None = None) -> list[str]:
    """``argv`` run as root; ``env`` goes through env(1), since sudo resets the environment."""
    prefix = root_prefix()
    if prefix is None:
        raise PermissionError(f"{argv[0]} needs root: run as root or with passwordless sudo")
    variables = ["env", *(f"{k}={v}" for k, v in env.items())] if env else []
    return [*prefix, *variables, *argv]


def run_as_root(*argv: str) -> str:
    """Run ``argv`` as root; its standard output (raises with its stderr on failure)."""
    result = subprocess.run(as_root(argv), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip()}")
    return result.stdout
