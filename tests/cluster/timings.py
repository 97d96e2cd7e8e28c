"""Figures the cluster run measures on its way (printed at the end of the module)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Timings:
    figures: dict[str, float] = field(default_factory=dict)
    peak_memory_mib: float = 0.0

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.figures[name] = time.monotonic() - started

    def mark(self, name: str, since: float) -> None:
        self.figures[name] = time.monotonic() - since

    def report(self) -> str:
        lines = [f"  {name}: {seconds:.1f} s" for name, seconds in self.figures.items()]
        if self.peak_memory_mib:
            lines.append(
                f"  peak memory of the cluster's processes: {self.peak_memory_mib:.0f} MiB"
            )
        return "\n".join(lines)
