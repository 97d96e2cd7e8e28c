"""The cluster's memory: the resident sets of every process it started, pods included."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first listed deepest)."""
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # it exited meanwhile: nothing below it any more
        return out
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            out += [*descendants(child), child]
    return out


def shims(socket: str) -> list[int]:
    """containerd shims of the containerd listening on ``socket`` (they outlive their parent)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"containerd-shim-runc-v2") and socket.encode() in argv:
            found.append(int(proc.name))
    return found


def total_mib(roots: Iterable[int]) -> float:
    pids = {p for root in roots for p in (root, *descendants(root))}
    return sum(_rss_kib(p) for p in pids) / 1024


class PeakSampler(threading.Thread):
    """Samples the total every ``every`` seconds in the background; keeps the peak."""

    def __init__(self, roots: Callable[[], list[int]], every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.every = every
        self.peak_mib = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.peak_mib = max(self.peak_mib, total_mib(self.roots()))

    def stop(self) -> float:
        self._halt.set()
        self.join(timeout=10)
        return self.peak_mib
