"""GitOps benchmark: push → rollout complete on the no-Docker cluster.

Prints figures; asserts nothing. Brings up the same cluster as tests/cluster
(binaries built or taken from the cache), waits for the dev Application to be
Synced and Healthy, then pushes commits that change ``api.logLevel`` in
``k8s/envs/dev/values.yaml`` and times until every API pod runs the new value
and the Deployment's rollout is complete:

- polling: Argo CD finds the commit on its own (every timeout.reconciliation of argocd-cm,
  30 s in the harness; 180 s is Argo CD's default);
- refresh: right after the push the Application gets the refresh annotation,
  which is what Argo CD's webhook handler does when the git host calls it.

    .venv/bin/python -m tests.cluster.launch --run bench.gitops_rollout [--rounds 2]
    (from the repository root; root or passwordless sudo, as make cluster-test)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from tests.cluster import argocd, checks, launch, nodocker
from tests.cluster.deploy import APPLICATION, NAMESPACE, Cluster
from tests.cluster.gitrepo import edit_yaml
from tests.cluster.processes import wait_for
from tests.cluster.timings import Timings

LEVELS = ("INFO", "WARNING", "DEBUG", "ERROR")


def _pods_run(cluster: Cluster, level: str) -> bool:
    pods = cluster.kube.get("pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=api")
    live = [p for p in pods["items"] if p["metadata"].get("deletionTimestamp") is None]
    return bool(live) and all(
        {e["name"]: e.get("value") for e in p["spec"]["containers"][0]["env"]}.get("LOG_LEVEL")
        == level
        and p["status"].get("phase") == "Running"
        for p in live
    )


def push_to_rollout(cluster: Cluster, level: str, refresh: bool) -> float:
    """Seconds from ``git push`` to the rollout of ``level`` being complete."""

    def change(work: Path) -> None:
        edit_yaml(work / "k8s/envs/dev/values.yaml", lambda v: v["api"].update(logLevel=level))  # type: ignore[union-attr]

    started = time.monotonic()
    cluster.repo.push(change, f"dev: API log level {level}")
    if refresh:
        cluster.kube.kubectl("annotate", "application", APPLICATION, "-n", "argocd",
                             "--overwrite", "argocd.argoproj.io/refresh=hard")  # fmt: skip
    wait_for(lambda: _pods_run(cluster, level), f"pods at {level}", timeout=600, every=0.2)
    checks.wait_rollout(cluster, "weather-warehouse-api", timeout=600)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="pushes per mode (1-5)")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 5))
    launched = launch.environment()
    if launched is None:
        parser.error("run it through: python -m tests.cluster.launch --run bench.gitops_rollout")
    timings = Timings()
    figures: dict[str, list[float]] = {"polling": [], "refresh": []}
    with nodocker.running(*launched, timings) as cluster:
        checks.wait_synced_healthy(cluster)
        timings.mark("up to dev Synced and Healthy", cluster.up_since)
        levels = iter(LEVELS * 5)
        for _ in range(rounds):
            for mode in ("polling", "refresh"):
                seconds = push_to_rollout(cluster, next(levels), mode == "refresh")
                figures[mode].append(seconds)
                checks.wait_synced_healthy(cluster)
    print(f"Argo CD reconciliation (polling) period: {argocd.RECONCILIATION}")
    print(timings.report())
    for mode, values in figures.items():
        print(f"push -> rollout complete, {mode}: "
              + ", ".join(f"{v:.1f} s" for v in values)
              + f" (median {statistics.median(values):.1f} s)")  # fmt: skip
    print(json.dumps({"figures": timings.figures, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
