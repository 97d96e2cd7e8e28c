"""What the data tables hold, as one comparable digest (same input, same digest)."""

from __future__ import annotations

from tests.harness.postgres import rows

_DIGESTS = {
    "observation": ("station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm",
                    "station_id, obs_date"),
    "weather_stats": ("station_id, year, avg_max_temp_c, avg_min_temp_c, total_precip_cm, "
                      "max_temp_days, min_temp_days, precip_days", "station_id, year"),
    "monthly_stats": ("station_id, year, month, avg_max_temp_c, avg_min_temp_c, total_precip_cm, "
                      "max_temp_days, min_temp_days, precip_days", "station_id, year, month"),
    "station": ("station_id, name, first_date, last_date, observation_count", "station_id"),
    "crop_yield": ("year, corn_yield_kt", "year"),
}  # fmt: skip


def table_digest(url: str) -> dict[str, tuple[object, ...]]:
    """The content of every data table (md5 of the rows in key order, and the count)."""
    digest = {}
    for table, (columns, order) in _DIGESTS.items():
        aggregate = f"string_agg(({columns})::text, '|' ORDER BY {order})"
        query = f"SELECT md5({aggregate}), count(*) FROM {table}"
        digest[table] = rows(url, query)[0]
    return digest
