"""Prometheus configured the way prometheus-operator reads the chart's objects.

The platform's Prometheus (kube-prometheus-stack's, release
``kube-prometheus-stack``) picks ServiceMonitors and PrometheusRules by their
labels; for each chosen ServiceMonitor endpoint, prometheus-operator writes a
scrape job over Kubernetes endpoints discovery whose relabelling keeps the
Services the monitor selects and the port it names, and derives ``job``,
``namespace``, ``service``, ``pod`` and ``endpoint``. Debian's Prometheus is
built without Kubernetes discovery, so the harness stands in for that one part:
it lists every Endpoints object of the monitor's namespaces from the real API
server and hands Prometheus the ``__meta_kubernetes_*`` labels discovery would
set (as ``file_sd``). Selection and labels are then Prometheus's own work, by
the relabelling rules below. Only the intervals are shortened.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.cluster.kube import Kube

RELEASE = "kube-prometheus-stack"
# The selectors of kube-prometheus-stack's Prometheus (its defaults, release above).
PLATFORM_PROMETHEUS: dict[str, Any] = {
    "serviceMonitorSelector": {"matchLabels": {"release": RELEASE}},
    "ruleSelector": {"matchLabels": {"release": RELEASE}},
}
META = "__meta_kubernetes_"


def _label_name(name: str) -> str:
    """A Kubernetes label name as discovery writes it into a Prometheus label name."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def matches(labels: dict[str, str], selector: dict[str, Any]) -> bool:
    """Whether ``labels`` satisfy a Kubernetes label selector."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, op, values = expression["key"], expression["operator"], expression.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def selected(kube: Kube, kind: str, selector: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``kind`` object in the cluster whose labels the selector matches."""
    items: list[dict[str, Any]] = kube.get(kind, "--all-namespaces")["items"]
    return [o for o in items if matches(o["metadata"].get("labels", {}), selector)]


def _service_meta(service: dict[str, Any]) -> dict[str, str]:
    meta = {f"{META}namespace": service["metadata"]["namespace"],
            f"{META}service_name": service["metadata"]["name"]}  # fmt: skip
    for key, value in service["metadata"].get("labels", {}).items():
        meta[f"{META}service_label_{_label_name(key)}"] = value
        meta[f"{META}service_labelpresent_{_label_name(key)}"] = "true"
    return meta


def _address_meta(address: dict[str, Any], ready: bool, pods: dict[str, Any]) -> dict[str, str]:
    ref = address.get("targetRef") or {}
    meta = {f"{META}endpoint_ready": str(ready).lower(),
            f"{META}endpoint_address_target_kind": ref.get("kind", ""),
            f"{META}endpoint_address_target_name": ref.get("name", "")}  # fmt: skip
    pod = pods.get(ref.get("name", "")) if ref.get("kind") == "Pod" else None
    if pod is not None:
        meta[f"{META}pod_name"] = pod["metadata"]["name"]
        meta[f"{META}pod_phase"] = pod["status"].get("phase", "")
    return meta


def discovered(kube: Kube, namespaces: list[str]) -> list[dict[str, Any]]:
    """``file_sd`` target groups for every endpoint of every Service in ``namespaces``,
    labelled as Kubernetes endpoints discovery labels them."""
    groups = []
    for namespace in namespaces:
        services = {s["metadata"]["name"]: s
                    for s in kube.get("services", "-n", namespace)["items"]}  # fmt: skip
        pods = {p["metadata"]["name"]: p for p in kube.get("pods", "-n", namespace)["items"]}
        for endpoints in kube.get("endpoints", "-n", namespace)["items"]:
            service = services.get(endpoints["metadata"]["name"])
            if service is None:
                continue
            for subset in endpoints.get("subsets") or []:
                listed = [(a, True) for a in subset.get("addresses") or []]
                listed += [(a, False) for a in subset.get("notReadyAddresses") or []]
                for address, ready in listed:
                    for port in subset.get("ports", []):
                        labels = _service_meta(service) | _address_meta(address, ready, pods)
                        labels[f"{META}endpoint_port_name"] = port.get("name", "")
                        labels[f"{META}endpoint_port_protocol"] = port.get("protocol", "TCP")
                        groups.append({"targets": [f"{address['ip']}:{port['port']}"],
                                       "labels": labels})  # fmt: skip
    return groups


