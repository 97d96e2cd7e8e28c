"""Run the real ``weather-warehouse`` command in a subprocess, with a controlled environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# Variables a developer's shell may hold that would change what a test means.
_CLEARED = ("DATABASE_URL", "DATABASE_READ_URL", "DATABASE_PASSWORD_FILE", "PGHOST", "PGPORT",
            "PGDATABASE", "PGUSER", "PGPASSWORD", "PUSHGATEWAY_URL", "CLOUDWATCH_NAMESPACE",
            "UPLOAD_TOKEN", "UPLOAD_TOKEN_FILE", "TRACING_ENABLED", "OTEL_SERVICE_NAME",
            "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER_ARG",
            "TRACING_TRACES_PER_SECOND")  # fmt: skip


def command_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without database settings, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    return {**base, "LOG_FORMAT": "json", **(env or {})}


def start(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[str]:
    """Start ``weather-warehouse ARGS`` without waiting."""
    return subprocess.Popen(
        [sys.executable, "-m", "command", *args],
        env=command_env(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``weather-warehouse ARGS`` to completion and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "command", *args],
        env=command_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
