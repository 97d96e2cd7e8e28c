"""The whole real data set (1.73 M rows): marked slow, a few seconds each."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingest_job.run import ingest
from tests.harness.postgres import rows
from warehouse.errors import ExitCode
from warehouse.settings import Settings

pytestmark = pytest.mark.slow


def test_full_load_then_rerun_changes_nothing(settings: Settings, real_data: Path) -> None:
    sources = [str(real_data / "wx_data"), str(real_data / "yld_data")]
    first = ingest(settings, sources)
    assert first.exit_code == ExitCode.OK
    assert (first.files_loaded, first.rows_inserted) == (168, 1_729_957 + 30)
    url = settings.database_url.get_secret_value()  # type: ignore[union-attr]
    assert rows(
        url,
        """SELECT count(*), sum(observation_count), min(first_date)::text, max(last_date)::text
           FROM station""",
    ) == [(167, Decimal(1_729_957), "1985-01-01", "2014-12-31")]
    assert rows(
        url,
        """SELECT avg_max_temp_c, avg_min_temp_c, total_precip_cm FROM weather_stats
           WHERE station_id = 'USC00110072' AND year = 1985""",
    ) == [(Decimal("15.334795"), Decimal("4.326446"), Decimal("78.01"))]

    again = ingest(settings, sources)
    assert (again.files_skipped, again.rows_inserted, again.rows_updated) == (168, 0, 0)
