"""How long ``make run`` takes to give a working warehouse, first and second time.

Runs ``weather-warehouse demo`` (the real data set of ``data/``, as ``make
run`` does) twice on a fresh data folder and prints, for each run, the seconds
until ``/readyz`` answers 200 and until the process has stopped after Ctrl-C
(SIGINT); before that, how long generating the sample data set (``make run
SEED=``) takes on its own. Goal (issue 8): a newcomer has a working
warehouse "within a couple of minutes", most of which is installing the
virtual environment; the demo itself should be ready in well under 30 s.

    .venv/bin/python bench/demo_startup.py
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from command import sample_data
from warehouse.ports import free_port

REPO = Path(__file__).resolve().parent.parent


def generation(base: Path) -> None:
    started = time.perf_counter()
    files = sample_data.write(base / "generated", sample_data.SampleSpec())
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in files)
    lines = sum(len(f.read_bytes().splitlines()) for f in files)
    print(
        f"generate sample: {seconds:6.2f} s  {len(files)} files, {lines:,} lines, "
        f"{size / 1e6:.1f} MB ({lines / seconds:,.0f} lines/s)"
    )


def demo_run(home: Path, label: str) -> None:
    port = free_port()
    env = {**os.environ, "WAREHOUSE_DATA_DIR": str(home), "LOG_FORMAT": "json"}
    for key in ("DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"):
        env.pop(key, None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "command", "demo", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not ready(port):
            if process.poll() is not None:
                raise SystemExit(f"{label}: demo exited with {process.returncode}")
            time.sleep(0.05)
        up = time.perf_counter() - started
        stopping = time.perf_counter()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        down = time.perf_counter() - stopping
    finally:
        if process.poll() is None:
            process.kill()
    print(f"{label}: ready after {up:6.2f} s, stopped {down:5.2f} s after Ctrl-C")


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError):
        return False


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="wh-bench-demo-"))
    base.chmod(0o755)  # PostgreSQL may run as another user (under root)
    try:
        generation(base)
        demo_run(base / "data", "first run  (unpack, initdb, load)")
        demo_run(base / "data", "second run (reuse, nothing to load)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
