"""The ``weather-warehouse`` command: migrate, ingest, runs, stats, serve, demo.

Every subcommand lives in the package that does the work and offers two
functions: ``add_arguments(parser)`` and ``run(args, settings) -> int``. This
module parses, loads the settings once, sets up logging, and turns every
:class:`WarehouseError` into one line on stderr and its exit code.
"""

from __future__ import annotations

import argparse
import logging
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
        "stats": (stats_cli, "recompute the yearly statistics without reading any source"),
        "serve": (serve_cli, "run the HTTP API"),
        "demo": (demo, "embedded PostgreSQL + the real data set + the API, on this machine"),
    }


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="weather-warehouse",
        description="Weather Warehouse: ingest job and HTTP API over PostgreSQL.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in _commands().items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    as_json = False
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
