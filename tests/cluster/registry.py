"""The run's image registry: ``crane registry serve`` on the node's address.

Upstream's manifests pull some images ``Always``; a node can only honour that
against a registry, so the add-ons' images are pushed to this one and the
node's containerd pulls them over plain HTTP (its mirror entry in
:mod:`tests.cluster.node`). Blobs live on disk under the run's folder.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.cluster.netns import NODE_IP
from tests.cluster.processes import Supervisor, wait_for

PORT = 5000
ADDRESS = f"{NODE_IP}:{PORT}"


def _listening() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((NODE_IP, PORT)) == 0


def start(sup: Supervisor, crane: Path, base: Path) -> str:
    """Serve a registry on ADDRESS; its host:port."""
    blobs = base / "registry"
    blobs.mkdir()
    sup.start("registry", [str(crane), "registry", "serve", "--address", ADDRESS,
                           "--disk", str(blobs)])  # fmt: skip
    wait_for(_listening, "image registry", timeout=30, supervisor=sup)
    return ADDRESS


def push(crane: Path, image: Path, reference: str) -> None:
    """Push an OCI layout folder (or a docker-archive) to ``reference``; plain HTTP,
    the registry is the run's own."""
    result = subprocess.run(
        [str(crane), "push", "--insecure", str(image), reference],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"crane push {reference}: {result.stderr.strip()[-2000:]}")
