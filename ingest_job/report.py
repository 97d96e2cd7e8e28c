"""What a run did: per-file results and the run's totals, exit code included."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from warehouse.errors import ExitCode

if TYPE_CHECKING:
    from ingest_job.formats.base import Parsed

# "checked": ingest --dry-run found the file clean (never written to the ledger).
FileStatus = Literal["loaded", "skipped", "rejected", "failed", "checked"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class FileResult:
    """One file a run looked at (one ``ingest_file`` row)."""

    uri: str
    status: FileStatus
    started_at: datetime
    format: str | None = None
    size_bytes: int | None = None
    checksum: str | None = None
    stations: list[str] | None = None  # the stations of an observation file
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    values_rejected_qc: int = 0
    error: str | None = None
    # Rejected with the same checksum as the last time: not parsed again.
    still_rejected: bool = False
    seconds: float = 0.0
    clock: float = field(default_factory=time.perf_counter, repr=False)

    @classmethod
    def failed(cls, uri: str, size_bytes: int) -> FileResult:
        """A file just started: failed until something better is known of it."""
        return cls(uri=uri, status="failed", started_at=utcnow(), size_bytes=size_bytes)

    def not_loaded(self, status: FileStatus, error: str) -> None:
        """Nothing of the file was written (rolled back): no row counts as inserted or updated."""
        self.status, self.error = status, error
        self.rows_inserted = self.rows_updated = 0

    def count(self, parsed: Parsed) -> None:
        """What the parser read of the file: its format, rows, stations, values refused."""
        self.format = parsed.format
        if parsed.table == "observation":
            self.stations = sorted(parsed.stations)
        self.rows_read = parsed.rows + parsed.lines_rejected
        self.values_rejected_qc = parsed.values_rejected_qc


@dataclass
class RunReport:
    """The run's totals (one ``ingest_run`` row) and the problems worth reading."""

    source: str
    shard: str | None = None  # "I/N" for ingest --shard
    run_id: int | None = None
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    files_seen: int = 0
    files_loaded: int = 0
    files_skipped: int = 0
    files_rejected: int = 0
    files_failed: int = 0
    files_still_rejected: int = 0
    files_checked: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    values_rejected_qc: int = 0
    station_years_recomputed: int = 0
    problems: list[str] = field(default_factory=list)
    # Files rejected again unchanged: reported, but they do not fail the run.
    known_bad: list[str] = field(default_factory=list)
    error: str | None = None
    fatal: ExitCode | None = None
    _clock: float = field(default_factory=time.perf_counter, repr=False)
    duration_s: float = 0.0

    def add(self, result: FileResult) -> None:
        """Count one file's outcome."""
        self.files_seen += 1
        if result.status == "loaded":
            self.files_loaded += 1
        elif result.status == "skipped":
            self.files_skipped += 1
        elif result.status == "checked":
            self.files_checked += 1
        elif result.still_rejected:
            self.files_still_rejected += 1
        elif result.status == "rejected":
            self.files_rejected += 1
        else:
            self.files_failed += 1
        self.rows_inserted += result.rows_inserted
        self.rows_updated += result.rows_updated
        self.rows_rejected += result.rows_rejected
        self.values_rejected_qc += result.values_rejected_qc
        if result.error:
            (self.known_bad if result.still_rejected else self.problems).append(result.error)

    def abort(self, code: ExitCode, message: str) -> None:
        """The run stopped early (lock held, source unreachable)."""
        self.fatal = code
        self.error = message

    def finish(self) -> None:
        self.finished_at = utcnow()
        self.duration_s = time.perf_counter() - self._clock

    @property
    def rows_per_second(self) -> float:
        elapsed = self.duration_s or (time.perf_counter() - self._clock)
        return (self.rows_inserted + self.rows_updated) / elapsed if elapsed > 0 else 0.0

    @property
    def exit_code(self) -> ExitCode:
        if self.fatal is not None:
            return self.fatal
        if self.files_rejected or self.files_failed:
            return ExitCode.FILES_REJECTED
        return ExitCode.OK

    @property
    def succeeded(self) -> bool:
        return self.exit_code == ExitCode.OK

    def summary(self) -> dict[str, object]:
        """The figures of the final log line."""
        return {
            "run_id": self.run_id,
            "shard": self.shard,
            "status": "succeeded" if self.succeeded else "failed",
            "exit_code": int(self.exit_code),
            "files_seen": self.files_seen,
            "files_loaded": self.files_loaded,
            "files_skipped": self.files_skipped,
            "files_rejected": self.files_rejected,
            "files_failed": self.files_failed,
            "files_still_rejected": self.files_still_rejected,
            "files_checked": self.files_checked,
            "rows_inserted": self.rows_inserted,
            "rows_updated": self.rows_updated,
            "rows_rejected": self.rows_rejected,
            "values_rejected_qc": self.values_rejected_qc,
            "duration_s": round(self.duration_s, 3),
        }
