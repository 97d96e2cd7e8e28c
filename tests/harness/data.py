"""The real data set for tests and benchmarks, from the repository itself.

``real_data()`` is the folder holding ``wx_data/``, ``yld_data/``, ``ghcnd/``
and ``stations/``: the archives in ``data/`` unpacked once into ``.cache/`` by
:func:`command.real_data.unpacked` (checked byte for byte against
``data/SHA256SUMS``). It never skips: the data is part of the checkout, so a
missing or damaged archive is a failure.
"""

from __future__ import annotations

from pathlib import Path

from command import real_data as shipped

REPO = Path(__file__).resolve().parent.parent.parent
CACHE = REPO / ".cache" / "real-data"


def real_data() -> Path:
    """The folder holding ``wx_data/``, ``yld_data/``, ``ghcnd/`` and ``stations/``."""
    return shipped.unpacked(CACHE)
