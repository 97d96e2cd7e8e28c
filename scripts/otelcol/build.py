"""Build (or reuse) the OpenTelemetry collector the observability tests run.

The OpenTelemetry Collector Builder (ocb) compiles the components listed in
``builder-config.yaml`` next to this file. The binary is cached outside the checkout
under ``${WW_TOOL_CACHE:-$HOME/.cache/weather-warehouse}/otelcol-<version>/<hash>/``,
keyed by the collector version and the hash of the builder config, so editing the
config builds a new binary and an unchanged one is reused (a cold build takes about
3.5 minutes on two cores). Needs ``go`` and the Go module proxy.

Usage: ``python scripts/otelcol/build.py`` prints the binary's path (run by
``make tools`` and, on first use, by the test harness).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERSION = "0.161.0"
HERE = Path(__file__).resolve().parent
CONFIG = HERE / "builder-config.yaml"
BINARY_NAME = "otelcol-ww"


def cache_root() -> Path:
    """The shared tool cache (``WW_TOOL_CACHE`` or ``~/.cache/weather-warehouse``)."""
    configured = os.environ.get("WW_TOOL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "weather-warehouse"


def binary_path() -> Path:
    """Where the collector for the current builder config lives (built or not)."""
    key = hashlib.sha256(CONFIG.read_bytes()).hexdigest()[:16]
    return cache_root() / f"otelcol-{VERSION}" / key / BINARY_NAME


def _run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def _build(target: Path) -> None:
    go = shutil.which("go")
    if go is None:
        raise SystemExit("go is not installed: the collector cannot be built")
    tool_dir = target.parent.parent
    ocb = tool_dir / "ocb" / "builder"
    env = {**os.environ, "GOBIN": str(ocb.parent), "CGO_ENABLED": "0"}
    if not ocb.exists():
        _run([go, "install", f"go.opentelemetry.io/collector/cmd/builder@v{VERSION}"], env=env)
    with tempfile.TemporaryDirectory(prefix="otelcol-build-", dir=tool_dir) as work:
        # ocb takes the output folder from the manifest only: give it a copy that
        # points at this temporary folder, the rest of the manifest unchanged.
        manifest = Path(work) / "builder-config.yaml"
        text = CONFIG.read_text()
        manifest.write_text(text.replace("dist:\n", f"dist:\n  output_path: {work}/out\n", 1))
        _run([str(ocb), f"--config={manifest}", "--ldflags=-s -w"], cwd=work, env=env)
        built = Path(work) / "out" / BINARY_NAME
        partial = target.with_suffix(".partial")
        shutil.copy2(built, partial)
        partial.replace(target)


def ensure_built() -> Path:
    """Return the cached collector, building it first when it is missing."""
    target = binary_path()
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Several checkouts share the cache: one builds, the others wait and reuse.
    with (target.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        started = time.monotonic()
        print(f"building the OpenTelemetry collector {VERSION} into {target.parent}", flush=True)
        _build(target)
        minutes, seconds = divmod(time.monotonic() - started, 60)
        print(f"built {target} in {int(minutes)} min {seconds:.0f} s", flush=True)
    return target


def main() -> int:
    print(ensure_built())
    return 0


if __name__ == "__main__":
    sys.exit(main())
