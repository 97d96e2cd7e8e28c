"""The deployment on a real cluster: Argo CD syncs git, External Secrets brings the
password, the migration hook runs first, the API answers (issue 16).

One cluster serves the whole module (tests/cluster/conftest.py); the tests run
in file order and each leaves the deployment Synced for the next.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from command.sample_data import MISSING, SampleSpec, make_stations, station_lines
from tests.cluster import argocd, audit, checks, eso, monitoring, netpol, probes
from tests.cluster.deploy import (
    APPLICATION,
    DB_NAME,
    DB_USER,
    INCOMING_BUCKET,
    NAMESPACE,
    NOAA_BUCKET,
    Cluster,
)
from tests.cluster.gitrepo import edit_yaml
from tests.cluster.netns import CLUSTER_DNS_IP
from tests.cluster.processes import wait_for
from tests.harness import prometheus
from tests.tools import require

API = "weather-warehouse-api"  # the Deployment
SERVICE = "weather-warehouse"
DB_SECRET = "weather-warehouse-db"
MIGRATION_JOB = "weather-warehouse-migrate"  # the chart's Sync hook
DEV_VALUES = Path("k8s/envs/dev/values.yaml")
STAY_SYNCED_S = 120


@pytest.fixture(scope="module")
def synced(cluster: Cluster) -> dict[str, Any]:
    """The dev Application once it first reaches Synced and Healthy."""
    app = checks.wait_synced_healthy(cluster)
    cluster.timings.mark("up to dev Synced and Healthy", cluster.up_since)
    return app


def _ready_pods(cluster: Cluster, namespace: str) -> dict[str, list[str]]:
    """Running pods whose containers are all ready: app.kubernetes.io/name → images."""
    found: dict[str, list[str]] = {}
    for pod in cluster.kube.get("pods", "-n", namespace)["items"]:
        statuses = pod["status"].get("containerStatuses", [])
        if pod["status"].get("phase") == "Running" and all(c["ready"] for c in statuses):
            name = pod["metadata"]["labels"].get("app.kubernetes.io/name", "")
            found[name] = found.get(name, []) + [c["image"] for c in pod["spec"]["containers"]]
    return found


def test_argocd_runs_in_the_cluster_from_its_core_install(cluster: Cluster) -> None:
    images = cluster.addon_images
    assert _ready_pods(cluster, argocd.NAMESPACE) == {
        "argocd-application-controller": [images["argocd"]],
        "argocd-applicationset-controller": [images["argocd"]],
        "argocd-redis": [images["redis"]],
        "argocd-repo-server": [images["argocd"]],
    }


def test_external_secrets_runs_its_controller_webhook_and_cert_controller(
    cluster: Cluster,
) -> None:
    workloads = [eso.RELEASE, f"{eso.RELEASE}-webhook", f"{eso.RELEASE}-cert-controller"]
    assert _ready_pods(cluster, eso.NAMESPACE) == {
        name: [cluster.addon_images["external-secrets"]] for name in workloads
    }


def test_kube_network_policies_runs_from_its_own_install(cluster: Cluster) -> None:
    pods = cluster.kube.get("pods", "-n", netpol.NAMESPACE, "-l", "app=kube-network-policies")
    running = [
        [c["image"] for c in pod["spec"]["containers"]]
        for pod in pods["items"]
        if pod["status"].get("phase") == "Running"
        and all(c["ready"] for c in pod["status"].get("containerStatuses", []))
    ]
    assert running == [[cluster.addon_images["kube-network-policies"]]]


def test_the_external_secrets_webhook_refuses_an_invalid_external_secret(
    cluster: Cluster,
) -> None:
    # Valid by the CRD's schema; only the operator's webhook knows it is not.
    invalid = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "no-data", "namespace": "default"},
        "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": eso.STORE}},
    }
    with pytest.raises(RuntimeError, match="either data or dataFrom should be specified"):
        cluster.kube.kubectl("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(invalid))


def test_pods_resolve_cluster_names_and_nothing_else(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    name, namespace = "dns-probe", "default"
    probes.start(cluster, probes.pod(name, namespace, {}, _image(cluster)))
    try:
        found = probes.resolve(cluster, name, namespace, [
            "kube-dns.kube-system.svc.cluster.local",
            "argocd-repo-server.argocd",  # the short form, through the search path
            "deb.debian.org",
            "pypi.org",
        ])  # fmt: skip
    finally:
        probes.delete(cluster, name, namespace)
    assert found["kube-dns.kube-system.svc.cluster.local"] == CLUSTER_DNS_IP
    assert found["argocd-repo-server.argocd"] is not None
    assert found["deb.debian.org"] is None
    assert found["pypi.org"] is None


def test_the_applicationset_generates_an_application_per_environment(cluster: Cluster) -> None:
    def generated() -> list[str] | None:
        apps = cluster.kube.get("applications", "-n", "argocd")["items"]
        names = sorted(a["metadata"]["name"] for a in apps)
        return names if len(names) >= 2 else None

    names = wait_for(generated, "generated Applications", timeout=120)
    assert names == ["weather-warehouse-dev", "weather-warehouse-prod"]
    dev = checks.application(cluster)
    assert dev["spec"]["source"]["repoURL"] == cluster.repo.url
    assert dev["spec"]["source"]["helm"]["valueFiles"] == ["../../k8s/envs/dev/values.yaml"]
    assert dev["spec"]["destination"]["namespace"] == NAMESPACE


def test_dev_reaches_synced_and_healthy_in_a_restricted_namespace(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    assert checks.sync_and_health(synced) == ("Synced", "Healthy")
    labels = cluster.kube.get("namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_external_secret_brings_the_password_that_postgres_accepts(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    secret = cluster.kube.get("secret", DB_SECRET, "-n", NAMESPACE)
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == {"username": DB_USER, "password": cluster.db_password}
    url = f"postgresql://{DB_USER}@{cluster.database_host}:5432/{DB_NAME}?sslmode=require"
    with psycopg.connect(url, password=data["password"], connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (DB_USER,)


def test_sync_order_is_external_secret_then_its_secret_then_migration_hook_then_api(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    # The API server's own record of the first sync's creations (Argo CD
    # deletes the succeeded hook Job, so the objects left cannot tell).
    created = audit.creations(cluster.audit_log, NAMESPACE)

    def first(resource: str, prefix: str) -> audit.Creation:
        found = [c for c in created if c.resource == resource and c.name.startswith(prefix)]
        assert found, f"the audit log shows no {resource} {prefix}* created"
        return found[0]

    order = [
        first("externalsecrets", DB_SECRET),  # wave -2, by Argo CD
        first("secrets", DB_SECRET),  # by External Secrets, from Secrets Manager
        first("jobs", MIGRATION_JOB),  # the Sync hook, wave -1, once the secret is there
        first("replicasets", API),  # wave 0: the API's Deployment, then its ReplicaSet
    ]
    said = [f"{c.resource}/{c.name} at {c.at.time()}" for c in order]
    assert [c.at for c in order] == sorted(c.at for c in order), said
    assert len({c.at for c in order}) == len(order), said
    with psycopg.connect(cluster.admin_database_url, dbname=DB_NAME) as conn:
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert {"station", "observation", "weather_stats", "ingest_run"} <= tables


def _hook_creations(cluster: Cluster, since: datetime.datetime) -> list[audit.Creation]:
    """The migration hook Jobs the API server created at or after ``since``."""
    return [
        c
        for c in audit.creations(cluster.audit_log, NAMESPACE)
        if c.resource == "jobs" and c.name == MIGRATION_JOB and c.at >= since
    ]


def test_dev_stays_synced_for_two_minutes_without_another_sync(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    before = checks.application(cluster)
    history = len(before["status"].get("history", []))
    since = datetime.datetime.now(datetime.UTC)
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + STAY_SYNCED_S
    while time.monotonic() < deadline:
        app = checks.application(cluster)
        seen.add(checks.sync_and_health(app))
        time.sleep(2)
    after = checks.application(cluster)
    assert seen == {("Synced", "Healthy")}
    assert len(after["status"].get("history", [])) == history
    assert (
        after["status"]["operationState"]["startedAt"]
        == (before["status"]["operationState"]["startedAt"])
    )
    # Every sync re-creates the migration hook Job: the audit log counts them.
    assert _hook_creations(cluster, since) == []
    # The two minutes saw Argo CD compare again (not a stale status).
    assert after["status"]["reconciledAt"] != before["status"]["reconciledAt"]


def test_a_pushed_change_to_dev_values_reaches_the_pods(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    def set_info(work: Path) -> None:
        edit_yaml(work / DEV_VALUES, lambda values: values["api"].update(logLevel="INFO"))  # type: ignore[union-attr]

    since = datetime.datetime.now(datetime.UTC)
    commit = cluster.repo.push(set_info, "dev: API log level INFO")

    def rolled_out() -> bool:
        app = checks.application(cluster)
        if app["status"].get("sync", {}).get("revision") != commit:
            return False
        pods = cluster.kube.get("pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=api")[
            "items"
        ]
        running = [p for p in pods if p["metadata"].get("deletionTimestamp") is None]
        env = [
            {e["name"]: e.get("value") for e in p["spec"]["containers"][0]["env"]} for p in running
        ]
        return bool(env) and all(e.get("LOG_LEVEL") == "INFO" for e in env)

    wait_for(rolled_out, "the pushed log level in the API pods", timeout=300, every=1)
    checks.wait_rollout(cluster, API)
    # The sync ran the migration hook once more: what the stays-Synced test
    # counts (zero there) is seen when it happens.
    assert [c.name for c in _hook_creations(cluster, since)] == [MIGRATION_JOB]


def test_self_heal_puts_back_an_object_deleted_by_hand(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    cluster.kube.kubectl("delete", "service", SERVICE, "-n", NAMESPACE, "--wait=true")
    wait_for(
        lambda: cluster.kube.get("service", SERVICE, "-n", NAMESPACE),
        "the deleted Service back",
        timeout=180,
    )


def test_prune_removes_an_object_deleted_from_git(cluster: Cluster, synced: dict[str, Any]) -> None:
    dashboards = cluster.kube.get("configmaps", "-n", NAMESPACE, "-l", "grafana_dashboard=1")
    assert dashboards["items"], "dev renders the dashboard ConfigMaps"

    def disable(work: Path) -> None:
        edit_yaml(work / DEV_VALUES, lambda values: values.update(dashboards={"enabled": False}))

    cluster.repo.push(disable, "dev: no Grafana dashboards")
    wait_for(
        lambda: (
            not cluster.kube.get("configmaps", "-n", NAMESPACE, "-l", "grafana_dashboard=1")[
                "items"
            ]
        ),
        "dashboard ConfigMaps pruned",
        timeout=300,
    )
    assert checks.sync_and_health(checks.wait_synced_healthy(cluster)) == ("Synced", "Healthy")


def test_the_application_is_still_synced_at_the_end(cluster: Cluster) -> None:
    app = checks.wait_synced_healthy(cluster, timeout=300)
    assert app["metadata"]["name"] == APPLICATION


# -- the ingest CronJob loads S3, the API serves it ---------------------------

SAMPLE = SampleSpec(seed=16, stations=1, first_year=2013, last_year=2014)
NOAA_STATIONS = ("USC00110072", "USW00094846")  # dev's ingest.noaaStations


def _noaa_csv(station: str) -> str:
    return (
        "ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME\n"
        f"{station},20140101,TMAX,56,,,W,2400\n{station},20140101,TMIN,-12,,,W,2400\n"
        f"{station},20140101,PRCP,3,,,W,2400\n"
    )


def _expected_stats(lines: list[str], year: int) -> dict[str, float]:
    """The station-year's figures computed here from the file, not by the warehouse."""
    rows = [line.split("\t") for line in lines if line.startswith(str(year))]
    tmax = [int(r[1]) for r in rows if int(r[1]) != MISSING]
    tmin = [int(r[2]) for r in rows if int(r[2]) != MISSING]
    prcp = [int(r[3]) for r in rows if int(r[3]) != MISSING]
    return {
        "avg_max_temp_c": sum(tmax) / len(tmax) / 10,
        "avg_min_temp_c": sum(tmin) / len(tmin) / 10,
        "total_precip_cm": sum(prcp) / 100,
        "max_temp_days": len(tmax),
        "min_temp_days": len(tmin),
        "precip_days": len(prcp),
    }


