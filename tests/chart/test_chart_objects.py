"""What the rendered chart must say: security, rollout, hooks, credentials, toggles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart import render as chart
from tests.chart.render import CHART, Manifest, named, pod_specs

CI = CHART / "ci"
DEFAULT = CI / "default-values.yaml"
FULL = CI / "full-values.yaml"
KIND = CI / "kind-values.yaml"
IRSA = CI / "secretstore-irsa-values.yaml"
MINIMAL = CI / "minimal-values.yaml"


def test_every_container_runs_restricted(values_file: Path) -> None:
    for where, pod in pod_specs(chart.render([values_file])):
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert isinstance(context["runAsUser"], int), where
            assert context["runAsUser"] > 0, where
            assert {"requests", "limits"} <= set(container["resources"]), where
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts["/tmp"] == "tmp", where
        tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp, where


def test_only_pods_that_call_aws_mount_a_token() -> None:
    pods = dict(pod_specs(chart.render([FULL])))
    # Uploads on and an IRSA role: the API and the job call AWS.
    assert pods["Deployment/wh-weather-warehouse-api"]["automountServiceAccountToken"] is True
    assert pods["CronJob/wh-weather-warehouse-ingest"]["automountServiceAccountToken"] is True
    assert pods["Job/wh-weather-warehouse-migrate"]["automountServiceAccountToken"] is False
    pods = dict(pod_specs(chart.render([DEFAULT])))
    assert not any(pod["automountServiceAccountToken"] for pod in pods.values())


def test_api_deployment_probes_drain_and_rollout() -> None:
    deployment = named(chart.render([DEFAULT]), "Deployment", "-api")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["lifecycle"]["preStop"] == {"sleep": {"seconds": 10}}
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    keys = {
        c["topologyKey"]
        for c in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    }
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_hpa_owns_the_replica_count_when_on() -> None:
    objects = chart.render([FULL])
    assert "replicas" not in named(objects, "Deployment", "-api")["spec"]
    hpa = named(objects, "HorizontalPodAutoscaler", "-api")
    assert (
        hpa["spec"]["scaleTargetRef"]["name"]
        == named(objects, "Deployment", "-api")["metadata"]["name"]
    )
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)


def test_a_config_change_rolls_the_api_pods() -> None:
    def checksum(**values: Any) -> str:
        deployment = named(chart.render([DEFAULT], set_values=values), "Deployment", "-api")
        return str(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum() == checksum()
    assert checksum() != checksum(**{"database.statementTimeoutMs": 5000})


def test_selector_labels_are_a_stable_subset_of_the_labels() -> None:
    objects = chart.render([DEFAULT])
    deployment = named(objects, "Deployment", "-api")
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector == {
        "app.kubernetes.io/name": "weather-warehouse",
        "app.kubernetes.io/instance": "wh",
        "app.kubernetes.io/component": "api",
    }
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    # A new chart or app version must not change an immutable selector.
    bumped = chart.render([DEFAULT], set_values={"image.tag": "9.9.9"})
    assert named(bumped, "Deployment", "-api")["spec"]["selector"]["matchLabels"] == selector
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
        assert obj["metadata"]["namespace"] == "weather"


def test_names_follow_the_release() -> None:
    objects = chart.render([DEFAULT], release="weather-warehouse-prod")
    names = {o["metadata"]["name"] for o in objects}
    assert "weather-warehouse-prod-api" in names
    assert all(name.startswith("weather-warehouse-prod") for name in names)


def test_ingest_cronjob_schedule_and_limits() -> None:
    cronjob = named(chart.render([IRSA]), "CronJob", "-ingest")
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["startingDeadlineSeconds"] == 600
    job = spec["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"], job["ttlSecondsAfterFinished"]) == (
        2,
        3600,
        86400,
    )
    container = job["template"]["spec"]["containers"][0]
    assert container["args"] == [
        "ingest",
        "--source",
        "s3://noaa-ghcn-pds/csv/by_station/USC00110072.csv",
        "--source",
        "s3://noaa-ghcn-pds/csv/by_station/USW00094846.csv",
    ]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["S3_UNSIGNED"] == "true"
    assert env["PUSHGATEWAY_URL"] == "http://prometheus-pushgateway.monitoring.svc:9091"
    assert env["CLOUDWATCH_NAMESPACE"] == "WeatherWarehouse"


def test_ingest_job_is_indexed_one_pod_per_shard() -> None:
    cronjob = named(chart.render([IRSA], set_values={"ingest.shards": 4}), "CronJob", "-ingest")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert (job["completionMode"], job["completions"], job["parallelism"]) == ("Indexed", 4, 4)
    env = {e["name"]: e.get("value") for e in job["template"]["spec"]["containers"][0]["env"]}
    assert env["INGEST_SHARDS"] == "4"  # the shard index: JOB_COMPLETION_INDEX, set by Kubernetes


def test_ingest_shards_must_be_a_positive_count() -> None:
    assert "shards" in chart.render_error([IRSA], set_values={"ingest.shards": 0})


def test_ingest_pushes_under_the_job_name_the_alerts_watch() -> None:
    values = {"prometheusRule.pushgatewayJob": "weather_ingest_eu"}
    objects = chart.render([FULL], set_values=values)
    container = named(objects, "CronJob", "-ingest")["spec"]["jobTemplate"]["spec"]["template"]
    env = {e["name"]: e.get("value") for e in container["spec"]["containers"][0]["env"]}
    assert env["PUSHGATEWAY_JOB"] == "weather_ingest_eu"
    groups = named(objects, "PrometheusRule")["spec"]["groups"]
    exprs = [str(rule["expr"]) for group in groups for rule in group["rules"]]
    assert any('job="weather_ingest_eu"' in expr for expr in exprs)


def test_ingest_without_sources_is_refused() -> None:
    error = chart.render_error([DEFAULT], set_values={"ingest.sources": []})
    assert "ingest.sources or ingest.noaaStations" in error


def test_migration_job_is_an_argo_sync_hook_and_a_helm_hook() -> None:
    annotations = named(chart.render([DEFAULT]), "Job", "-migrate")["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "Sync"
    assert annotations["argocd.argoproj.io/sync-wave"] == "-1"
    assert (
        annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation,HookSucceeded"
    )
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"


def test_migration_job_needs_nothing_the_chart_creates_after_it() -> None:
    # A hook runs before the release's other objects exist: only the Secret
    # (wave -2 in Argo CD; made beforehand for plain Helm) may be referenced.
    pod = named(chart.render([KIND]), "Job", "-migrate")["spec"]["template"]["spec"]
    assert "serviceAccountName" not in pod
    assert pod["automountServiceAccountToken"] is False
    assert "envFrom" not in pod["containers"][0]


def test_external_secret_comes_before_the_migration() -> None:
    objects = chart.render([DEFAULT])
    external = named(objects, "ExternalSecret")
    assert external["apiVersion"] == "external-secrets.io/v1"
    assert external["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-2"
    assert external["spec"]["secretStoreRef"] == {
        "kind": "ClusterSecretStore",
        "name": "aws-secrets-manager",
    }
    properties = {d["remoteRef"]["property"] for d in external["spec"]["data"]}
    assert properties == {"username", "password"}


def test_chart_made_secret_store_uses_irsa_through_its_own_account() -> None:
    objects = chart.render([IRSA])
    store = named(objects, "SecretStore")
    auth = store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]
    account = named(objects, "ServiceAccount", "-secrets")
    assert auth == {"name": account["metadata"]["name"]}
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
        "role/weather-warehouse-secrets"
    )
    assert named(objects, "ExternalSecret")["spec"]["secretStoreRef"] == {
        "kind": "SecretStore",
        "name": store["metadata"]["name"],
    }


def secret_keys_read(objects: list[Manifest]) -> set[tuple[str, str]]:
    """(secret name, key) of every Secret key any pod reads, by env or by volume."""
    read: set[tuple[str, str]] = set()
    for _, pod in pod_specs(objects):
        for container in pod["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    read.add((ref["name"], ref["key"]))
        for volume in pod.get("volumes", []):
            secret = volume.get("secret")
            if secret:
                assert "items" in secret, "a pod must name the keys it reads"
                read |= {(secret["secretName"], item["key"]) for item in secret["items"]}
    return read


@pytest.mark.parametrize("values", [DEFAULT, IRSA], ids=lambda p: p.name)
def test_pods_read_only_keys_the_external_secret_produces(values: Path) -> None:
    objects = chart.render([values])
    external = named(objects, "ExternalSecret")
    produced = {
        (external["spec"]["target"]["name"], d["secretKey"]) for d in external["spec"]["data"]
    }
    read = secret_keys_read(objects)
    assert read == produced


def test_api_secrets_from_secrets_manager_come_through_the_same_store() -> None:
    objects = chart.render([FULL])
    externals = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ExternalSecret"}
    produced = {
        (o["spec"]["target"]["name"], d["secretKey"])
        for o in externals.values()
        for d in o["spec"]["data"]
    }
    # The upload token's Secret is named in values (made elsewhere); all else is produced here.
    assert secret_keys_read(objects) - produced == {("weather-api-keys", "upload-token")}
    cursor = externals["wh-weather-warehouse-cursor"]
    assert cursor["spec"]["data"] == [
        {
            "secretKey": "cursor-secret",
            "remoteRef": {
                "key": "weather/prod/cursor-secret",
                # What the CRD defaults, written out (tests/chart/test_crd_defaults.py).
                "conversionStrategy": "Default",
                "decodingStrategy": "None",
                "metadataPolicy": "None",
            },
        }
    ]
    stores = {str(o["spec"]["secretStoreRef"]) for o in externals.values()}
    assert stores == {str({"kind": "SecretStore", "name": "aws-secrets"})}


def test_pods_read_only_the_configured_keys_of_an_existing_secret() -> None:
    objects = chart.render([MINIMAL])
    assert not [o for o in objects if o["kind"] == "ExternalSecret"]
    assert secret_keys_read(objects) == {("weather-db", "user"), ("weather-db", "pass")}
    container = named(objects, "Deployment", "-api")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["PGUSER"]["valueFrom"]["secretKeyRef"] == {"name": "weather-db", "key": "user"}
    assert (
        env["DATABASE_PASSWORD_FILE"]["value"] == "/var/run/secrets/weather-warehouse/db/password"
    )


def test_service_monitor_scrapes_a_port_the_service_has() -> None:
    objects = chart.render([FULL])
    monitor = named(objects, "ServiceMonitor")
    service = named(objects, "Service")
    port_names = {p["name"] for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in port_names
        assert endpoint["path"] == "/metrics"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )


def test_monitoring_objects_need_the_operator_api() -> None:
    objects = chart.render([FULL], api_versions=())
    kinds = {o["kind"] for o in objects}
    assert "ServiceMonitor" not in kinds
    assert "PrometheusRule" not in kinds


def test_alb_ingress_terminates_tls_and_checks_readiness() -> None:
    ingress = named(chart.render([FULL]), "Ingress")
    assert ingress["spec"]["ingressClassName"] == "alb"
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/readyz"
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    assert ingress["spec"]["rules"][0]["host"] == "weather.example.com"
    paths = {p["path"]: p for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert paths["/"]["backend"]["service"]["port"] == {"name": "http"}
    # /metrics is for Prometheus inside the cluster: the ALB answers 404 itself.
    blocked = paths["/metrics"]
    assert blocked["pathType"] == "Exact"
    action = json.loads(annotations["alb.ingress.kubernetes.io/actions.block-metrics"])
    assert action["fixedResponseConfig"]["statusCode"] == "404"
    assert blocked["backend"]["service"] == {
        "name": "block-metrics",
        "port": {"name": "use-annotation"},
    }


def test_network_policies_deny_by_default_and_cover_every_pod(values_file: Path) -> None:
    objects = chart.render([values_file])
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    values = yaml.safe_load(values_file.read_text(encoding="utf-8")) or {}
    if not values.get("networkPolicy", {}).get("enabled", True):
        assert policies == []
        return
    deny = named(objects, "NetworkPolicy", "-default-deny")
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    # The whole namespace by default: a pod without the chart's labels is denied too.
    namespace_wide = values.get("networkPolicy", {}).get("denyAllInNamespace", True)
    assert (deny["spec"]["podSelector"] == {}) == namespace_wide
    for obj in objects:
        if obj["kind"] not in ("Deployment", "CronJob", "Job"):
            continue
        template = obj["spec"].get("jobTemplate", obj)["spec"]["template"]
        labels = template["metadata"]["labels"]
        allowing = [
            p
            for p in policies
            if p["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
        ]
        assert len(allowing) == 2, f"{obj['metadata']['name']}: default deny plus its own policy"


def test_values_schema_rejects_unknown_keys_and_root() -> None:
    assert "additional properties" in chart.render_error([DEFAULT], {"api.replicas": 3}).lower()
    assert "runAsNonRoot" in chart.render_error(
        [DEFAULT], {"podSecurityContext.runAsNonRoot": False}
    )
    assert "database.host is required" in chart.render_error([DEFAULT], {"database.host": ""})


def test_default_values_render_nothing_without_a_database_host() -> None:
    assert "database.host is required" in chart.render_error([])


def test_notes_say_how_to_reach_the_api_and_run_the_job(values_file: Path) -> None:
    text = chart.notes([values_file])
    assert "rollout status deployment/wh-weather-warehouse-api" in text
    values = yaml.safe_load(values_file.read_text(encoding="utf-8")) or {}
    if values.get("ingest", {}).get("enabled", True):
        assert "create job --from=cronjob/wh-weather-warehouse-ingest" in text


def test_api_fair_use_is_on_and_cors_off_by_default() -> None:
    config = named(chart.render([DEFAULT]), "ConfigMap")["data"]
    assert (config["RATE_LIMIT_REQUESTS"], config["RATE_LIMIT_WINDOW_S"]) == ("600", "60")
    assert "RATE_LIMIT_KEY_HEADER" not in config
    assert "CORS_ALLOW_ORIGINS" not in config
    assert int(config["RESPONSE_CACHE_MAX_BYTES"]) > 0


def test_api_cors_origins_and_rate_limit_come_from_values() -> None:
    values = {
        "api.cors.allowOrigins": ["https://grafana.example.org", "http://localhost:3000"],
        "api.rateLimit.keyHeader": "X-Api-Key",
    }
    config = named(chart.render([DEFAULT], set_values=values), "ConfigMap")["data"]
    assert config["CORS_ALLOW_ORIGINS"] == "https://grafana.example.org,http://localhost:3000"
    assert config["RATE_LIMIT_KEY_HEADER"] == "X-Api-Key"
    off = named(chart.render([DEFAULT], set_values={"api.rateLimit.enabled": False}), "ConfigMap")
    assert "RATE_LIMIT_REQUESTS" not in off["data"]


def test_values_schema_rejects_an_origin_with_a_path() -> None:
    error = chart.render_error(
        [DEFAULT], set_values={"api.cors.allowOrigins": ["https://example.org/app"]}
    )
    assert "allowOrigins" in error
