"""Drive ``weather-warehouse demo`` in a subprocess, as a user at a terminal would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cli import command_env
from tests.harness import http
from tests.harness.unprivileged import Installation
from tests.harness.waiting import wait_for

STARTUP_LIMIT_S = 120  # a first run generates and loads the sample data set
STOP_LIMIT_S = 60
BANNER = "Weather Warehouse API on"


@dataclass
class Demo:
    """One ``demo`` process on ``port`` with its data under ``home``."""

    home: Path
    port: int
    args: tuple[str, ...] = ()
    logs: Path = field(init=False)
    process: subprocess.Popen[bytes] = field(init=False)

    def start(self, run: int, installation: Installation | None = None) -> Demo:
        """Start the process; its stdout and stderr go to files (no pipe can fill up).

        With ``installation``, as that installation's user, in its checkout.
        """
        self.logs = self.home.parent / f"demo-run-{run}"
        self.logs.mkdir(exist_ok=True)
        args = ["-m", "command", "demo", "--port", str(self.port), *self.args]
        env = {"WAREHOUSE_DATA_DIR": str(self.home)}
        with (self.logs / "stdout").open("wb") as out, (self.logs / "stderr").open("wb") as err:
            if installation is None:
                command, environment = [sys.executable, *args], command_env(env)
            else:
                command = installation.command(*args)
                environment = installation.env({**env, "LOG_FORMAT": "json"})
            self.process = subprocess.Popen(
                command,
                env=environment,
                cwd=None if installation is None else installation.checkout,
                stdout=out,
                stderr=err,
            )
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout(self) -> str:
        return (self.logs / "stdout").read_text()

    @property
    def stderr(self) -> str:
        return (self.logs / "stderr").read_text()

    def wait_ready(self) -> None:
        """Until ``/readyz`` answers 200 and the demo has said where to look; fail if it ends."""

        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"demo exited with {self.process.returncode} before it was ready\n"
                    f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
                )
            return http.answers_ok(self.base + "/readyz") and BANNER in self.stdout

        wait_for(ready, f"the demo to be ready\n{self.stderr}", STARTUP_LIMIT_S)

    def running(self) -> bool:
        """True while the demo runs; fails with its stderr once it has exited."""
        assert self.process.poll() is None, self.stderr
        return True

    def get(self, path: str) -> http.Reply:
        """``GET path`` of the demo's API."""
        return http.get(self.base + path, timeout=30)

    def get_json(self, path: str) -> Any:
        reply = self.get(path)
        assert reply.status == 200, (path, reply.status, reply.body[:500])
        return json.loads(reply.body)

    def postmaster_pid(self) -> int:
        """The pid of the demo's PostgreSQL server, from its lock file."""
        return int((self.home / "postgres" / "postmaster.pid").read_text().splitlines()[0])

    def signal(self, signum: signal.Signals) -> int:
        """Send ``signum`` and return the exit code once the process has ended."""
        self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_LIMIT_S)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent has exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:  # gone meanwhile, or no /proc (macOS): kill() said it runs
        return stat.exists() or not Path("/proc/self").exists()


def gone(pid: int) -> bool:
    """Wait (boundedly) for ``pid`` to exit; True once it has."""
    try:
        # An orphan's parent (init) reaps it soon after it exits.
        wait_for(lambda: not alive(pid), f"process {pid} to exit", timeout=10, every=0.05)
    except TimeoutError:
        return False
    return True


def processes_using(folder: Path) -> list[str]:
    """The command lines of live processes that name ``folder`` (zombies have exited)."""
    if not Path("/proc/self").is_dir():  # macOS: ps, which minimal Linux images may lack
        table = subprocess.run(
            ["ps", "-eo", "stat=,args="], capture_output=True, text=True, check=True
        )
        rows = [line.split(None, 1) for line in table.stdout.splitlines() if line.strip()]
        return [
            r[1] for r in rows if len(r) == 2 and not r[0].startswith("Z") and str(folder) in r[1]
        ]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # exited meanwhile
            continue
        if str(folder) in args and int(entry.name) != os.getpid() and alive(int(entry.name)):
            found.append(args.strip())
    return found


def none_left_using(folder: Path) -> list[str]:
    """Wait (boundedly) until no process names ``folder``; return those still there."""
    try:
        wait_for(lambda: not processes_using(folder), f"no process to use {folder}", 10, 0.05)
    except TimeoutError:
        return processes_using(folder)
    return []