def test_an_ingest_job_loads_s3_and_the_api_in_the_cluster_serves_it(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    (station,) = make_stations(SAMPLE)
    lines = list(station_lines(station, SAMPLE))
    s3: Any = cluster.s3()
    s3.put_object(
        Bucket=INCOMING_BUCKET,
        Key=f"incoming/{station.station_id}.txt",
        Body="".join(lines).encode(),
    )
    for noaa in NOAA_STATIONS:
        s3.put_object(
            Bucket=NOAA_BUCKET, Key=f"csv/by_station/{noaa}.csv", Body=_noaa_csv(noaa).encode()
        )
    cluster.kube.kubectl(
        "create",
        "job",
        "ingest-from-s3",
        "--from=cronjob/weather-warehouse-ingest",
        "-n",
        NAMESPACE,
    )

    def finished() -> str:
        # The Job's own verdict: with two shards, one pod succeeding is not the Job done.
        status = cluster.kube.get("job", "ingest-from-s3", "-n", NAMESPACE).get("status", {})
        verdicts = [c["type"] for c in status.get("conditions", []) if c["status"] == "True"]
        return next((v for v in verdicts if v in {"Complete", "Failed"}), "")

    assert wait_for(finished, "the ingest Job", timeout=300, every=1) == "Complete"
    _assert_every_shard_ran(cluster, "ingest-from-s3")
    # Through the Service, as the Ingress sends users: kube-proxy routes its ClusterIP.
    service = cluster.kube.get("service", SERVICE, "-n", NAMESPACE)["spec"]
    base = f"http://{service['clusterIP']}:{service['ports'][0]['port']}/api"
    # Users come by the Ingress's host; the API refuses hosts it does not serve (421).
    host = cluster.kube.get("ingress", "-n", NAMESPACE)["items"][0]["spec"]["rules"][0]["host"]
    days = checks.get_json(f"{base}/weather?station_id={station.station_id}&limit=1000", host=host)[
        "data"
    ]
    assert len(days) == len(lines)
    expected = _expected_stats(lines, 2014)
    (stats,) = checks.get_json(
        f"{base}/weather/stats?station_id={station.station_id}&year=2014", host=host
    )["data"]
    assert stats["avg_max_temp_c"] == pytest.approx(expected["avg_max_temp_c"], abs=1e-6)
    assert stats["avg_min_temp_c"] == pytest.approx(expected["avg_min_temp_c"], abs=1e-6)
    assert stats["total_precip_cm"] == pytest.approx(expected["total_precip_cm"], abs=0.005)
    for key in ("max_temp_days", "min_temp_days", "precip_days"):
        assert stats[key] == expected[key]
    noaa = checks.get_json(f"{base}/weather?station_id={NOAA_STATIONS[0]}", host=host)["data"]
    assert [d["date"] for d in noaa] == ["2014-01-01"]


def _assert_every_shard_ran(cluster: Cluster, job: str) -> None:
    """dev's two shards: an Indexed Job whose pods each loaded their share, recorded apart."""
    spec = cluster.kube.get("job", job, "-n", NAMESPACE)
    assert spec["spec"]["completionMode"] == "Indexed"
    assert spec["spec"]["completions"] == spec["spec"]["parallelism"] == 2
    assert spec["status"]["succeeded"] == 2
    assert spec["status"]["completedIndexes"] == "0,1"
    with psycopg.connect(cluster.admin_database_url, dbname=DB_NAME) as conn:
        runs = conn.execute(
            "SELECT shard_index, shard_count, status, files_loaded FROM ingest_run"
            " WHERE shard_count IS NOT NULL ORDER BY run_id DESC LIMIT 2"
        ).fetchall()
    assert sorted((i, n, status) for i, n, status, _ in runs) == [
        (0, 2, "succeeded"),
        (1, 2, "succeeded"),
    ]
    # The incoming station file and the two NOAA stations, each loaded by one shard.
    assert sum(loaded for *_, loaded in runs) == 1 + len(NOAA_STATIONS)


# -- NetworkPolicies and Pod Security ----------------------------------------

TRIES = 5  # rounds each probe must answer as expected, once the policy is in force
SCRAPER_NAMESPACE = "monitoring"  # the chart's prometheusNamespaceSelector names it
INGEST_LABELS = {
    "app.kubernetes.io/name": "weather-warehouse",
    "app.kubernetes.io/instance": "weather-warehouse",
    "app.kubernetes.io/component": "ingest",
}


def _image(cluster: Cluster) -> str:
    deployment = cluster.kube.get("deployment", API, "-n", NAMESPACE)
    image: str = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def _targets(cluster: Cluster) -> tuple[str, str]:
    (ip, *_) = checks.api_pod_ips(cluster)
    return f"{ip}:8000", f"{cluster.database_host}:5432"


def test_the_pods_the_policies_name_reach_the_api_and_the_database(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    # The positive control: the refusals below are the policies', not a broken network.
    api, database = _targets(cluster)
    cluster.kube.apply([{"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": SCRAPER_NAMESPACE}}])  # fmt: skip
    scraper = probes.pod("scraper", SCRAPER_NAMESPACE, {}, _image(cluster))
    probes.assert_answers(cluster, scraper, {api: True}, TRIES)
    ingest = probes.pod("ingest-probe", NAMESPACE, INGEST_LABELS, _image(cluster))
    probes.assert_answers(cluster, ingest, {database: True}, TRIES)


def test_a_pod_without_the_allowed_labels_reaches_neither_the_api_nor_the_database(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    api, database = _targets(cluster)
    unlabelled = probes.pod("unlabelled", NAMESPACE, {"role": "probe"}, _image(cluster))
    probes.assert_answers(cluster, unlabelled, {api: False, database: False}, TRIES)


def test_the_api_ingress_rule_alone_refuses_a_pod_whose_egress_is_open(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    # A policy of the test's own opens this pod's egress: the database answers
    # it, so only the API's ingress rule can be what refuses it.
    api, database = _targets(cluster)
    labels = {"role": "open-egress"}
    open_egress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "test-open-egress", "namespace": NAMESPACE},
        "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Egress"],
                 "egress": [{}]},
    }  # fmt: skip
    cluster.kube.apply([open_egress])
    try:
        pod = probes.pod("open-egress", NAMESPACE, labels, _image(cluster))
        probes.assert_answers(cluster, pod, {api: False, database: True}, TRIES)
    finally:
        cluster.kube.kubectl("delete", "networkpolicy", "test-open-egress", "-n", NAMESPACE)


