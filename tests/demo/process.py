"""Drive ``weather-warehouse demo`` in a subprocess, as a user at a terminal would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cli import command_env

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

    def start(self, run: int) -> Demo:
        """Start the process; its stdout and stderr go to files (no pipe can fill up)."""
        self.logs = self.home.parent / f"demo-run-{run}"
        self.logs.mkdir(exist_ok=True)
        with (self.logs / "stdout").open("wb") as out, (self.logs / "stderr").open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "command", "demo", "--port", str(self.port),
                 *self.args],
                env=command_env({"WAREHOUSE_DATA_DIR": str(self.home)}),
                stdout=out,
                stderr=err,
            )  # fmt: skip
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
        """Poll ``/readyz`` until it answers 200; fail if the process ends first."""
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"demo exited with {self.process.returncode} before it was ready\n"
                    f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
                )
            try:
                # Ready for a user: the API answers and the demo has said where to look.
                if self.get("/readyz")[0] == 200 and BANNER in self.stdout:
                    return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"demo not ready within {STARTUP_LIMIT_S} s\n{self.stderr}")

    def get(self, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body of ``GET path``."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], exc.read()

    def get_json(self, path: str) -> Any:
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:500])
        return json.loads(body)

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
    deadline = time.monotonic() + 10  # an orphan's parent (init) reaps it soon after
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
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
    deadline = time.monotonic() + 10
    while (left := processes_using(folder)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
