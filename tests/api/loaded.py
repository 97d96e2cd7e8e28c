"""The data set the API tests read, and how it is loaded: real files through the ingest job."""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import SecretStr

from ingest_job.run import ingest
from warehouse.errors import ExitCode
from warehouse.settings import Settings

# Two full stations and one that stops in 1990 (fewer rows, other end date).
STATIONS = ("USC00110072", "USC00110187", "USC00253035")
CURSOR_SECRET = "test-cursor-secret"


def api_settings(url: str, **overrides: object) -> Settings:
    """Settings for an app over ``url``."""
    values: dict[str, object] = {
        "database_url": SecretStr(url),
        "cursor_secret": SecretStr(CURSOR_SECRET),
        "log_format": "text",
        # Starlette's TestClient sends "Host: testserver".
        "allowed_hosts": ("testserver", "localhost", "127.0.0.1"),
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def load_real_files(settings: Settings, folder: Path, real_data: Path) -> None:
    """Copy the chosen station files and the yield file to ``folder`` and ingest them."""
    folder.mkdir(parents=True, exist_ok=True)
    for station in STATIONS:
        shutil.copy(real_data / "wx_data" / f"{station}.txt", folder)
    for path in (real_data / "yld_data").iterdir():
        shutil.copy(path, folder)
    report = ingest(settings, [str(folder)])
    assert report.exit_code is ExitCode.OK, report
