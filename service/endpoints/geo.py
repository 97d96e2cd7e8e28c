"""Great-circle geometry for the station search: distances, and the boxes that bound a circle.

The boxes let a GiST index of (longitude, latitude) find every station within
a radius; the distance then decides (see ``queries.nearest_stations``).
"""

from __future__ import annotations

import math

# The mean Earth radius (IUGG), in km.
EARTH_RADIUS_KM = 6371.0088
# Half the circumference: no two points on the sphere are further apart.
MAX_DISTANCE_KM = math.pi * EARTH_RADIUS_KM
# Widens each box by about 1 cm, so that rounding never drops a point on its edge.
_MARGIN_DEG = 1e-7

Box = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points, in km (what the SQL computes too)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def circle_boxes(lat: float, lon: float, radius_km: float) -> list[Box]:
    """One or two (across the antimeridian) boxes holding every point within ``radius_km``.

    The latitude band is exact; the longitude half-width is the largest one a
    point of the circle reaches, asin(sin(d) / cos(lat)) (Matuschek, "Finding
    points within a distance of a latitude/longitude"). A circle around a pole
    spans every longitude.
    """
    angle = radius_km / EARTH_RADIUS_KM
    lat_min = lat - math.degrees(angle) - _MARGIN_DEG
    lat_max = lat + math.degrees(angle) + _MARGIN_DEG
    if lat_min <= -90 or lat_max >= 90 or angle >= math.pi / 2:
        return [(-180.0, max(lat_min, -90.0), 180.0, min(lat_max, 90.0))]
    ratio = math.sin(angle) / math.cos(math.radians(lat))
    if ratio >= 1:
        return [(-180.0, lat_min, 180.0, lat_max)]
    half = math.degrees(math.asin(ratio)) + _MARGIN_DEG
    return split_at_antimeridian((lon - half, lat_min, lon + half, lat_max))


def split_at_antimeridian(box: Box) -> list[Box]:
    """A box whose longitudes run past ±180 as the one or two boxes it covers."""
    lon_min, lat_min, lon_max, lat_max = box
    if lon_max - lon_min >= 360:
        return [(-180.0, lat_min, 180.0, lat_max)]
    if lon_min < -180:
        return [(lon_min + 360, lat_min, 180.0, lat_max), (-180.0, lat_min, lon_max, lat_max)]
    if lon_max > 180:
        return [(lon_min, lat_min, 180.0, lat_max), (-180.0, lat_min, lon_max - 360, lat_max)]
    return [box]
