"""Build and run the container image with Debian's podman, where no registry is reachable.

- The base image is built here: ``scripts/image/build-base-rootfs.sh``
  (debootstrap minbase + Debian's python3 3.11 and venv), cached as a tarball
  under ``.cache/image``, imported with ``podman import`` and passed to the
  Dockerfile as ``BASE_IMAGE``.
- Podman's configuration and storage live under ``.cache/podman`` (pointed to
  with ``CONTAINERS_CONF`` and ``CONTAINERS_STORAGE_CONF``): runtime runc,
  cgroupfs, events in a file, and default ulimits this machine can grant
  (it cannot raise rlimits, and podman's defaults would ask for more).
- The machine's CA bundle reaches pip only as a build secret.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.tools import REPO, require

CACHE = REPO / ".cache"
ROOTFS = CACHE / "image" / "base-rootfs.tar"
PODMAN_DIR = CACHE / "podman"
BASE_TAG = "localhost/weather-warehouse-base:bookworm-python3.11"
IMAGE_TAG = "localhost/weather-warehouse:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def _storage_driver() -> str:
    # overlay is several times faster than vfs, but cannot stack on overlayfs
    # (a CI job inside a container): fall back to vfs there.
    fs_type = subprocess.run(
        ["stat", "-f", "-c", "%T", str(CACHE)], capture_output=True, text=True, check=True
    ).stdout.strip()
    return "vfs" if fs_type == "overlayfs" else "overlay"


def environment() -> dict[str, str]:
    """The environment podman runs with: its config and storage under .cache/podman."""
    PODMAN_DIR.mkdir(parents=True, exist_ok=True)
    driver = _storage_driver()
    containers_conf = PODMAN_DIR / "containers.conf"
    containers_conf.write_text(CONTAINERS_CONF, encoding="utf-8")
    storage_conf = PODMAN_DIR / "storage.conf"
    storage_conf.write_text(
        "[storage]\n"
        f'driver = "{driver}"\n'
        f'graphroot = "{PODMAN_DIR / ("storage-" + driver)}"\n'
        f'runroot = "{PODMAN_DIR / ("run-" + driver)}"\n',
        encoding="utf-8",
    )
    return {
        **os.environ,
        "CONTAINERS_CONF": str(containers_conf),
        "CONTAINERS_STORAGE_CONF": str(storage_conf),
    }


def require_root() -> None:
    """debootstrap and rootful podman need root; skip (fail under CI) without it."""
    if os.geteuid() == 0:
        return
    message = "building the base image needs root (debootstrap, rootful podman)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must run every test")
    pytest.skip(message)


def podman(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``podman ARGS`` with the project's configuration."""
    result = subprocess.run(
        [str(require("podman")), *args],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}"
        )
    return result


def build_base() -> str:
    """The locally built stand-in for python:3.11-slim-bookworm, imported into podman."""
    if not ROOTFS.exists():
        require("debootstrap")
        subprocess.run(
            [str(REPO / "scripts" / "image" / "build-base-rootfs.sh"), str(ROOTFS)],
            check=True,
            capture_output=True,
            timeout=900,
        )
    # Import once per tarball: a re-import is a new image, which would make
    # every build layer on top of it miss podman's cache.
    stat = ROOTFS.stat()
    stamp = f"{stat.st_size}-{stat.st_mtime_ns}"
    found = podman("image", "inspect", "--format", "{{index .Labels \"rootfs\"}}", BASE_TAG,
                   check=False)  # fmt: skip
    if found.returncode != 0 or found.stdout.strip() != stamp:
        path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        podman("import", "--change", f"ENV {path}", "--change", f"LABEL rootfs={stamp}",
               str(ROOTFS), BASE_TAG, timeout=300)  # fmt: skip
    return BASE_TAG


def build_image(base: str) -> str:
    """``podman build`` the project's Dockerfile on ``base``; the image's tag."""
    # The machine's CA bundle (a TLS-intercepting proxy may sit between pip
    # and PyPI) goes in as a secret: mounted for the RUN steps, never stored.
    secret = ["--secret", f"id=cacert,src={CA_BUNDLE}"] if CA_BUNDLE.exists() else []
    podman("build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", *secret,
           "--tag", IMAGE_TAG, str(REPO), timeout=900)  # fmt: skip
    # Earlier builds' images are untagged now: drop those older than an hour,
    # keeping the recent layer cache, so .cache/podman does not grow forever.
    podman("image", "prune", "--force", "--filter", "until=1h", check=False)
    return IMAGE_TAG
