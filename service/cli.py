"""Placeholder until its issue lands: the command exists but refuses to run."""

from __future__ import annotations

import argparse

from warehouse.errors import ConfigError
from warehouse.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments yet."""


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Not built yet."""
    raise ConfigError(f"{args.command} is not available in this build yet")