def _keep_selected(selector: dict[str, Any]) -> list[dict[str, Any]]:
    """prometheus-operator's relabelling that keeps the Services a selector matches."""
    rules: list[dict[str, Any]] = []
    for key, value in selector.get("matchLabels", {}).items():
        name = _label_name(key)
        rules.append({"action": "keep", "regex": f"({re.escape(value)});true",
                      "source_labels": [f"{META}service_label_{name}",
                                        f"{META}service_labelpresent_{name}"]})  # fmt: skip
    for expression in selector.get("matchExpressions", []):
        name, op = _label_name(expression["key"]), expression["operator"]
        values = "|".join(re.escape(v) for v in expression.get("values", []))
        present = f"{META}service_labelpresent_{name}"
        value = f"{META}service_label_{name}"
        rules.append({
            "In": {"action": "keep", "source_labels": [value, present],
                   "regex": f"({values});true"},
            "NotIn": {"action": "drop", "source_labels": [value, present],
                      "regex": f"({values});true"},
            "Exists": {"action": "keep", "source_labels": [present], "regex": "true"},
            "DoesNotExist": {"action": "drop", "source_labels": [present], "regex": "true"},
        }[op])  # fmt: skip
    return rules


def _relabel(monitor: dict[str, Any], endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    spec = monitor["spec"]
    rules = _keep_selected(spec["selector"])
    rules.append({"action": "keep", "source_labels": [f"{META}endpoint_port_name"],
                  "regex": endpoint["port"]})  # fmt: skip
    for label, source in (("namespace", "namespace"), ("service", "service_name"),
                          ("pod", "pod_name")):  # fmt: skip
        rules.append({"source_labels": [f"{META}{source}"], "target_label": label})
    rules.append({"action": "drop", "source_labels": [f"{META}pod_phase"],
                  "regex": "(Failed|Succeeded)"})  # fmt: skip
    rules.append({"source_labels": [f"{META}service_name"], "target_label": "job",
                  "replacement": "${1}"})  # fmt: skip
    if job_label := spec.get("jobLabel"):
        rules.append({"source_labels": [f"{META}service_label_{_label_name(job_label)}"],
                      "target_label": "job", "regex": "(.+)", "replacement": "${1}"})  # fmt: skip
    rules.append({"target_label": "endpoint", "replacement": endpoint["port"]})
    return rules


def scrape_jobs(kube: Kube, folder: Path) -> list[dict[str, Any]]:
    """The scrape jobs of every ServiceMonitor the platform's Prometheus selects."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for monitor in selected(kube, "servicemonitors", PLATFORM_PROMETHEUS["serviceMonitorSelector"]):
        namespace, name = monitor["metadata"]["namespace"], monitor["metadata"]["name"]
        names = monitor["spec"].get("namespaceSelector", {}).get("matchNames") or [namespace]
        targets = folder / f"endpoints-{namespace}-{name}.json"
        targets.write_text(json.dumps(discovered(kube, names)))
        for index, endpoint in enumerate(monitor["spec"]["endpoints"]):
            jobs.append({
                "job_name": f"serviceMonitor/{namespace}/{name}/{index}",
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "metrics_path": endpoint.get("path", "/metrics"),
                "file_sd_configs": [{"files": [str(targets)], "refresh_interval": "1s"}],
                "relabel_configs": _relabel(monitor, endpoint),
            })  # fmt: skip
    return jobs


def rule_files(kube: Kube, folder: Path) -> list[Path]:
    """The groups of every PrometheusRule the platform's Prometheus selects, one file each."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for rule in selected(kube, "prometheusrules", PLATFORM_PROMETHEUS["ruleSelector"]):
        path = folder / f"{rule['metadata']['namespace']}-{rule['metadata']['name']}.rules.yaml"
        path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        paths.append(path)
    return paths
