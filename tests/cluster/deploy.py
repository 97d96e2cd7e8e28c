"""What every way of getting the cluster does the same: the database, the secret
in Secrets Manager, the buckets, and ``argocd/`` applied as committed."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
from psycopg import sql

from tests.cluster.gitrepo import ServedRepo
from tests.cluster.kube import Kube, load_yaml
from tests.cluster.timings import Timings
from tests.harness.moto import AWS_ENV

ENVIRONMENT = "dev"
NAMESPACE = "weather-warehouse-dev"
APPLICATION = "weather-warehouse-dev"
RELEASE = "weather-warehouse"
DB_SECRET_NAME = "weather-warehouse/dev/db"  # k8s/envs/dev/values.yaml's remoteKey
DB_USER = "weather_dev"
DB_NAME = "weather"
INCOMING_BUCKET = "weather-warehouse-dev-incoming"
NOAA_BUCKET = "noaa-ghcn-pds"


@dataclass(frozen=True)
class Cluster:
    """All a test needs, the same for every way of getting the cluster."""

    kube: Kube
    repo: ServedRepo
    admin_database_url: str  # the superuser, from the test process
    database_host: str  # as the pods reach it
    aws_endpoint: str  # from the test process
    db_password: str  # what Secrets Manager holds
    timings: Timings
    up_since: float  # monotonic time the cluster started coming up
    api_server: str  # for Prometheus' Kubernetes discovery
    ca_file: Path
    token: str
    scratch: Path  # a folder the tests may write in
    audit_log: Path  # the API server's audit events (tests/cluster/audit.py)
    # The add-ons' images as their pods must run them: argocd, redis,
    # external-secrets, coredns → reference (built here, or upstream's on kind).
    addon_images: dict[str, str]

    def s3(self) -> object:
        return boto3.client("s3", endpoint_url=self.aws_endpoint, **_credentials())


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": AWS_ENV["AWS_DEFAULT_REGION"],
    }


def seed_aws(endpoint: str) -> str:
    """The RDS-style secret {username, password} and the two buckets; the password."""
    password = secrets.token_urlsafe(24)
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, **_credentials())
    sm.create_secret(
        Name=DB_SECRET_NAME, SecretString=json.dumps({"username": DB_USER, "password": password})
    )
    s3 = boto3.client("s3", endpoint_url=endpoint, **_credentials())
    for bucket in (INCOMING_BUCKET, NOAA_BUCKET):
        s3.create_bucket(Bucket=bucket)
    return password


def create_database(admin_url: str, password: str) -> None:
    """The application's role and database, as an RDS instance would have them."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(DB_USER), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(DB_NAME), sql.Identifier(DB_USER)
            )
        )


def apply_argocd_objects(kube: Kube, work: Path) -> None:
    """``argocd/`` of the served repository: the AppProject and the ApplicationSet."""
    for name in ("project.yaml", "applicationset.yaml"):
        kube.apply(load_yaml(work / "argocd" / name))
