"""The one settings object, read once from the environment.

The database is named either by ``DATABASE_URL`` or by the standard libpq
variables (``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``,
``PGPASSWORD``). A password may also come from ``DATABASE_PASSWORD_FILE``
(a mounted Kubernetes Secret). Secrets are ``SecretStr`` so that they never
show in ``repr``, logs or error messages.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from warehouse.errors import ConfigError, read_secret_file

# An allowed host: a name or address, "*.domain" (any subdomain) or "*" (any).
HOST_PATTERN = re.compile(r"^(\*|(\*\.)?[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])$")
# A path prefix: empty, or /segments of unreserved characters (not . or ..).
PATH_PATTERN = re.compile(r"^(/(?!\.\.?(/|$))[A-Za-z0-9._~-]+)*$")

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class Settings(BaseSettings):
    """Everything the job and the API read from the environment."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, frozen=True)

    # Database: a URL, or libpq's own variables.
    database_url: SecretStr | None = None
    database_read_url: SecretStr | None = None
    database_password_file: Path | None = None
    pghost: str | None = None
    pgport: int | None = Field(default=None, ge=1, le=65535)
    pgdatabase: str | None = None
    pguser: str | None = None
    pgpassword: SecretStr | None = None
    database_connect_timeout_s: int = Field(default=5, ge=1, le=300)
    database_statement_timeout_ms: int = Field(default=10_000, ge=0)
    database_pool_min_size: int = Field(default=1, ge=0)
    database_pool_max_size: int = Field(default=10, ge=1)
    # The API's client-side bound on one database call (pool wait, connect,
    # query): the statement timeout is enforced by the server, so it cannot
    # help when the server does not answer at all. None: derived, see below.
    database_client_timeout_s: float | None = Field(default=None, gt=0, le=300)

    # Logging: JSON in containers, readable lines in a terminal.
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # AWS: boto3 reads credentials and region itself; the endpoint URL is for
    # S3-compatible stores and for the moto server in tests.
    aws_endpoint_url: str | None = None
    s3_unsigned: bool = False

    # Ingest job: files are parsed block by block straight into COPY, so
    # memory does not grow with a file; the size cap only guards against a
    # runaway object (time grows with the file).
    ingest_max_file_bytes: int = Field(default=4 * 1024**3, ge=1)
    # On a first load, files up to this size are held whole (the bulk COPY
    # needs a file clean before its first row goes in); larger ones stream.
    ingest_buffer_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    # Per-file audit rows (ingest_file) older than this are deleted, except
    # those the ledger needs (each file's latest load and verdict); 0 keeps all.
    ingest_audit_retention_days: int = Field(default=90, ge=0)
    # Shards of the ingest run (a Kubernetes Indexed Job: one pod per shard,
    # its index in JOB_COMPLETION_INDEX, which Kubernetes sets).
    ingest_shards: int = Field(default=1, ge=1, le=1024)
    job_completion_index: int | None = Field(default=None, ge=0)

    # Ingest job run metrics.
    pushgateway_url: str | None = None
    pushgateway_job: str = "weather_warehouse_ingest"
    cloudwatch_namespace: str | None = None

    # Traces (OpenTelemetry), off unless enabled. The OTLP/HTTP exporter reads
    # OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and
    # OTEL_RESOURCE_ATTRIBUTES itself. A caller's sampled traceparent is always
    # followed; of new traces, each process keeps at most
    # TRACING_TRACES_PER_SECOND, then OTEL_TRACES_SAMPLER_ARG of the rest
    # (X-Ray's reservoir and rate), so the volume has a ceiling at any traffic.
    tracing_enabled: bool = False
    tracing_traces_per_second: float = Field(default=1.0, ge=0, le=10_000)
    otel_traces_sampler_arg: float = Field(default=0.0, ge=0, le=1)
    otel_service_name: str | None = None

    # API.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    cursor_secret: SecretStr | None = None
    upload_token: SecretStr | None = None
    upload_token_file: Path | None = None
    upload_s3_prefix: str | None = None
    upload_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    # Streamed exports (CSV) one API process runs at once; more get a 503.
    export_max_concurrent: int = Field(default=4, ge=1)
    # Where clients reach the API. Absolute links (next pages) start with
    # PUBLIC_URL when set; else with the request's host, which must be in
    # ALLOWED_HOSTS (other hosts are refused), and ROOT_PATH. Proxies in
    # FORWARDED_ALLOW_IPS may say the scheme, host, prefix and client with
    # X-Forwarded-Proto/-Host/-Prefix/-For. Comma-separated lists.
    public_url: str | None = None
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ("localhost", "127.0.0.1", "[::1]")
    root_path: str = ""
    forwarded_allow_ips: Annotated[tuple[str, ...], NoDecode] = ("127.0.0.1",)
    # Browsers: origins allowed to call the API (comma-separated; `*` for any).
    # None by default: a browser page elsewhere cannot read the API's answers.
    cors_allow_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Fair use, per client and per replica: a bucket of RATE_LIMIT_REQUESTS
    # that refills over RATE_LIMIT_WINDOW_S seconds; 0 turns it off.
    rate_limit_requests: int = Field(default=0, ge=0)
    rate_limit_window_s: int = Field(default=60, ge=1, le=86_400)
    # A header that names the client (set by a gateway in front), instead of
    # its address.
    rate_limit_key_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    # Rendered JSON pages kept in memory until the next ingest run; 0: off.
    response_cache_max_bytes: int = Field(default=32 * 1024 * 1024, ge=0)

    # `weather-warehouse demo`: where its PostgreSQL server and sample data live.
    warehouse_data_dir: Path = Path(".data")

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _postgres_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        scheme = urlsplit(value.get_secret_value()).scheme
        if scheme not in ("postgresql", "postgres"):
            # Say what is wrong without echoing the URL: it may hold a password.
            raise ValueError(f"must start with postgresql:// (got scheme {scheme!r})")
        try:
            params = conninfo_to_dict(value.get_secret_value())
        except psycopg.ProgrammingError:
            raise ValueError("is not a valid PostgreSQL connection URL") from None
        ports = str(params.get("port") or "5432").split(",")
        if not all(port.isdigit() for port in ports):
            raise ValueError("has a port that is not a number")
        return value

    @field_validator("allowed_hosts", "forwarded_allow_ips", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for host in value:
            if not HOST_PATTERN.match(host):
                raise ValueError(f"{host!r} is not a host name, '*.domain' or '*'")
        return tuple(host.lower() for host in value)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address, a network or '*'") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL, e.g. https://weather.example.com")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must have no query, fragment or credentials")
        if not PATH_PATTERN.match(parts.path.rstrip("/")):
            raise ValueError("has a path with characters other than letters, digits, ._~-")
        return value.rstrip("/")

    @field_validator("root_path")
    @classmethod
    def _path_prefix(cls, value: str) -> str:
        value = value.rstrip("/")
        if not PATH_PATTERN.match(value):
            raise ValueError("must be empty or a path such as /weather (letters, digits, ._~-)")
        return value

    def database_call_timeout_s(self) -> float:
        """``DATABASE_CLIENT_TIMEOUT_S``, else the statement timeout plus 1 s (30 s without one).

        The extra second lets the server's own statement timeout win for a
        merely slow query, which then reports itself as such.
        """
        if self.database_client_timeout_s is not None:
            return self.database_client_timeout_s
        if self.database_statement_timeout_ms == 0:
            return 30.0
        return self.database_statement_timeout_ms / 1000 + 1.0

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            for origin in value:
                if origin != "*" and not _ORIGIN.match(str(origin)):
                    raise ValueError(
                        f"{origin!r} is not an origin (scheme://host[:port], no path) or *"
                    )
        return value

    def database_password(self) -> str | None:
        """The password from ``DATABASE_PASSWORD_FILE`` or ``PGPASSWORD``, if any."""
        if self.database_password_file is not None:
            return read_secret_file(self.database_password_file, "DATABASE_PASSWORD_FILE")
        if self.pgpassword is not None:
            return self.pgpassword.get_secret_value()
        return None


def load_settings() -> Settings:
    """Read the settings from the environment, turning validation errors into ConfigError."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
