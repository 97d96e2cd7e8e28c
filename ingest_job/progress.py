"""What a run shows while it works.

At a terminal: one progress line (files done, rows, rows/s), rewritten in
place, and the bad lines of rejected files. Otherwise (a container): one
structured log line per file. Either way, one summary line at the end.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from ingest_job.report import FileResult, RunReport
from warehouse import logs

log = logging.getLogger("ingest_job")


class Progress:
    """Report files as they finish, and the run when it ends."""

    def __init__(self, total: int, log_format: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() and not logs.wants_json(log_format, self.stream)

    def file_done(self, result: FileResult, report: RunReport) -> None:
        """One file finished (loaded, skipped, rejected or failed)."""
        if self.interactive:
            self._draw(result, report)
        else:
            # "checked" is --dry-run's "would load": as good as loaded.
            level = (
                logging.INFO
                if result.status in ("loaded", "skipped", "checked")
                else logging.WARNING
            )
            log.log(level, f"file {result.status}", extra=_fields(result))

    def finish(self, report: RunReport) -> None:
        """The run ended: the summary line."""
        if self.interactive and self.total:
            self.stream.write("\n")
            self.stream.flush()
        level = logging.INFO if report.succeeded else logging.WARNING
        message = "ingest run finished" if report.error is None else report.error
        log.log(level, message, extra=report.summary())

    def _draw(self, result: FileResult, report: RunReport) -> None:
        if result.error:
            self.stream.write(f"\r\x1b[K{result.status}: {result.error}\n")
        done = report.files_seen
        rows = report.rows_inserted + report.rows_updated
        self.stream.write(
            f"\r\x1b[Kingest: {done}/{self.total} files, {rows:,} rows, "
            f"{report.rows_per_second:,.0f} rows/s"
        )
        self.stream.flush()


def _fields(result: FileResult) -> dict[str, object]:
    return {
        "uri": result.uri,
        "status": result.status,
        "format": result.format,
        "size_bytes": result.size_bytes,
        "checksum": result.checksum,
        "rows_read": result.rows_read,
        "rows_inserted": result.rows_inserted,
        "rows_updated": result.rows_updated,
        "rows_rejected": result.rows_rejected,
        "values_rejected_qc": result.values_rejected_qc,
        "seconds": round(result.seconds, 4),
        "error": result.error,
    }
