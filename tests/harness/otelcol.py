"""A real OpenTelemetry collector running the chart's ADOT configuration.

The collector is the one ``scripts/otelcol/build.py`` builds with the
OpenTelemetry Collector Builder: every component the chart's configuration uses
except the two AWS exporters, which do not build from the Go module proxy. So
the harness makes exactly one change to the rendered configuration
(``without_aws_exporters``): ``awsemf`` and ``awsxray`` are replaced, in the
exporters and in the pipelines, by ``file`` exporters writing OTLP JSON lines.
Receivers, processors (the allow-list filter included), extensions and the
telemetry settings run as rendered.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.process import running

REPO = Path(__file__).resolve().parent.parent.parent
BUILD_SCRIPT = REPO / "scripts" / "otelcol" / "build.py"
AWS_EXPORTERS = {"awsemf": "file/metrics", "awsxray": "file/traces"}


def _build_module() -> Any:
    spec = importlib.util.spec_from_file_location("otelcol_build", BUILD_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def binary() -> Path:
    """The cached collector, built on first use (``make tools`` builds it beforehand)."""
    build = _build_module()
    path: Path = build.binary_path()
    if path.exists():
        return path
    if shutil.which("go") is None:
        message = "go is not installed: the OpenTelemetry collector cannot be built"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run every test")
        pytest.skip(message)
    built: Path = build.ensure_built()
    return built


def without_aws_exporters(config: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The one transformation: awsemf/awsxray -> file exporters under ``folder``.

    ``folder/metrics.jsonl`` and ``folder/traces.jsonl`` receive what the AWS
    exporters would have been given. Nothing else in ``config`` changes.
    """
    changed = json.loads(json.dumps(config))
    exporters = changed["exporters"]
    for aws, replacement in AWS_EXPORTERS.items():
        if exporters.pop(aws, None) is None:
            continue
        signal = replacement.split("/")[1]
        exporters[replacement] = {
            "path": str(folder / f"{signal}.jsonl"),
            "flush_interval": "100ms",
        }
    for pipeline in changed["service"]["pipelines"].values():
        pipeline["exporters"] = [AWS_EXPORTERS.get(name, name) for name in pipeline["exporters"]]
    return changed


def validate(binary_path: Path, config_file: Path) -> subprocess.CompletedProcess[str]:
    """``otelcol validate``: the binary's own check of a configuration."""
    return subprocess.run(
        [str(binary_path), "validate", f"--config={config_file}"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


@contextmanager
def running_collector(
    binary_path: Path, config: dict[str, Any], folder: Path, health_port: int
) -> Iterator[Path]:
    """Run the collector on ``config`` (already transformed); yield its config file.

    Yields once the health_check extension answers; the log is ``folder/collector.log``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "collector.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    command = [str(binary_path), f"--config={config_file}"]
    with (
        (folder / "collector.log").open("wb") as log,
        running(command, f"http://127.0.0.1:{health_port}/", "otelcol", output=log),
    ):
        yield config_file


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The OTLP JSON objects the file exporter wrote so far (one per line)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    # The last line may be half-written while the exporter flushes.
    found: list[dict[str, Any]] = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return found
