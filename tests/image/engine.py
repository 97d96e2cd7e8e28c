"""Build and run the container image with the container engine this machine has.

- As root with Debian's podman (this machine, CI here; no registry is
  reachable): the base image is built here, ``scripts/image/build-base-rootfs.sh``
  (debootstrap minbase + Debian's python3 3.11 and venv), cached as a tarball
  under ``${WW_TOOL_CACHE:-~/.cache/weather-warehouse}/image``, imported with
  ``podman import`` and passed to the Dockerfile as ``BASE_IMAGE``. Podman's
  configuration and storage live beside it in ``image/podman``
  (``CONTAINERS_CONF``, ``CONTAINERS_STORAGE_CONF``): runtime
  runc, cgroupfs, events in a file, and default ulimits this machine can
  grant (it cannot raise rlimits, and podman's defaults would ask for more).
- As a normal user with passwordless sudo and podman: the same, through
  ``sudo -n`` (debootstrap and rootful podman need root).
- As a normal user with Docker (a GitHub-hosted runner): ``docker`` as that
  user, on the Dockerfile's own pinned base image from Docker Hub.
- Otherwise :func:`engine` skips (fails under ``CI=true``) saying what is
  missing for each way.

The machine's CA bundle reaches pip only as a build secret.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scripts.root import root_prefix
from tests.tools import REPO, require

# Outside the checkout: under sudo, debootstrap and podman write root-owned
# files here, and a checkout must hold none; kept between runs like the other
# built tools (a fresh clone reuses the base image and podman's layer cache).
CACHE = (
    Path(os.environ.get("WW_TOOL_CACHE") or Path.home() / ".cache" / "weather-warehouse") / "image"
)
ROOTFS = CACHE / "base-rootfs.tar"
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


@dataclass(frozen=True)
class Engine:
    """A container engine: its command line (with ``sudo -n`` when needed) and environment."""

    name: str  # "podman" or "docker"
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    as_root: list[str] = field(default_factory=list)  # the prefix running a tool as root

    def run(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``ENGINE ARGS``; with ``check``, fail the test with the engine's own words."""
        result = subprocess.run(
            [*self.command, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{self.name} {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}"
            )
        return result


@functools.cache
def _choose() -> Engine | str:
    """The engine to use, or why none can be used."""
    why: list[str] = []
    as_root = root_prefix()
    podman = shutil.which("podman")
    if podman and as_root is not None:
        env = _podman_environment()
        # sudo resets the environment: podman's two variables go through env(1).
        sudo_env = ["env", *(f"{k}={v}" for k, v in env.items())] if as_root else []
        return Engine("podman", [*as_root, *sudo_env, podman], env, as_root)
    why.append("podman: " + ("not installed" if not podman else "needs root or passwordless sudo"))
    docker = shutil.which("docker")
    if docker:
        info = subprocess.run([docker, "info"], capture_output=True, text=True, check=False)
        if info.returncode == 0:
            return Engine("docker", [docker], {"DOCKER_BUILDKIT": "1"})
        why.append(f"docker: `docker info` failed: {info.stderr.strip()[-300:]}")
    else:
        why.append("docker: not installed")
    return "no usable container engine (" + "; ".join(why) + ")"


def engine() -> Engine:
    """The engine of this machine; skips (fails under ``CI=true``) when there is none."""
    chosen = _choose()
    if isinstance(chosen, Engine):
        return chosen
    if os.environ.get("CI") == "true":
        pytest.fail(f"{chosen}; CI must run every test")
    pytest.skip(chosen)


def _storage_driver() -> str:
    # overlay is several times faster than vfs, but cannot stack on overlayfs
    # (a CI job inside a container): fall back to vfs there.
    fs_type = subprocess.run(
        ["stat", "-f", "-c", "%T", str(CACHE)], capture_output=True, text=True, check=True
    ).stdout.strip()
    return "vfs" if fs_type == "overlayfs" else "overlay"


def _podman_environment() -> dict[str, str]:
    """Podman's config and storage under the cache's image/podman."""
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
        "CONTAINERS_CONF": str(containers_conf),
        "CONTAINERS_STORAGE_CONF": str(storage_conf),
    }


def build_base(engine: Engine) -> str | None:
    """The base image to build on: None for the Dockerfile's own (Docker, a registry in
    reach); for podman, the locally built stand-in for python:3.11-slim-bookworm."""
    if engine.name == "docker":
        return None
    if not ROOTFS.exists():
        require("debootstrap")
        ROOTFS.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [*engine.as_root, str(REPO / "scripts" / "image" / "build-base-rootfs.sh"),
             str(ROOTFS)],
            check=True,
            capture_output=True,
            timeout=900,
        )  # fmt: skip
    # Import once per tarball: a re-import is a new image, which would make
    # every build layer on top of it miss podman's cache.
    stat = ROOTFS.stat()
    stamp = f"{stat.st_size}-{stat.st_mtime_ns}"
    found = engine.run("image", "inspect", "--format", "{{index .Labels \"rootfs\"}}", BASE_TAG,
                       check=False)  # fmt: skip
    if found.returncode != 0 or found.stdout.strip() != stamp:
        path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        engine.run("import", "--change", f"ENV {path}", "--change", f"LABEL rootfs={stamp}",
                   str(ROOTFS), BASE_TAG, timeout=300)  # fmt: skip
    return BASE_TAG


def build_image(engine: Engine, base: str | None) -> str:
    """Build the project's Dockerfile (on ``base``, if given); the image's tag."""
    # The machine's CA bundle (a TLS-intercepting proxy may sit between pip
    # and PyPI) goes in as a secret: mounted for the RUN steps, never stored.
    secret = ["--secret", f"id=cacert,src={CA_BUNDLE}"] if CA_BUNDLE.exists() else []
    base_arg = ["--build-arg", f"BASE_IMAGE={base}"] if base else []
    engine.run("build", "--network", "host", *base_arg, *secret,
               "--tag", IMAGE_TAG, str(REPO), timeout=900)  # fmt: skip
    # Earlier builds' images are untagged now: drop those older than an hour,
    # keeping the recent layer cache, so the engine's storage does not grow forever.
    engine.run("image", "prune", "--force", "--filter", "until=1h", check=False)
    return IMAGE_TAG
