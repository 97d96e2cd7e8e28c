"""Measuring for the benchmarks: the machine, a process's peak RSS, and ``wrk`` runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass

import psutil

MiB = 2**20


def print_machine() -> None:
    """Print the core count and the load average: the machine is shared, figures vary with it."""
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")


class PeakRss:
    """The peak RSS of ``process``, sampled every 50 ms in a thread while the block runs."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.before = self.rss()
        self.peak = self.before
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> int:
        """The process's resident memory now, in bytes."""
        return int(self.process.memory_info().rss)

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> PeakRss:
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join()


def find_wrk() -> str | None:
    """The ``wrk`` executable, or None after saying how to install it."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
    return wrk


@dataclass(frozen=True)
class Target:
    """One URL under load, served by one server process, with extra request headers."""

    url: str
    server: psutil.Process
    headers: tuple[str, ...] = ()


def run_wrk(wrk: str, target: Target, duration: int, connections: int) -> dict[str, float]:
    """One ``wrk`` run: req/s, p50 and p99 in ms, server CPU ms per request, non-2xx count."""
    cpu_before = sum(target.server.cpu_times()[:2])
    headers = [arg for header in target.headers for arg in ("-H", header)]
    out = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--latency", *headers, target.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = sum(target.server.cpu_times()[:2]) - cpu_before
    figures = parse_wrk(out)
    # Server CPU per request: what one dedicated core could serve, whatever
    # else the machine is running.
    figures["cpu_ms"] = cpu * 1000 / figures.pop("requests")
    return figures


def parse_wrk(out: str) -> dict[str, float]:
    """The requests, req/s, p50/p99 (ms) and non-2xx count from ``wrk --latency`` output."""
    figures = {
        "requests": float(re.search(r"(\d+) requests in", out)[1]),  # type: ignore[index]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
    }
    for pct in ("50", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
        figures[f"p{pct}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non_2xx"] = float(errors[1]) if errors else 0.0
    return figures
