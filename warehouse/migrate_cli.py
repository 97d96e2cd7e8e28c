"""``weather-warehouse migrate``: bring the database schema up to date."""

from __future__ import annotations

import argparse
import logging

from warehouse import db, migrate
from warehouse.settings import Settings

log = logging.getLogger("warehouse.migrate")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``migrate`` takes no arguments: the database comes from the settings."""
    parser.add_argument(
        "--list", action="store_true", help="list the migrations the package ships and exit"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Apply pending migrations; exit 0 when the schema is current."""
    if args.list:
        for migration in migrate.available():
            print(f"{migration.version:04d}_{migration.name}.sql  {migration.checksum[:12]}")
        return 0
    with db.connect(
        settings, autocommit=True, application_name="weather-warehouse-migrate"
    ) as conn:
        newly = migrate.migrate(conn)
        version = max(migrate.applied(conn), default=0)
    log.info(
        "schema is current",
        extra={"schema_version": version, "applied_now": [m.version for m in newly]},
    )
    return 0
