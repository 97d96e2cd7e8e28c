"""Unit conversion at the edge: stored tenths become the units a client asked for.

The database keeps values as the sources give them (tenths of a degree Celsius,
tenths of a millimetre). Every conversion the API makes lives here, so JSON and
CSV always agree. Temperatures and daily precipitation take few distinct
values, so each converter memoises its results: the CSV export calls them
millions of times.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum


class Units(StrEnum):
    """The unit systems a client can ask for with ``units=``."""

    metric = "metric"
    imperial = "imperial"


# Rounding of each derived figure (also stated in the OpenAPI descriptions).
TEMP_C_PLACES = 1
TEMP_F_PLACES = 2
PRECIP_MM_PLACES = 1
PRECIP_IN_PLACES = 3
# Yearly averages keep 6 places: analysts compare them with their own exact
# computations (e.g. USC00110072 1985: 15.334795 degC). Totals of tenths of a
# millimetre are exact at 0.01 cm.
STATS_TEMP_PLACES = 6
STATS_CM_PLACES = 2
STATS_IN_PLACES = 3
KT_TO_THOUSAND_BUSHELS = 1_000 / 25.401_168  # 1 bushel of shelled corn = 56 lb = 25.4 kg
KM_PER_MILE = 1.609344
DISTANCE_PLACES = 3


def _memo(convert: Callable[[int], float]) -> Callable[[int | None], float | None]:
    cache: dict[int, float] = {}

    def cached(value: int | None) -> float | None:
        if value is None:
            return None
        result = cache.get(value)
        if result is None:
            result = cache[value] = convert(value)
        return result

    return cached


tenths_c_to_c = _memo(lambda tenths: round(tenths / 10, TEMP_C_PLACES))
tenths_c_to_f = _memo(lambda tenths: round(tenths * 0.18 + 32, TEMP_F_PLACES))
tenths_mm_to_mm = _memo(lambda tenths: round(tenths / 10, PRECIP_MM_PLACES))
tenths_mm_to_in = _memo(lambda tenths: round(tenths / 254, PRECIP_IN_PLACES))


def c_to_c(value: Decimal | None) -> float | None:
    """A statistic in degrees Celsius, rounded for display."""
    return None if value is None else round(float(value), STATS_TEMP_PLACES)


def c_to_f(value: Decimal | None) -> float | None:
    """A statistic in degrees Celsius, as degrees Fahrenheit."""
    return None if value is None else round(float(value * Decimal("1.8") + 32), STATS_TEMP_PLACES)


def cm_to_cm(value: Decimal | None) -> float | None:
    """A precipitation total in centimetres, rounded for display."""
    return None if value is None else round(float(value), STATS_CM_PLACES)


def cm_to_in(value: Decimal | None) -> float | None:
    """A precipitation total in centimetres, as inches."""
    return None if value is None else round(float(value / Decimal("2.54")), STATS_IN_PLACES)


def m_to_ft(value: float | None) -> float | None:
    """An elevation in metres, as feet."""
    return None if value is None else round(value / 0.3048, 1)


def kt_to_thousand_bushels(value: int) -> int:
    """Corn grain in thousands of metric tons, as thousands of bushels (56 lb)."""
    return round(value * KT_TO_THOUSAND_BUSHELS)


def km_to_km(value: float) -> float:
    """A distance in km, rounded for display."""
    return round(value, DISTANCE_PLACES)


def km_to_mi(value: float) -> float:
    """A distance in km, as miles."""
    return round(value / KM_PER_MILE, DISTANCE_PLACES)


# Climate indices (docs/indices.md): stored exact in degC and mm, served as
# they are in metric (they are compared with xclim to 1e-6), and in imperial
# to 6 places. Differences of temperature (DTR, degree days) scale only.
INDEX_PLACES = 6


def index_value(value: Decimal | None) -> float | None:
    """An index in degC, mm or days, as it is stored."""
    return None if value is None else float(value)


def index_c_to_f(value: Decimal | None) -> float | None:
    """A temperature index in degC, as degrees Fahrenheit."""
    return None if value is None else round(float(value * Decimal("1.8") + 32), INDEX_PLACES)


def index_delta_c_to_f(value: Decimal | None) -> float | None:
    """A temperature difference or degree days in degC, in Fahrenheit degrees."""
    return None if value is None else round(float(value * Decimal("1.8")), INDEX_PLACES)


def index_mm_to_in(value: Decimal | None) -> float | None:
    """A precipitation index in mm (or mm/day), as inches (per day)."""
    return None if value is None else round(float(value / Decimal("25.4")), INDEX_PLACES)
