"""The demo's own PostgreSQL server: one per data folder, always stopped on the way out.

The server (:class:`command.postgres_server.EmbeddedPostgres`) keeps its data
in ``<home>/postgres`` and listens only on a Unix socket in ``<home>/socket``,
a folder private to its OS user: no TCP port, so no other user of the machine
can reach the superuser it trusts (both under a root-owned folder of their own
when that user cannot enter ``<home>``: see :func:`server_home`). A lock on
the folder keeps two demos apart; a server that a killed demo left running is
stopped, a stale ``postmaster.pid`` is removed, and a first ``initdb`` is all
or nothing, so whatever the previous run went through, the next one starts.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from command.postgres_server import EmbeddedPostgres, server_user
from warehouse.errors import ConfigError

log = logging.getLogger("command.demo")

# Where the demo database goes when the server's user cannot enter the demo's folder.
SYSTEM_HOME = Path("/var/lib/weather-warehouse-demo")


@contextmanager
def running(home: Path) -> Iterator[EmbeddedPostgres]:
    """The started server of ``home``; stopped on exit, however the block ends."""
    with only_demo_in(home):
        base = server_home(home)
        with socket_folder(base) as folder:
            server = EmbeddedPostgres(data_dir=base / "postgres", socket_dir=folder)
            stop_leftover(server)
            try:
                start(server)
                yield server
            finally:
                stop(server)


# A Unix socket's path holds at most 107 bytes; PostgreSQL adds /.s.PGSQL.NNNNN.
_SOCKET_DIR_MAX = 107 - len("/.s.PGSQL.65535")
# Names pg_ctl's shell and the server's setting take without quoting.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_./-]+")


@contextmanager
def socket_folder(home: Path) -> Iterator[Path]:
    """A folder only the server's OS user may enter (0700), for its Unix socket.

    ``<home>/socket`` when its path is short and plain enough for a socket,
    else a private temporary folder, removed on exit.
    """
    folder = home.resolve() / "socket"
    temporary = len(str(folder)) > _SOCKET_DIR_MAX or not _PLAIN_PATH.fullmatch(str(folder))
    if temporary:
        folder = Path(tempfile.mkdtemp(prefix="ww-pg-"))
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # one made by hand, or by an older demo, becomes private too
        user = server_user()
        if user is not None:  # under root the server runs as this user: its folder
            shutil.chown(folder, user, user)
    except OSError as exc:
        raise ConfigError(f"cannot make {folder} private for PostgreSQL's socket: {exc}") from None
    try:
        yield folder
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)


def server_home(home: Path, system_home: Path = SYSTEM_HOME) -> Path:
    """The folder for the server's data: ``home``, unless the server's user cannot reach it.

    Under root the server runs as another user (PostgreSQL refuses root), who
    cannot enter a checkout in a private folder (``/root``, mode 0700). Opening
    that folder to others would expose what else it holds; instead the data
    goes to a folder of its own under ``system_home`` (owned by root, not
    writable by anyone else), named after ``home`` so each checkout keeps its
    own database across runs.
    """
    user = server_user()
    if user is None or can_enter(user, home.parent):
        return home
    folder = system_home / hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:16]
    system_home.mkdir(mode=0o711, parents=True, exist_ok=True)
    found = system_home.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != 0 or found.st_mode & 0o022:
        raise ConfigError(
            f"{system_home} must be a folder owned by root that no one else can write to "
            f"(it holds the demo database when the {user} user cannot enter "
            f"{home}): fix or delete it"
        )
    folder.mkdir(mode=0o700, exist_ok=True)
    log.info(
        "PostgreSQL's user cannot enter the demo's folder: its data lives elsewhere",
        extra={"user": user, "folder": str(home), "data_dir": str(folder / "postgres")},
    )
    return folder


def can_enter(user: str, folder: Path) -> bool:
    """True when ``user`` (with no supplementary groups) may open files inside ``folder``."""
    probe = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--",
             "test", "-x", str(folder)]  # fmt: skip
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@contextmanager
def only_demo_in(home: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``home`` so that two demos never share one server.

    The kernel drops the lock when the process dies, however it dies, so a
    killed demo never blocks the next one.
    """
    with (home / "demo.lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise ConfigError(
                f"another demo (pid {holder}) is using {home}: stop it first, "
                "or set WAREHOUSE_DATA_DIR to another folder"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def start(server: EmbeddedPostgres) -> None:
    """Start the server; if it refuses, say why in the one error line (its log's last line)."""
    log.info(
        "starting PostgreSQL",
        extra={"data_dir": str(server.data_dir), "socket_dir": str(server.socket_dir)},
    )
    initialise(server)
    try:
        server.start()
    except ConfigError as exc:
        try:
            said = [line for line in server.log_file.read_text().splitlines() if line.strip()]
        except OSError:
            said = []
        cause = f" PostgreSQL says: {said[-1].strip()}" if said else ""
        raise ConfigError(
            f"{exc.message.rstrip('.')}.{cause} (the demo database is disposable: "
            f"delete {server.data_dir} to start afresh)"
        ) from None


def initialise(server: EmbeddedPostgres) -> None:
    """Create the server's data folder once, all or nothing.

    ``initdb`` writes into a sibling folder that is renamed into place when
    complete, so a first run interrupted half-way (Ctrl-C) never leaves a
    half-made data folder that later runs would take for a database.
    """
    if server.initialised():
        return
    if server.data_dir.exists() and any(server.data_dir.iterdir()):
        raise ConfigError(
            f"{server.data_dir} is not empty but holds no PostgreSQL database: "
            "delete it, or set WAREHOUSE_DATA_DIR to another folder"
        )
    staging = server.data_dir.with_name(f"{server.data_dir.name}.initdb")
    shutil.rmtree(staging, ignore_errors=True)  # what an interrupted attempt left
    EmbeddedPostgres(
        data_dir=staging,
        port=server.port,
        bin_dir=server.bin_dir,
        user=server.user,
        socket_dir=server.socket_dir,
    ).init()
    if server.data_dir.exists():
        server.data_dir.rmdir()
    staging.rename(server.data_dir)


def stop_leftover(server: EmbeddedPostgres) -> None:
    """Deal with a ``postmaster.pid`` that no running demo owns (we hold the folder's lock).

    Either a killed demo left its server running: stop it. Or the server died
    (or the machine restarted) and the pid in the file is dead or belongs to
    another program: the file is stale, and signalling that pid could hit an
    innocent process; remove it.
    """
    pid = server.pid()
    if pid is None:
        return  # no file, or its pid is gone: pg_ctl start copes with that
    if is_postgres(pid):
        log.warning(
            "stopping a PostgreSQL server left running by an earlier demo", extra={"pid": pid}
        )
        stop(server)
    else:
        log.warning(
            "removing a stale postmaster.pid: its pid is not a running PostgreSQL",
            extra={"pid": pid},
        )
        (server.data_dir / "postmaster.pid").unlink(missing_ok=True)


def is_postgres(pid: int) -> bool:
    """True when process ``pid`` is a live (not zombie) ``postgres`` executable."""
    found = _name_and_state(pid)
    return found is not None and found[0].startswith("postgres") and not found[1].startswith("Z")


def _name_and_state(pid: int) -> tuple[str, str] | None:
    if Path("/proc/self").is_dir():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # it has just exited
            return None
        # "pid (name) state ...": the name may itself hold spaces and brackets.
        name, rest = stat.split(" (", 1)[1].rsplit(") ", 1)
        return name, rest.split()[0]
    # macOS and the BSDs have no /proc.
    ps = ["ps", "-o", "stat=,comm=", "-p", str(pid)]
    out = subprocess.run(ps, capture_output=True, text=True, check=False).stdout.split(None, 1)
    return (Path(out[1].strip()).name, out[0]) if len(out) == 2 else None


def stop(server: EmbeddedPostgres) -> None:
    """Stop the server if it runs; a second Ctrl-C must not leave it running."""
    pid = server.pid()
    if pid is None or not is_postgres(pid):
        return
    log.info("stopping PostgreSQL")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        server.stop()
    except ConfigError:
        pid = server.pid()
        if pid is not None and is_postgres(pid):
            raise
        # It died on its own while we were stopping it: what we wanted.
    finally:
        signal.signal(signal.SIGINT, previous)
    log.info("PostgreSQL stopped")
