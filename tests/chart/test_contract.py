"""Chart against code: run the rendered containers' commands for real.

The API starts exactly as the rendered Deployment says and answers the
rendered probes on the rendered port; the CronJob's command loads files from
an S3 bucket (the moto server) into the test database; the migration Job's
command migrates an empty database. Only the cluster's part is simulated: the
Secret (written as External Secrets would), the secret volume (a folder), and
the AWS endpoint and credentials (IRSA's part, pointed at moto).
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.chart import pods
from tests.chart import render as chart
from tests.chart.render import CHART, named
from tests.harness import http, moto
from tests.harness.http import get
from tests.harness.waiting import wait_for
from warehouse.ports import free_port
from warehouse.settings import Settings, load_settings

DEFAULT = CHART / "ci" / "default-values.yaml"
PASSWORD = "not-used-by-the-test-server"  # the harness server trusts local connections


def database_values(url: str) -> dict[str, Any]:
    """Values pointing the chart at the test database."""
    params = conninfo_to_dict(url)
    return {
        "database.host": params["host"],
        "database.port": int(str(params["port"])),
        "database.name": params["dbname"],
        "database.sslMode": "disable",
    }


def rds_secret(url: str) -> dict[str, str]:
    """The Secrets Manager JSON an RDS-managed secret holds."""
    return {"username": str(conninfo_to_dict(url)["user"]), "password": PASSWORD}


def wait_until_ready(process: subprocess.Popen[str], url: str, seconds: float) -> None:
    """Poll the readiness URL the way the kubelet does, until 200 or the deadline."""

    def ready() -> bool:
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the API exited with {process.returncode}: {stderr[-3000:]}")
        return http.answers_ok(url)

    wait_for(ready, f"{url} to answer 200", seconds)


@pytest.fixture
def api(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[list[chart.Manifest], pods.Container, int]]:
    port = free_port()
    objects = chart.render(
        [DEFAULT], set_values={**database_values(database_url), "api.port": port}
    )
    box = pods.container(objects, "Deployment", "-api")
    secrets = pods.secrets_from_external_secret(objects, rds_secret(database_url))
    env = pods.environment(objects, box, secrets, tmp_path)
    process = pods.start(box, env, tmp_path)
    try:
        startup = box.spec["startupProbe"]
        wait_until_ready(process, f"http://127.0.0.1:{port}/healthz",
                         startup["periodSeconds"] * startup["failureThreshold"])  # fmt: skip
        yield objects, box, process.pid
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_api_answers_the_rendered_probes_on_the_rendered_port(
    api: tuple[list[chart.Manifest], pods.Container, int],
) -> None:
    _, box, _ = api
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        action = box.spec[probe]["httpGet"]
        reply = get(f"http://127.0.0.1:{box.port(action['port'])}{action['path']}")
        assert reply.status == 200, probe


def test_service_monitor_path_serves_the_api_metrics(
    api: tuple[list[chart.Manifest], pods.Container, int],
) -> None:
    objects, box, _ = api
    endpoint = (
        named(objects, "ServiceMonitor")["spec"]["endpoints"][0]
        if any(o["kind"] == "ServiceMonitor" for o in objects)
        else {"port": "http", "path": "/metrics"}
    )
    reply = get(f"http://127.0.0.1:{box.port(endpoint['port'])}{endpoint['path']}")
    assert reply.status == 200
    assert "weather_warehouse_http_requests_total" in reply.text


def test_api_reads_through_the_rendered_read_replica_url(database_url: str, tmp_path: Path) -> None:
    # The replica URL carries no credentials: libpq must take them from the
    # same PGUSER and password file as the primary connection.
    port = free_port()
    values = {**database_values(database_url), "api.port": port, "database.readHost": "127.0.0.1"}
    values["database.host"] = "primary.invalid"  # only the replica is reachable
    objects = chart.render([DEFAULT], set_values=values)
    box = pods.container(objects, "Deployment", "-api")
    secrets = pods.secrets_from_external_secret(objects, rds_secret(database_url))
    env = pods.environment(objects, box, secrets, tmp_path)
    assert env["DATABASE_READ_URL"].startswith("postgresql://127.0.0.1:")
    process = pods.start(box, env, tmp_path)
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/readyz", 30)
        assert get(f"http://127.0.0.1:{port}/api/stations").status == 200
    finally:
        process.kill()
        process.communicate()


def test_api_stops_within_the_grace_period_on_sigterm(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    objects = chart.render(
        [DEFAULT], set_values={**database_values(database_url), "api.port": port}
    )
    box = pods.container(objects, "Deployment", "-api")
    secrets = pods.secrets_from_external_secret(objects, rds_secret(database_url))
    process = pods.start(box, pods.environment(objects, box, secrets, tmp_path), tmp_path)
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/readyz", 30)
        process.send_signal(signal.SIGTERM)
        grace = (
            box.pod["terminationGracePeriodSeconds"]
            - box.spec["lifecycle"]["preStop"]["sleep"]["seconds"]
        )
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.wait(timeout=grace) in (0, -signal.SIGTERM)
        _, stderr = process.communicate()
        assert "Application shutdown complete" in stderr
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_migration_job_migrates_an_empty_database(empty_database_url: str, tmp_path: Path) -> None:
    objects = chart.render([DEFAULT], set_values=database_values(empty_database_url))
    box = pods.container(objects, "Job", "-migrate")
    secrets = pods.secrets_from_external_secret(objects, rds_secret(empty_database_url))
    env = pods.environment(objects, box, secrets, tmp_path)
    deadline = named(objects, "Job", "-migrate")["spec"]["activeDeadlineSeconds"]
    first = pods.run(box, env, tmp_path, timeout=deadline)
    assert first.returncode == 0, first.stderr
    again = pods.run(box, env, tmp_path, timeout=deadline)
    assert again.returncode == 0, again.stderr
    with psycopg.connect(empty_database_url) as conn:
        versions = conn.execute("SELECT count(*) FROM schema_migration").fetchone()
        assert versions is not None
        assert versions[0] >= 1
        conn.execute("SELECT count(*) FROM observation")


def test_ingest_cronjob_loads_the_s3_bucket(
    database_url: str, moto_endpoint: str, real_data: Path, tmp_path: Path
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket="weather-incoming")
    stations = sorted((real_data / "wx_data").glob("*.txt"))[:3]
    for path in [*stations, real_data / "yld_data" / "US_corn_grain_yield.txt"]:
        s3.upload_file(str(path), "weather-incoming", f"incoming/{path.name}")
    values = {
        **database_values(database_url),
        "ingest.sources": ["s3://weather-incoming/incoming/"],
    }
    objects = chart.render([DEFAULT], set_values=values)
    box = pods.container(objects, "CronJob", "-ingest")
    secrets = pods.secrets_from_external_secret(objects, rds_secret(database_url))
    env = pods.environment(objects, box, secrets, tmp_path)
    # IRSA's part: credentials and, here, the endpoint of the S3 stand-in.
    env.update({**moto.AWS_ENV, "AWS_ENDPOINT_URL": moto_endpoint})
    deadline = named(objects, "CronJob", "-ingest")["spec"]["jobTemplate"]["spec"][
        "activeDeadlineSeconds"
    ]
    result = pods.run(box, env, tmp_path, timeout=deadline)
    assert result.returncode == 0, result.stderr[-3000:]
    with psycopg.connect(database_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(DISTINCT station_id) FROM observation),"
            " (SELECT count(*) FROM crop_yield), (SELECT count(*) FROM weather_stats)"
        ).fetchone()
    assert counts is not None
    loaded_stations, yield_years, stats_rows = counts
    assert loaded_stations == 3
    assert yield_years > 0
    assert stats_rows > 0


def test_ingest_cronjob_reads_noaa_stations_anonymously(
    database_url: str, moto_endpoint: str, tmp_path: Path
) -> None:
    # kind: NOAA's public bucket, no AWS role, a plain Secret.
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket="noaa-ghcn-pds")
    body = (
        "ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME\n"
        "USC00110072,20240101,TMAX,56,,,7,0700\n"
        "USC00110072,20240101,TMIN,-12,,,7,0700\n"
        "USC00110072,20240101,PRCP,3,,,7,0700\n"
    )
    s3.put_object(Bucket="noaa-ghcn-pds", Key="csv/by_station/USC00110072.csv",
                  Body=body.encode(), ACL="public-read")  # fmt: skip
    objects = chart.render(
        [CHART / "ci" / "kind-values.yaml"], set_values=database_values(database_url)
    )
    box = pods.container(objects, "CronJob", "-ingest")
    assert "s3://noaa-ghcn-pds/csv/by_station/USC00110072.csv" in box.spec["args"]
    user = rds_secret(database_url)
    secrets = {"weather-db": {"username": user["username"], "password": user["password"]}}
    env = pods.environment(objects, box, secrets, tmp_path)
    # No credentials at all: only anonymous (unsigned) requests can succeed.
    env.update({"AWS_ENDPOINT_URL": moto_endpoint, "AWS_DEFAULT_REGION": "us-east-1"})
    result = pods.run(box, env, tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT station_id, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm FROM observation"
        ).fetchall()
    assert row == [("USC00110072", 56, -12, 3)]


# Read by libraries rather than by Settings: libpq (PGSSLMODE) and the
# OpenTelemetry SDK and OTLP exporter.
NATIVE_VARIABLES = {"PGSSLMODE", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES"}


def referenced_secrets(objects: list[chart.Manifest]) -> pods.Secrets:
    """A value for every Secret key any pod reads (this test is about parsing, not keys)."""
    secrets: pods.Secrets = {}
    for workload in ("Deployment", "CronJob", "Job"):
        for obj in (o for o in objects if o["kind"] == workload):
            spec = obj["spec"].get("jobTemplate", obj)["spec"]["template"]["spec"]
            for env in spec["containers"][0].get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    secrets.setdefault(ref["name"], {})[ref["key"]] = "s" * 32
            for volume in spec.get("volumes", []):
                if "secret" in volume:
                    stored = secrets.setdefault(volume["secret"]["secretName"], {})
                    for item in volume["secret"]["items"]:
                        stored[item["key"]] = "s" * 32
    return secrets


@pytest.mark.parametrize(
    ("kind", "suffix"), [("Deployment", "-api"), ("CronJob", "-ingest"), ("Job", "-migrate")]
)
def test_every_variable_the_chart_sets_is_read_and_valid(
    values_file: Path, kind: str, suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = chart.render([values_file])
    if not any(o["kind"] == kind and o["metadata"]["name"].endswith(suffix) for o in objects):
        return  # this scenario turns the workload off (test_chart_objects covers toggles)
    box = pods.container(objects, kind, suffix)
    env = pods.environment(objects, box, referenced_secrets(objects), tmp_path)
    known = {name.upper() for name in Settings.model_fields} | NATIVE_VARIABLES
    names = {item["name"] for item in box.spec.get("env", [])}
    for source in box.spec.get("envFrom", []):
        config = named(objects, "ConfigMap", source["configMapRef"]["name"])
        names |= set(config.get("data", {}))
    assert sorted(names - known) == []
    for name in names:
        monkeypatch.setenv(name, env[name])
    load_settings()  # raises ConfigError on any value the code would refuse