def test_a_privileged_pod_is_refused_in_the_restricted_namespace(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    privileged = probes.pod("privileged", NAMESPACE, {}, _image(cluster))
    privileged["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    with pytest.raises(RuntimeError, match=r'violates PodSecurity "restricted:latest"'):
        cluster.kube.apply([privileged])
    assert not cluster.kube.get("pods", "-n", NAMESPACE, "--field-selector",
                                "metadata.name=privileged")["items"]  # fmt: skip


# -- Prometheus, as the ServiceMonitor and PrometheusRule describe ------------


def test_prometheus_scrapes_the_api_as_the_operator_would_and_a_chart_alert_evaluates(
    cluster: Cluster, synced: dict[str, Any]
) -> None:
    folder = cluster.scratch / "prometheus"
    jobs = monitoring.scrape_jobs(cluster.kube, folder)
    rules = monitoring.rule_files(cluster.kube, folder)
    assert [j["job_name"] for j in jobs] == [f"serviceMonitor/{NAMESPACE}/{API}/0"]
    assert len(rules) == 1, "the platform's Prometheus selects the chart's PrometheusRule"
    with prometheus.running_server(require("prometheus"), folder, jobs, rules) as url:
        pods = {p["status"]["podIP"]: p["metadata"]["name"]
                for p in cluster.kube.get("pods", "-n", NAMESPACE, "-l",
                                          "app.kubernetes.io/component=api")["items"]
                if p["status"].get("podIP")}  # fmt: skip

        def every_api_pod_up() -> list[dict[str, Any]] | None:
            active = prometheus.api(url, "targets", {})["data"]["activeTargets"]
            up = [t for t in active if t["health"] == "up"]
            return active if active and len(up) == len(active) else None

        active = wait_for(every_api_pod_up, "the API pods scraped", timeout=60)
        assert isinstance(active, list)
        ips = checks.api_pod_ips(cluster)
        assert sorted(t["scrapeUrl"] for t in active) == sorted(
            f"http://{ip}:8000/metrics" for ip in ips
        )
        # Every label below comes from Prometheus's relabelling, as the operator writes it.
        keys = ("job", "namespace", "service", "endpoint", "pod")
        for target in active:
            ip = target["scrapeUrl"].split("/")[2].split(":")[0]
            assert {k: target["labels"][k] for k in keys} == {
                "job": SERVICE,
                "namespace": NAMESPACE,
                "service": SERVICE,
                "endpoint": "http",
                "pod": pods[ip],
            }
        # The data loaded by the ingest test ends in 2014: stale, so the chart's
        # freshness alert goes pending on the scraped gauge.
        alert = f'ALERTS{{alertname="WeatherWarehouseDataStale", namespace="{NAMESPACE}"}}'

        def pending() -> list[Any]:
            found: list[Any] = prometheus.query(url, alert)["data"]["result"]
            return found

        (series,) = wait_for(pending, "WeatherWarehouseDataStale pending", timeout=90)
        assert series["metric"]["alertstate"] == "pending"
