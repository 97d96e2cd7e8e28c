"""The ``weather-warehouse`` command: migrate, ingest, runs, stats, serve, demo.

Every subcommand lives in the package that does the work and offers two
functions: ``add_arguments(parser)`` and ``run(args, settings) -> int``. This
module parses, loads the settings once, sets up logging, and turns every
:class:`WarehouseError` into one line on stderr and its exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from warehouse import logs
from warehouse.errors import ExitCode, WarehouseError, first_line
from warehouse.settings import Settings, load_settings

log = logging.getLogger("warehouse")

Handler = Callable[[argparse.Namespace, Settings], int]


def _commands() -> dict[str, tuple[ModuleType, str]]:
    # Imported here so that `weather-warehouse migrate` does not load the web
    # stack, and each command module stays light at import time.
    from command import demo
    from ingest_job import cli as ingest_cli
    from ingest_job import runs_cli, stats_cli
    from service import cli as serve_cli
    from warehouse import migrate_cli

    return {
        "migrate": (migrate_cli, "apply database migrations (safe to run concurrently)"),
        "ingest": (ingest_cli, "load station, yield and GHCN-Daily files into the database"),
        "runs": (runs_cli, "list recent ingest runs, or show one run's files (runs show ID)"),
        "stats": (stats_cli, "recompute the yearly and monthly statistics from the database"),
        "serve": (serve_cli, "run the HTTP API"),
        "demo": (demo, "embedded PostgreSQL + the real data set + the API, on this machine"),
    }


# What each command reads from the environment beyond the database and logs
# (docs/configuration in the README lists every setting).
_ENVIRONMENT = {
    "migrate": "",
    "ingest": "  INGEST_SHARDS, JOB_COMPLETION_INDEX  split the files among parallel jobs\n"
    "  AWS_* (and AWS_ENDPOINT_URL)  for s3:// sources\n"
    "  PUSHGATEWAY_URL, CLOUDWATCH_NAMESPACE, TRACING_ENABLED  where the run reports\n",
    "runs": "",
    "stats": "",
    "serve": "  HOST, PORT  where to listen (127.0.0.1:8000)\n"
    "  CURSOR_SECRET  signs page cursors (random per process if unset)\n"
    "  PUBLIC_URL, ALLOWED_HOSTS, UPLOAD_TOKEN, RATE_LIMIT_REQUESTS, TRACING_ENABLED, ...\n",
    "demo": "  PORT  where the API listens (8000); WAREHOUSE_DATA_DIR  its database (.data/)\n",
}
_MEANINGS = {
    ExitCode.OK: "done",
    ExitCode.FILES_REJECTED: "some files were rejected (the others loaded)",
    ExitCode.CONFIG: "bad usage, option value or configuration",
    ExitCode.LOCK_HELD: "another ingest run holds the lock",
    ExitCode.SOURCE_UNREACHABLE: "the source or the database cannot be reached",
    ExitCode.MIGRATION_FAILED: "a migration failed",
    ExitCode.INTERNAL: "internal error (a bug: see the log)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitCode.TERMINATED: "terminated (SIGTERM)",
}
_EXIT_CODES = "\n".join(f"  {int(code):>3}  {_MEANINGS[code]}" for code in ExitCode)


def _epilog(name: str) -> str:
    database = (
        ""
        if name == "demo"
        else "  DATABASE_URL  the PostgreSQL to use (or PGHOST, PGPORT, PGDATABASE, PGUSER,\n"
        "                PGPASSWORD or DATABASE_PASSWORD_FILE)\n"
    )
    return (
        "environment:\n"
        + database
        + _ENVIRONMENT[name]
        + "  LOG_FORMAT  auto (text at a terminal, else JSON lines), json or text;"
        " LOG_LEVEL  INFO\n\n" + "exit codes:\n" + _EXIT_CODES
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="weather-warehouse",
        description="Weather Warehouse: ingest job and HTTP API over PostgreSQL.",
        epilog="Each command's --help names the environment it reads and its exit codes.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in _commands().items():
        command = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_epilog(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    # Until the settings load, LOG_FORMAT as given: a bad setting speaks like the rest.
    given = os.environ.get("LOG_FORMAT", "auto").lower()
    given = given if given in ("auto", "json", "text") else "auto"
    logs.configure(given)
    as_json = logs.wants_json(given, sys.stderr)
    try:
        settings = load_settings()
        logs.configure(settings.log_format, settings.log_level)
        as_json = logs.wants_json(settings.log_format, sys.stderr)
        return int(handler(args, settings))
    except WarehouseError as exc:
        return _failed(args.command, exc.message, exc.exit_code, as_json)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        # A bug: the traceback goes with the line (inside it, in JSON mode).
        message = f"internal error: {first_line(exc)}"
        return _failed(args.command, message, ExitCode.INTERNAL, as_json, details=True)


def _failed(
    command: str, message: str, code: ExitCode, as_json: bool, *, details: bool = False
) -> int:
    """Say why the command failed in one line (a JSON log line in JSON mode); its exit code."""
    text = logs.redact(message)
    if as_json:
        log.error(text, exc_info=details, extra={"command": command, "exit_code": int(code)})
    else:
        if details:
            log.error("traceback of the internal error", exc_info=True)
        print(f"weather-warehouse {command}: error: {text}", file=sys.stderr)
    return int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

__all__ = ["ExitCode", "build_parser", "main"]
