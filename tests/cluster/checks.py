"""Reading the deployment's state: the Application, its objects, the API pod."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from tests.cluster.deploy import APPLICATION, NAMESPACE, Cluster
from tests.cluster.processes import wait_for

ALB_HOSTNAME = "internal-weather-warehouse-dev-0123456789.us-east-1.elb.amazonaws.com"


def application(cluster: Cluster, name: str = APPLICATION) -> dict[str, Any]:
    found: dict[str, Any] = cluster.kube.get("application", name, "-n", "argocd")
    return found


def sync_and_health(app: dict[str, Any]) -> tuple[str, str]:
    status = app.get("status", {})
    return status.get("sync", {}).get("status", ""), status.get("health", {}).get("status", "")


def stand_in_for_load_balancer_controller(cluster: Cluster) -> None:
    """Write the ALB's address into Ingress status, as the AWS controller does on EKS
    (Argo CD counts an Ingress without one as Progressing)."""
    ingresses = cluster.kube.get("ingress", "-n", NAMESPACE)["items"]
    for ingress in ingresses:
        if not ingress.get("status", {}).get("loadBalancer", {}).get("ingress"):
            patch = {"status": {"loadBalancer": {"ingress": [{"hostname": ALB_HOSTNAME}]}}}
            cluster.kube.kubectl(
                "patch",
                "ingress",
                ingress["metadata"]["name"],
                "-n",
                NAMESPACE,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps(patch),
            )


def wait_synced_healthy(cluster: Cluster, timeout: float = 600) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        stand_in_for_load_balancer_controller(cluster)
        app = application(cluster)
        return app if sync_and_health(app) == ("Synced", "Healthy") else None

    found = wait_for(done, f"{APPLICATION} Synced and Healthy", timeout=timeout, every=1)
    assert isinstance(found, dict)
    return found


def api_pod_ips(cluster: Cluster) -> list[str]:
    pods = cluster.kube.get("pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=api")
    return [
        p["status"]["podIP"]
        for p in pods["items"]
        if p["status"].get("podIP")
        and p["metadata"].get("deletionTimestamp") is None
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p["status"].get("conditions", [])
        )
    ]


def get_json(url: str, timeout: float = 10, host: str | None = None) -> Any:
    """GET ``url`` as JSON; ``host`` is the Host header (the API answers only hosts it serves)."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def wait_rollout(cluster: Cluster, deployment: str, timeout: float = 300) -> None:
    def done() -> bool:
        d = cluster.kube.get("deployment", deployment, "-n", NAMESPACE)
        spec, status = d["spec"], d.get("status", {})
        return bool(
            status.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and status.get("updatedReplicas", 0) == spec["replicas"]
            and status.get("availableReplicas", 0) == spec["replicas"]
            and status.get("replicas", 0) == spec["replicas"]
        )

    wait_for(done, f"rollout of {deployment}", timeout=timeout, every=0.5)


def now() -> float:
    return time.monotonic()
