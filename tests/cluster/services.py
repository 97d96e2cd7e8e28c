"""What lives beside the cluster, inside its namespace: PostgreSQL (as RDS would),
moto (Secrets Manager and S3) and a git daemon (the repository Argo CD follows)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg

from command.postgres_server import find_bin_dir, server_user
from tests.cluster.netns import DB_GATEWAY, DB_IP, NODE_IP, Netns
from tests.cluster.processes import Supervisor, wait_for

PG_PORT = 5432
MOTO_PORT = 443  # the port the chart's NetworkPolicy opens to AWS endpoints
GIT_PORT = 9418


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def start_postgres(sup: Supervisor, host: Netns, base: Path, cert: Path, key: Path) -> str:
    """PostgreSQL on DB_IP:5432 in the database host's namespace ``host``, with TLS (the
    chart's sslmode=require); the superuser URL.

    The superuser is trusted only from the cluster's end of the link (the harness,
    whose traffic pods cannot take: they keep their own addresses, no masquerade);
    every other role, from anywhere, must give its password over TLS.
    """
    data = base / "pgdata"
    base.chmod(0o755)  # the server runs as another user when the tests run as root
    user = server_user()
    prefix = (
        []
        if user is None
        else ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--"]
    )
    data.mkdir(mode=0o700)
    tls = base / "pgtls"
    tls.mkdir()
    shutil.copy(cert, tls / "server.crt")
    shutil.copy(key, tls / "server.key")
    if user is not None:
        for path in (data, tls, tls / "server.crt", tls / "server.key"):
            shutil.chown(path, user, user)
    (tls / "server.key").chmod(0o600)
    bins = find_bin_dir()
    subprocess.run(
        [
            *prefix,
            str(bins / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-instructions",
        ],
        check=True,
        capture_output=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    (data / "pg_hba.conf").write_text(
        f"host all postgres {DB_GATEWAY}/32 trust\nhostssl all all 0.0.0.0/0 scram-sha-256\n"
    )
    # Entering the host's namespace takes root; the server runs as its own user.
    owner = user or str(os.getuid())
    sup.start(
        "postgres",
        [
            "nsenter",
            f"--net={host.path}",
            "--",
            "setpriv",
            f"--reuid={owner}",
            f"--regid={user or os.getgid()}",
            "--clear-groups",
            "--",
            str(bins / "postgres"),
            "-D",
            str(data),
            "-c",
            f"listen_addresses={DB_IP}",
            "-c",
            f"port={PG_PORT}",
            "-c",
            "unix_socket_directories=",
            "-c",
            "fsync=off",
            "-c",
            "ssl=on",
            "-c",
            f"ssl_cert_file={tls / 'server.crt'}",
            "-c",
            f"ssl_key_file={tls / 'server.key'}",
        ],
        env={"LC_ALL": "C"},
        root=True,
    )
    url = f"postgresql://postgres@{DB_IP}:{PG_PORT}/postgres"
    wait_for(
        lambda: psycopg.connect(url, connect_timeout=2).close() or True,
        "PostgreSQL",
        timeout=60,
        supervisor=sup,
    )
    return url


def start_moto(sup: Supervisor) -> str:
    """moto's server on NODE_IP:443 (plain HTTP); its endpoint URL."""
    sup.start("moto", [sys.executable, "-m", "moto.server", "-H", NODE_IP, "-p", str(MOTO_PORT)])
    wait_for(lambda: _listening(NODE_IP, MOTO_PORT), "moto", timeout=60, supervisor=sup)
    return f"http://{NODE_IP}:{MOTO_PORT}"


def start_git_daemon(sup: Supervisor, root: Path) -> str:
    """``git daemon`` serving the bare repositories under ``root`` read-only."""
    sup.start(
        "git-daemon",
        [
            "git",
            "daemon",
            f"--base-path={root}",
            "--export-all",
            "--reuseaddr",
            f"--listen={NODE_IP}",
            f"--port={GIT_PORT}",
            str(root),
        ],
    )
    wait_for(lambda: _listening(NODE_IP, GIT_PORT), "git daemon", timeout=30, supervisor=sup)
    return f"git://{NODE_IP}:{GIT_PORT}"
