"""Prometheus configured the way prometheus-operator reads the chart's objects.

The ServiceMonitor selects Services by label, names an endpoint port and a
path; prometheus-operator turns that into a scrape job over Kubernetes endpoint
discovery. Debian's Prometheus is built without Kubernetes discovery, so the
harness does that discovery itself, from the real API server: the Endpoints of
the Services the selector matches, the port the ServiceMonitor names, and the
labels the operator sets (``job`` is the Service name, plus namespace, service
and pod). Prometheus gets them as a ``file_sd`` target list and scrapes the
ServiceMonitor's path. The PrometheusRule's groups become a rule file. Only the
intervals are shortened, so that a test waits seconds rather than minutes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.cluster.kube import Kube


def discovered_targets(
    kube: Kube, monitor: dict[str, Any], endpoint: dict[str, Any]
) -> list[dict[str, Any]]:
    """The file_sd targets of one ServiceMonitor endpoint, as endpoint discovery finds them."""
    spec = monitor["spec"]
    selector = ",".join(f"{k}={v}" for k, v in spec["selector"]["matchLabels"].items())
    targets = []
    for namespace in spec["namespaceSelector"]["matchNames"]:
        for service in kube.get("services", "-n", namespace, "-l", selector)["items"]:
            name = service["metadata"]["name"]
            endpoints = kube.get("endpoints", name, "-n", namespace)
            for subset in endpoints.get("subsets") or []:
                ports = [p["port"] for p in subset["ports"] if p.get("name") == endpoint["port"]]
                for address in subset.get("addresses") or []:
                    pod = (address.get("targetRef") or {}).get("name", "")
                    labels = {"job": name, "namespace": namespace, "service": name, "pod": pod}
                    targets += [{"targets": [f"{address['ip']}:{port}"], "labels": labels}
                                for port in ports]  # fmt: skip
    return targets


def scrape_jobs(kube: Kube, monitor: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    """One scrape job per ServiceMonitor endpoint, over the targets discovered now."""
    folder.mkdir(parents=True, exist_ok=True)
    namespace = monitor["spec"]["namespaceSelector"]["matchNames"][0]
    jobs = []
    for index, endpoint in enumerate(monitor["spec"]["endpoints"]):
        targets = folder / f"targets-{index}.json"
        targets.write_text(json.dumps(discovered_targets(kube, monitor, endpoint)))
        jobs.append(
            {
                "job_name": f"serviceMonitor/{namespace}/{monitor['metadata']['name']}/{index}",
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "metrics_path": endpoint.get("path", "/metrics"),
                "file_sd_configs": [{"files": [str(targets)], "refresh_interval": "1s"}],
            }
        )
    return jobs


def rule_file(rule: dict[str, Any], folder: Path) -> Path:
    """The PrometheusRule's groups as a Prometheus rule file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rule['metadata']['name']}.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    return path
