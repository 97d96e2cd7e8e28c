"""The cluster's long-running processes: started with a log file each, stopped by pid.

Most run as the invoking user; the few that need root (containerd, kubelet, the
policy enforcer) are started through :func:`scripts.root.as_root` and
signalled the same way, with their descendants, since ``sudo`` itself may be all
a normal user can signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.root import as_root
from tests.cluster.memory import descendants
from tests.harness.waiting import wait_through_errors as wait_for  # noqa: F401 (re-exported)


@dataclass
class Supervisor:
    """Starts processes in order and stops them in reverse order, by process id."""

    logs: Path
    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    as_root: set[int] = field(default_factory=set)  # pids started through as_root

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        root: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` (as root if ``root``) with its output in ``<logs>/<name>.log``."""
        self.logs.mkdir(parents=True, exist_ok=True)
        command = as_root(argv, env) if root else list(argv)
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        self.started.append((name, process))
        if root:
            self.as_root.add(process.pid)
        return process

    def check_alive(self) -> None:
        """Raise with the log's tail if a started process has exited."""
        for name, process in self.started:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop_all(self, grace: float = 10) -> None:
        """SIGTERM each process (newest first), SIGKILL what is left after ``grace``."""
        for _name, process in reversed(self.started):
            stop(process.pid, grace, root=process.pid in self.as_root)
            process.wait()
        self.started.clear()
        self.as_root.clear()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's (root's): it exists
    # A zombie is dead for our purposes (its parent reaps it).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def _signal(pids: Sequence[int], sig: signal.Signals, root: bool) -> None:
    if root:
        argv = ["kill", f"-{sig.name.removeprefix('SIG')}", *map(str, pids)]
        subprocess.run(as_root(argv), capture_output=True, check=False)
        return
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop(pid: int, grace: float = 10, root: bool = False) -> None:
    """Terminate one process and its descendants by id; kill what outlives ``grace`` s.

    ``root``: it was started as root (through sudo when not root), so it is
    signalled as root, its children too: sudo's own child outlives a killed sudo.
    """
    pids = [pid, *descendants(pid)] if root else [pid]
    _signal(pids, signal.SIGTERM, root)
    deadline = time.monotonic() + grace
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if alive(p)]
    if left:
        _signal(left, signal.SIGKILL, root)
