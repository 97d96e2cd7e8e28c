"""Prometheus configured the way prometheus-operator reads the chart's objects.

The ServiceMonitor becomes a scrape job over the API server's endpoint
discovery that keeps the Services its selector matches and the endpoint port
it names, scraping its path, with the labels the operator sets (``job`` is the
Service name); the PrometheusRule's groups become a rule file. Only the
intervals are shortened, so that a test waits seconds rather than minutes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


def _label(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def scrape_jobs(
    monitor: dict[str, Any], api_server: str, ca_file: Path, token: str
) -> list[dict[str, Any]]:
    """One scrape job per ServiceMonitor endpoint."""
    spec = monitor["spec"]
    selector: dict[str, str] = spec["selector"]["matchLabels"]
    namespaces = spec["namespaceSelector"]["matchNames"]
    jobs = []
    for index, endpoint in enumerate(spec["endpoints"]):
        keep_service = {
            "source_labels": [f"__meta_kubernetes_service_label_{_label(k)}" for k in selector],
            "regex": ";".join(re.escape(v) for v in selector.values()),
            "action": "keep",
        }
        jobs.append(
            {
                "job_name": f"serviceMonitor/{namespaces[0]}/{monitor['metadata']['name']}/{index}",
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "metrics_path": endpoint.get("path", "/metrics"),
                "kubernetes_sd_configs": [
                    {
                        "role": "endpoints",
                        "api_server": api_server,
                        "namespaces": {"names": namespaces},
                        "tls_config": {"ca_file": str(ca_file)},
                        "authorization": {"credentials": token},
                    }
                ],
                "relabel_configs": [
                    keep_service,
                    {
                        "source_labels": ["__meta_kubernetes_endpoint_port_name"],
                        "regex": endpoint["port"],
                        "action": "keep",
                    },
                    {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                    {
                        "source_labels": ["__meta_kubernetes_service_name"],
                        "target_label": "service",
                    },
                    {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
                    {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job"},
                ],
            }
        )
    return jobs


def rule_file(rule: dict[str, Any], folder: Path) -> Path:
    """The PrometheusRule's groups as a Prometheus rule file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rule['metadata']['name']}.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    return path
