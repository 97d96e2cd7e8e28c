"""One ingest run: lock, list sources, load each file atomically, statistics, report.

The flow is source -> parse -> load -> statistics; this module only decides
what happens to each file and keeps the books.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence

import psycopg

from ingest_job import bulk, formats, ledger, load, metrics, shards, stats
from ingest_job import sources as sources_module
from ingest_job.formats import Parsed, UnrecognisedFile
from ingest_job.formats.raw import raw_file
from ingest_job.progress import Progress
from ingest_job.report import FileResult, RunReport
from ingest_job.shards import WHOLE, ForeignStations, Shard
from warehouse import db, tracing
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


@tracing.traced("ingest.run")
def ingest(
    settings: Settings,
    sources: Sequence[str],
    *,
    recompute_stats: bool = False,
    shard: Shard = WHOLE,
    reload: bool = False,
) -> RunReport:
    """Run the ingest job over ``sources`` (folders, files, ``s3://bucket/prefix``).

    ``shard`` takes only its share of the files (by station); ``reload``
    loads every file even if the ledger has it, unchanged or rejected.
    Returns the run's report; its ``exit_code`` says how it went. Raises
    :class:`warehouse.errors.DatabaseUnavailable` when the database cannot
    be reached, and :class:`ConfigError` without sources.
    """
    if not sources:
        raise ConfigError("no source given: pass --source FOLDER|FILE|s3://bucket/prefix")
    report = RunReport(source=" ".join(sources), shard=None if shard.whole else str(shard))
    _stop.clear()
    with db.connect(settings, autocommit=True, application_name="weather-warehouse-ingest") as conn:
        if not shards.try_lock(conn, shard):
            what = "another ingest run holds the lock" if shard.whole else (
                f"another ingest run holds the lock of shard {shard.index}, the whole run or"
                " another shard count"
            )  # fmt: skip
            report.abort(
                ExitCode.LOCK_HELD,
                f"{what} ({shards.lock_holder(conn, shard)}); this run did nothing",
            )
            report.finish()
            log.warning(report.error, extra=report.summary())
            return report
        try:
            _locked_run(
                conn, settings, sources, report,
                recompute_stats=recompute_stats, shard=shard, reload=reload,
            )  # fmt: skip
        finally:
            if not conn.broken:
                shards.unlock(conn, shard)
    tracing.annotate(**{f"ingest.{key}": value for key, value in report.summary().items()})
    metrics.publish(settings, report)
    return report


def check(settings: Settings, sources: Sequence[str], *, shard: Shard = WHOLE) -> RunReport:
    """``ingest --dry-run``: read and parse every file as a run would; write nothing anywhere.

    No database is needed. Each file is reported (checked, rejected with its
    bad lines, or failed); the exit code is that of a run over the same files.
    """
    if not sources:
        raise ConfigError("no source given: pass --source FOLDER|FILE|s3://bucket/prefix")
    report = RunReport(source=" ".join(sources), shard=None if shard.whole else str(shard))
    try:
        files = [f for f in _list(sources, settings) if _in_shard(f, shard)]
    except SourceUnreachable as exc:
        report.abort(exc.exit_code, exc.message)
        report.finish()
        log.warning(report.error, extra=report.summary())
        return report
    progress = Progress(len(files), settings.log_format)
    for file in files:
        result = FileResult.failed(file.uri, file.size)
        if _size_ok(file, result, settings):
            try:
                parser = _open(file, result)
                if parser is not None:
                    parsed, chunks = parser
                    for _ in formats.payloads(parsed, chunks):
                        pass
                    result.count(parsed.result)
                    if parsed.result.ok:
                        result.status = "checked"
                    else:
                        result.status, result.error = "rejected", parsed.result.summary()
            except sources_module.ReadFailed as exc:
                result.status, result.error = "failed", exc.message
        result.seconds = time.perf_counter() - result.clock
        report.add(result)
        progress.file_done(result, report)
    report.finish()
    progress.finish(report)
    return report


def _locked_run(
    conn: Connection,
    settings: Settings,
    sources: Sequence[str],
    report: RunReport,
    *,
    recompute_stats: bool,
    shard: Shard,
    reload: bool,
) -> None:
    load.prepare_session(conn)
    if abandoned := ledger.abandon_stale_runs(conn, shard):
        log.warning("marked runs left unfinished as failed", extra={"runs": abandoned})
    report.run_id = ledger.start_run(conn, report.source, shard)
    with conn.transaction():
        # Station-years that lost rows to a DELETE since the last run.
        report.station_years_recomputed += stats.recompute_stale(conn)
    run = Run(conn, settings, report, shard=shard, reload=reload)
    try:
        run.load_sources(sources, recompute_stats=recompute_stats)
        if shard.index == 0 and not report.error:
            run.prune_audit()
    except Terminated as exc:
        # Asked to stop: what was committed is counted, the rest rolled back.
        report.abort(ExitCode.TERMINATED, str(exc))
    except BaseException as exc:
        report.abort(exit_code_of(exc), f"run interrupted: {type(exc).__name__}: {exc}")
        report.finish()
        if not conn.broken:
            ledger.finish_run(conn, report)
        run.progress.finish(report)
        raise
    report.finish()
    ledger.finish_run(conn, report)
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

    def __init__(
        self,
        conn: Connection,
        settings: Settings,
        report: RunReport,
        *,
        shard: Shard = WHOLE,
        reload: bool = False,
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.report = report
        self.shard = shard
        self.reload = reload
        self.run_id = report.run_id or 0
        self.progress = Progress(0, settings.log_format)
        self.known: dict[str, ledger.Known] = {}
        # Ledger rows of files not loaded (skipped, rejected, failed), written in batches.
        self.unrecorded: list[FileResult] = []

    def load_sources(self, source_names: Sequence[str], *, recompute_stats: bool) -> None:
        try:
            files = [f for f in _list(source_names, self.settings) if _in_shard(f, self.shard)]
        except SourceUnreachable as exc:
            self.report.abort(exc.exit_code, exc.message)
            return
        self.progress = Progress(len(files), self.settings.log_format)
        empty = load.is_empty(self.conn)
        if not self.reload:
            self.known = ledger.known_files(self.conn, [f.uri for f in files])
        try:
            pending = files
            # A single GHCN-Daily CSV or .dly is a first load worth a bulk one too (it is
            # parsed in PostgreSQL straight into the table, whatever its size).
            if empty and (len(files) > 1 or _parsed_in_database(files[0])):
                try:
                    pending = self._bulk(files)
                except bulk.BulkUnavailable as exc:
                    log.warning("first load merges file by file", extra={"reason": str(exc)})
            for file in pending:
                self._load_one(file)
            if recompute_stats:
                self._recompute_stats()
        finally:
            self._flush()

    def _recompute_stats(self) -> None:
        with self.conn.transaction():
            if self.shard.whole:
                self.report.station_years_recomputed += stats.recompute_all(self.conn)
                return
            self.report.station_years_recomputed += stats.recompute_owned(
                self.conn, self.shard.owns
            )

    def prune_audit(self) -> None:
        """Delete audit rows past ``INGEST_AUDIT_RETENTION_DAYS`` (shard 0 or a whole run)."""
        days = self.settings.ingest_audit_retention_days
        if days > 0:
            try:
                deleted = ledger.prune_audit(self.conn, days)
            except psycopg.errors.InsufficientPrivilege:
                log.warning("audit retention skipped: the ingest user may not delete ingest_file")
                return
            if deleted:
                log.info("deleted old per-file audit rows", extra={"rows": deleted, "days": days})

    @tracing.traced("ingest.bulk_load")
    def _bulk(self, files: list[sources_module.SourceFile]) -> list[sources_module.SourceFile]:
        """Load what can go in one bulk transaction; return the files left for one-by-one."""
        later: list[sources_module.SourceFile] = []
        with bulk.bulk_load(self.conn, self.run_id, keyed=not self.shard.whole) as batch:
            for file in files:
                if _stop.is_set():
                    raise Terminated(
                        "stopped by a signal (SIGTERM): the first load was rolled back, "
                        "no file of it is loaded"
                    )
                if _parsed_in_database(file):
                    if not self._bulk_raw(batch, file):
                        later.append(file)  # not vouched for: its parser reads it after
                    continue
                if file.size > self.settings.ingest_buffer_bytes:
                    later.append(file)  # too big to hold: streamed through staging
                    continue
                result, parsed = self._prepare(file)
                if parsed is None:
                    self._done(result)
                elif batch.accepts(parsed):
                    # Counted as loaded once the transaction has committed, not before.
                    result.status = "loaded"
                    batch.add(parsed, result)
                else:
                    # Not observations, or a station already in the batch:
                    # merged one by one once the batch is in.
                    later.append(file)
        for result in batch.loaded:
            self._done(result)
        self.report.station_years_recomputed += batch.station_years
        log.debug("bulk load committed", extra={"stations": len(batch.stations)})
        return later

    @tracing.traced("ingest.file")
    def _bulk_raw(self, batch: bulk.BulkLoad, file: sources_module.SourceFile) -> bool:
        """A GHCN-Daily CSV or .dly of a first load, parsed by PostgreSQL; False: load it after."""
        tracing.annotate(**{"ingest.file.uri": file.uri, "ingest.file.bytes": file.size})
        result = FileResult.failed(file.uri, file.size)
        try:
            if self._settled_unread(file, result):
                self._done(result)
                return True
            result.checksum = file.checksum()
            if self._settled(file, result):
                self._done(result)
                return True
            opened = _open(file, result)
            raw = raw_file(opened[0], file.size) if opened is not None else None
            if opened is None or raw is None:
                return False
            result.status = "loaded"  # counted once the transaction has committed
            return batch.add_raw(raw, opened[1], result)
        except sources_module.ReadFailed as exc:
            result.not_loaded("failed", exc.message)
            self._done(result)
            return True

    @tracing.traced("ingest.file")
    def _load_one(self, file: sources_module.SourceFile) -> None:
        tracing.annotate(**{"ingest.file.uri": file.uri, "ingest.file.bytes": file.size})
        if _stop.is_set():
            raise Terminated(
                "stopped by a signal (SIGTERM) before its next file; the files before it are loaded"
            )
        result = FileResult.failed(file.uri, file.size)
        if not self._settled_unread(file, result):
            try:
                result.checksum = file.checksum()  # S3: the ETag; local: one pass of SHA-256
                if not self._settled(file, result):
                    opened = _open(file, result)
                    if opened is not None:
                        self._stream(file, *opened, result)
            except sources_module.ReadFailed as exc:
                result.not_loaded("failed", exc.message)
        self._done(result)

    def _stream(
        self,
        file: sources_module.SourceFile,
        parser: formats.LineParser,
        chunks: Iterator[bytes],
        result: FileResult,
    ) -> None:
        """Parse and load one file in one transaction, block by block.

        GHCN-Daily CSV and .dly files are parsed by PostgreSQL; one it does not vouch
        for is read again by its Python parser, which names the bad lines.
        """
        parsed = parser.result
        result.status = "loaded"
        try:
            merged = None
            if (raw := raw_file(parser, file.size)) is not None:
                merged = load.stream_raw(
                    self.conn, self.run_id, parsed, raw, chunks, result=result, shard=self.shard
                )
                if merged is None and (opened := _open(file, result)) is not None:
                    log.debug("parsed line by line (not vouched for by the database)",
                              extra={"uri": file.uri})  # fmt: skip
                    parser, chunks = opened
                    parsed = parser.result
            if merged is None:
                merged = load.stream_file(
                    self.conn,
                    self.run_id,
                    parsed,
                    formats.payloads(parser, chunks),
                    result,
                    shard=self.shard,
                )
        except ForeignStations as exc:
            result.not_loaded("rejected", exc.message)
            return
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            # A value the parser let through but the database refuses: the
            # file fails alone, rolled back whole.
            refused = f"{parsed.name}: the database refused it: {first_line(exc)}"
            result.not_loaded("failed", refused)
            return
        result.count(parsed)
        if merged is None:
            result.status, result.error = "rejected", parsed.summary()
            result.rows_rejected = parsed.lines_rejected
        else:
            self.report.station_years_recomputed += merged.station_years

    @tracing.traced("ingest.file")
    def _prepare(self, file: sources_module.SourceFile) -> tuple[FileResult, Parsed | None]:
        """A small file for the bulk load: read whole, skip if already loaded, parse."""
        tracing.annotate(**{"ingest.file.uri": file.uri, "ingest.file.bytes": file.size})
        result = FileResult.failed(file.uri, file.size)
        if self._settled_unread(file, result):
            return result, None
        try:
            data = file.read()
        except sources_module.ReadFailed as exc:
            result.error = exc.message
            return result, None
        result.checksum = sources_module.checksum(file, data)
        if self._settled(file, result):
            return result, None
        try:
            parsed = formats.parse(file.uri, data)
        except UnrecognisedFile as exc:
            result.status, result.error = "rejected", exc.message
            return result, None
        result.count(parsed)
        if problem := self._refusal(parsed):
            result.status, result.error = "rejected", problem
            result.rows_rejected = parsed.lines_rejected
            return result, None
        return result, parsed

    def _refusal(self, parsed: Parsed) -> str | None:
        """Why a parsed file must not load: its bad lines, or other shards' stations."""
        if not parsed.ok:
            return parsed.summary()
        if parsed.table == "observation" and (others := self.shard.foreign(parsed.stations)):
            return ForeignStations(parsed.name, others).message
        return None

    def _settled_unread(self, file: sources_module.SourceFile, result: FileResult) -> bool:
        """Settled without reading a byte: too large, or an S3 object whose ETag is known."""
        if not _size_ok(file, result, self.settings):
            # Too large is decided by the size and the limit alone: the same size
            # under the same limit as last time is a known-bad file, not a new one.
            result.checksum = f"too-large:{file.size}:{self.settings.ingest_max_file_bytes}"
            self._settled(file, result)
            return True
        if file.etag is not None:
            result.checksum = f"etag:{file.etag}"
            return self._settled(file, result)
        return False

    def _settled(self, file: sources_module.SourceFile, result: FileResult) -> bool:
        """True when the ledger settles the file by its checksum: unchanged, or still rejected."""
        known = self.known.get(file.uri)
        if known is None or result.checksum is None:
            return False
        if known.loaded_checksum == result.checksum:
            result.status = "skipped"
            return True
        if known.last_status == "rejected" and known.last_checksum == result.checksum:
            reason = (known.last_error or "").splitlines()[0] if known.last_error else "rejected"
            result.status, result.still_rejected = "rejected", True
            result.error = (
                f"{file.uri}: still rejected, unchanged since run {known.last_run_id} "
                f"(not parsed again; fix or replace the file): {reason}"
            )
            return True
        return False

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
            ledger.record(self.conn, self.run_id, self.unrecorded)
            self.unrecorded = []


def _size_ok(file: sources_module.SourceFile, result: FileResult, settings: Settings) -> bool:
    limit = settings.ingest_max_file_bytes
    if file.size <= limit:
        return True
    result.status = "rejected"
    result.error = (
        f"{file.uri}: {file.size:,} bytes is more than INGEST_MAX_FILE_BYTES ({limit:,}); "
        "raise the limit if the file is genuine (memory does not grow with the file; "
        "time does)"
    )
    return False


def _open(
    file: sources_module.SourceFile, result: FileResult
) -> tuple[formats.LineParser, Iterator[bytes]] | None:
    """The file's parser and its chunks (the first one read to recognise it); None: unrecognised."""
    chunks = file.chunks()
    first = next(chunks, b"")
    try:
        parser = formats.parser(file.uri, first)
    except UnrecognisedFile as exc:
        chunks.close()  # type: ignore[attr-defined]  # a generator: closes the file
        result.status, result.error = "rejected", exc.message
        return None
    result.format = parser.result.format
    return parser, itertools.chain([first], chunks)


def _parsed_in_database(file: sources_module.SourceFile) -> bool:
    """Whether the file's name makes it a GHCN-Daily CSV or ``.dly`` (formats/raw.py)."""
    return file.uri.rpartition(".")[2].lower() in ("csv", "dly")


def _in_shard(file: sources_module.SourceFile, shard: Shard) -> bool:
    """Whether ``file`` is this shard's: by the station it is named for; others go to shard 0.

    Its rows must be its station's too: a file holding other shards' stations
    is rejected when parsed (shards.ForeignStations).
    """
    if shard.whole:
        return True
    station = formats.station_of(file.uri)
    if station is None:
        return shard.index == 0
    return shard.owns(station)


def _list(names: Iterable[str], settings: Settings) -> list[sources_module.SourceFile]:
    """Every file of every source, each URI once, in the order given."""
    found: dict[str, sources_module.SourceFile] = {}
    for name in names:
        for file in sources_module.list_files(name, settings):
            found.setdefault(file.uri, file)
    return list(found.values())
