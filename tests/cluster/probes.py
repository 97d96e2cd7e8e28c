"""Probe pods: what a pod with given labels, in a given namespace, can connect to.

A probe runs the application's image (restricted-compliant, no pulls) and
waits; each :func:`reach` execs one round of TCP connects in it and returns
which targets answered. Policies take effect a little after a pod starts (the
enforcer watches pods), so :func:`settled_reach` waits until the expected
answer is seen once, then asks ``tries`` more times: every answer must match.
"""

from __future__ import annotations

import json
from typing import Any

from tests.cluster.deploy import Cluster
from tests.cluster.processes import wait_for

CONNECT = """
import json, socket, sys
found = {}
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        found[target] = True
    except OSError:
        found[target] = False
print(json.dumps(found))
"""
RESOLVE = """
import json, socket, sys
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = socket.gethostbyname(name)
    except OSError:
        found[name] = None
print(json.dumps(found))
"""
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod(name: str, namespace: str, labels: dict[str, str], image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": ["python3", "-c", "import time; time.sleep(900)"],
                    "securityContext": RESTRICTED,
                }
            ],
        },
    }


def start(cluster: Cluster, manifest: dict[str, Any]) -> None:
    """Create the probe pod and wait until it runs."""
    cluster.kube.apply([manifest])
    name, namespace = manifest["metadata"]["name"], manifest["metadata"]["namespace"]

    def running() -> bool:
        status: dict[str, Any] = cluster.kube.get("pod", name, "-n", namespace)["status"]
        return status.get("phase") == "Running"

    wait_for(running, f"probe pod {namespace}/{name} running", timeout=120)


def reach(cluster: Cluster, name: str, namespace: str, targets: list[str]) -> dict[str, bool]:
    """One round: for each ``host:port``, whether a TCP connect from the pod succeeded."""
    out = cluster.kube.kubectl(
        "exec", "-n", namespace, name, "--", "python3", "-c", CONNECT, *targets
    )
    found: dict[str, bool] = json.loads(out)
    return found


def resolve(cluster: Cluster, name: str, namespace: str, hosts: list[str]) -> dict[str, str | None]:
    """For each host name, the IPv4 address the pod's resolver gives (None: no answer)."""
    out = cluster.kube.kubectl(
        "exec", "-n", namespace, name, "--", "python3", "-c", RESOLVE, *hosts
    )
    found: dict[str, str | None] = json.loads(out)
    return found


def settled_reach(
    cluster: Cluster, name: str, namespace: str, expected: dict[str, bool], tries: int = 5
) -> list[dict[str, bool]]:
    """Wait (90 s at most) for ``expected`` once, then ``tries`` more rounds; all rounds."""
    targets = list(expected)
    seen: list[dict[str, bool]] = []

    def matches() -> bool:
        seen.append(reach(cluster, name, namespace, targets))
        return seen[-1] == expected

    try:
        wait_for(matches, f"{namespace}/{name} to see {expected}", timeout=90, every=1)
    except TimeoutError as exc:
        raise AssertionError(f"{namespace}/{name}: never {expected}; last {seen[-1:]}") from exc
    return [reach(cluster, name, namespace, targets) for _ in range(tries)]


def delete(cluster: Cluster, name: str, namespace: str) -> None:
    cluster.kube.kubectl("delete", "pod", name, "-n", namespace, "--wait=false")


def assert_answers(
    cluster: Cluster, manifest: dict[str, Any], expected: dict[str, bool], tries: int
) -> None:
    """Start the probe pod, require ``expected`` once the policies are in force and on
    every one of ``tries`` rounds after; delete the pod whatever happens."""
    name, namespace = manifest["metadata"]["name"], manifest["metadata"]["namespace"]
    start(cluster, manifest)
    try:
        assert settled_reach(cluster, name, namespace, expected, tries) == [expected] * tries
    finally:
        delete(cluster, name, namespace)
