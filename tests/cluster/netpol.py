"""NetworkPolicies: kube-network-policies, as the DaemonSet of its own install.yaml.

It is the enforcer kind ships: it queues each new connection of a pod to user
space (nfqueue) and accepts or drops it by the policies that select the pod.
Its image is built here (:mod:`tests.cluster.addon_images`); the manifest's
image reference is replaced and nothing else. Both clusters, with and without
Docker, install it the same way, before any policy exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cluster.kube import Kube, load_yaml

NAMESPACE = "kube-system"
DAEMONSET = "daemonset/kube-network-policies"


def root_is_shared(mountinfo: str) -> bool:
    """Whether ``/`` propagates mounts (``shared:N`` in its mountinfo line)."""
    for line in mountinfo.splitlines():
        fields = line.split()
        if fields[4] == "/":
            return any(f.startswith("shared:") for f in fields[6 : fields.index("-")])
    return False


def manifest(module: Path, image: str, propagation: bool = True) -> list[dict[str, Any]]:
    """The module's ``install.yaml`` (RBAC and DaemonSet), its image replaced.

    Without ``propagation``, its ``/var/run/netns`` volume is mounted without
    ``HostToContainer``: containerd refuses that on a machine whose ``/`` is a
    private mount (it is on this one, as it is not under systemd), and the
    no-Docker node shares the machine's mounts. The enforcer reads pods' network
    namespaces there only through NRI, which Debian's containerd 1.6 lacks."""
    objects = load_yaml(module / "install.yaml")
    for obj in objects:
        if obj["kind"] == "DaemonSet":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                container["image"] = image
                if not propagation:
                    for mount in container.get("volumeMounts", []):
                        mount.pop("mountPropagation", None)
    return objects


def install(kube: Kube, module: Path, image: str, propagation: bool = True) -> None:
    """Apply the install (:func:`wait_ready` waits for it)."""
    objects = manifest(module, image, propagation)
    kube.apply(objects, field_manager="kube-network-policies-install")


def wait_ready(kube: Kube) -> None:
    """Wait until the enforcer runs on the node."""
    kube.kubectl("rollout", "status", DAEMONSET, "-n", NAMESPACE, "--timeout=110s")
