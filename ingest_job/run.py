"""One ingest run: lock, list sources, load each file atomically, statistics, report.

The flow is source -> parse -> load -> statistics; this module only decides
what happens to each file and keeps the books.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence

import psycopg

from ingest_job import formats, load, metrics, sources, stats
from ingest_job.formats import Parsed, UnrecognisedFile
from ingest_job.progress import Progress
from ingest_job.report import FileResult, RunReport, utcnow
from warehouse import db
from warehouse.errors import (
    ConfigError,
    DatabaseUnavailable,
    ExitCode,
    SourceUnreachable,
    first_line,
)
from warehouse.settings import Settings

log = logging.getLogger("ingest_job")

Connection = psycopg.Connection[tuple[object, ...]]

# Ledger rows of files that loaded nothing are written in batches.
_LEDGER_BATCH = 500

# Set by a signal handler; a run stops at the next file boundary.
_stop = threading.Event()


class Terminated(Exception):
    """The run was asked to stop (SIGTERM); what it had not committed is rolled back.

    :func:`ingest` returns a report with exit code 143 for it, counting only
    the files whose transactions committed.
    """


def request_stop() -> None:
    """Ask the current run to stop before its next file (safe in a signal handler)."""
    _stop.set()


def ingest(
    settings: Settings, sources: Sequence[str], *, recompute_stats: bool = False
) -> RunReport:
    """Run the ingest job over ``sources`` (folders, files, ``s3://bucket/prefix``).

    Returns the run's report; its ``exit_code`` says how it went. Raises
    :class:`warehouse.errors.DatabaseUnavailable` when the database cannot
    be reached, and :class:`ConfigError` without sources.
    """
    if not sources:
        raise ConfigError("no source given: pass --source FOLDER|FILE|s3://bucket/prefix")
    report = RunReport(source=" ".join(sources))
    _stop.clear()
    with db.connect(settings, autocommit=True, application_name="weather-warehouse-ingest") as conn:
        if not load.try_lock(conn):
            report.abort(
                ExitCode.LOCK_HELD,
                f"another ingest run holds the lock ({load.lock_holder(conn)}); "
                "this run did nothing",
            )
            report.finish()
            log.warning(report.error, extra=report.summary())
            return report
        try:
            _locked_run(conn, settings, sources, report, recompute_stats)
        finally:
            if not conn.broken:
                load.unlock(conn)
    metrics.publish(settings, report)
    return report


def _locked_run(
    conn: Connection,
    settings: Settings,
    sources: Sequence[str],
    report: RunReport,
    recompute_stats: bool,
) -> None:
    load.prepare_session(conn)
    if abandoned := load.abandon_stale_runs(conn):
        log.warning("marked runs left unfinished as failed", extra={"runs": abandoned})
    report.run_id = load.start_run(conn, report.source)
    with conn.transaction():
        # Station-years that lost rows to a DELETE since the last run.
        report.station_years_recomputed += stats.recompute_stale(conn)
    run = Run(conn, settings, report)
    try:
        run.load_sources(sources, recompute_stats=recompute_stats)
    except Terminated as exc:
        # Asked to stop: what was committed is counted, the rest rolled back.
        report.abort(ExitCode.TERMINATED, str(exc))
    except BaseException as exc:
        report.abort(exit_code_of(exc), f"run interrupted: {type(exc).__name__}: {exc}")
        report.finish()
        if not conn.broken:
            load.finish_run(conn, report)
        run.progress.finish(report)
        raise
    report.finish()
    load.finish_run(conn, report)
    run.progress.finish(report)


def exit_code_of(exc: BaseException) -> ExitCode:
    """The exit code the command ends with when ``exc`` interrupts a run (see the README)."""
    if isinstance(exc, psycopg.OperationalError):
        return DatabaseUnavailable.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.INTERNAL


class Run:
    """The files of one run, in order: a first load in bulk, then one by one."""

    def __init__(self, conn: Connection, settings: Settings, report: RunReport) -> None:
        self.conn = conn
        self.settings = settings
        self.report = report
        self.run_id = report.run_id or 0
        self.progress = Progress(0, settings.log_format)
        self.loaded_checksums: dict[str, str] = {}
        # Ledger rows of files not loaded (skipped, rejected, failed), written in batches.
        self.unrecorded: list[FileResult] = []

    def load_sources(self, source_names: Sequence[str], *, recompute_stats: bool) -> None:
        try:
            files = _list(source_names, self.settings)
        except SourceUnreachable as exc:
            self.report.abort(exc.exit_code, exc.message)
            return
        self.progress = Progress(len(files), self.settings.log_format)
        empty = load.is_empty(self.conn)
        self.loaded_checksums = load.last_loaded(self.conn, [f.uri for f in files])
        try:
            pending = files
            if len(files) > 1 and empty:
                try:
                    pending = self._bulk(files)
                except load.BulkUnavailable as exc:
                    log.warning("first load merges file by file", extra={"reason": str(exc)})
            for file in pending:
                self._load_one(file)
            if recompute_stats:
                with self.conn.transaction():
                    self.report.station_years_recomputed += stats.recompute_all(self.conn)
        finally:
            self._flush()

    def _bulk(self, files: list[sources.SourceFile]) -> list[sources.SourceFile]:
        """Load what can go in one bulk transaction; return the files left for one-by-one."""
        later: list[sources.SourceFile] = []
        with load.bulk_load(self.conn, self.run_id) as bulk:
            for file in files:
                if _stop.is_set():
                    raise Terminated(
                        "stopped by a signal (SIGTERM): the first load was rolled back, "
                        "no file of it is loaded"
                    )
                result, parsed = self._prepare(file)
                if parsed is None:
                    self._done(result)
                elif bulk.accepts(parsed):
                    # Counted as loaded once the transaction has committed, not before.
                    result.status = "loaded"
                    bulk.add(parsed, result)
                else:
                    # Not observations, or a station already in the batch:
                    # merged one by one once the batch is in.
                    later.append(file)
        for result in bulk.loaded:
            self._done(result)
        self.report.station_years_recomputed += bulk.station_years
        log.debug("bulk load committed", extra={"stations": len(bulk.stations)})
        return later

    def _load_one(self, file: sources.SourceFile) -> None:
        if _stop.is_set():
            raise Terminated(
                "stopped by a signal (SIGTERM) before its next file; the files before it are loaded"
            )
        result, parsed = self._prepare(file)
        if parsed is not None:
            self._merge(parsed, result)
        else:
            self._done(result)

    def _prepare(self, file: sources.SourceFile) -> tuple[FileResult, Parsed | None]:
        """Read, skip if already loaded, parse; the parsed file only if it should load."""
        result = FileResult(
            uri=file.uri, status="failed", started_at=utcnow(), size_bytes=file.size
        )
        data = self._read(file, result)
        if data is None:
            return result, None
        try:
            parsed = formats.parse(file.uri, data)
        except UnrecognisedFile as exc:
            result.status, result.error = "rejected", exc.message
            return result, None
        result.format = parsed.format
        if parsed.table == "observation":
            result.stations = sorted(parsed.stations)
        result.rows_read = parsed.rows + parsed.lines_rejected
        result.values_rejected_qc = parsed.values_rejected_qc
        if not parsed.ok:
            result.status, result.error = "rejected", parsed.summary()
            result.rows_rejected = parsed.lines_rejected
            return result, None
        return result, parsed

    def _read(self, file: sources.SourceFile, result: FileResult) -> bytes | None:
        """The file's bytes; None when it is too large, unchanged or unreadable (see result)."""
        if file.etag is not None:
            # S3: the ETag says whether the object changed, without downloading it.
            result.checksum = sources.checksum(file, b"")
            if self.loaded_checksums.get(file.uri) == result.checksum:
                result.status = "skipped"
                return None
        limit = self.settings.ingest_max_file_bytes
        if file.size > limit:
            result.status = "rejected"
            result.error = (
                f"{file.uri}: {file.size:,} bytes is more than INGEST_MAX_FILE_BYTES "
                f"({limit:,}); a file is parsed whole in memory: split it, or raise the "
                "limit together with the job's memory"
            )
            return None
        try:
            data = file.read()
        except sources.ReadFailed as exc:
            result.error = exc.message
            return None
        result.checksum = sources.checksum(file, data)
        if self.loaded_checksums.get(file.uri) == result.checksum:
            result.status = "skipped"
            return None
        return data

    def _merge(self, parsed: Parsed, result: FileResult) -> None:
        result.status = "loaded"
        try:
            merged = load.load_file(self.conn, self.run_id, parsed, result)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            # A value the parser let through but the database refuses: the
            # file fails alone, rolled back whole.
            result.status, result.error = (
                "failed",
                f"{parsed.name}: the database refused it: {first_line(exc)}",
            )
            result.rows_inserted = result.rows_updated = 0
        else:
            self.report.station_years_recomputed += merged.station_years
        self._done(result)

    def _done(self, result: FileResult) -> None:
        result.seconds = time.perf_counter() - result.clock
        if result.status != "loaded":
            self.unrecorded.append(result)
            if len(self.unrecorded) >= _LEDGER_BATCH and not self.conn.info.transaction_status:
                self._flush()
        self.report.add(result)
        self.progress.file_done(result, self.report)

    def _flush(self) -> None:
        if self.unrecorded and not self.conn.broken:
            load.record(self.conn, self.run_id, self.unrecorded)
            self.unrecorded = []


def _list(names: Iterable[str], settings: Settings) -> list[sources.SourceFile]:
    """Every file of every source, each URI once, in the order given."""
    found: dict[str, sources.SourceFile] = {}
    for name in names:
        for file in sources.list_files(name, settings):
            found.setdefault(file.uri, file)
    return list(found.values())
