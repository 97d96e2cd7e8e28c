"""Content negotiation: JSON, CSV or NDJSON from ``format=`` or the ``Accept`` header; else 406."""

from __future__ import annotations

from service.params import Format
from service.problems import ApiProblem

JSON = "application/json"
CSV = "text/csv"
NDJSON = "application/x-ndjson"
_MEDIA = {Format.json: JSON, Format.csv: CSV, Format.ndjson: NDJSON}


def choose(accept: str | None, explicit: Format | None, offered: tuple[Format, ...]) -> Format:
    """The representation to send; ``format=`` wins over ``Accept``.

    Media ranges are weighed by their ``q``; among equals the server's order
    (JSON first) decides. Nothing acceptable is a 406 naming what is offered.
    """
    if explicit is not None:
        return explicit
    if not accept or not accept.strip():
        return offered[0]
    best: tuple[float, int] | None = None
    chosen: Format | None = None
    for position, fmt in enumerate(offered):
        q = quality(accept, _MEDIA[fmt])
        if q > 0 and (best is None or (q, -position) > best):
            best, chosen = (q, -position), fmt
    if chosen is None:
        names = ", ".join(_MEDIA[f] for f in offered)
        raise ApiProblem(406, f"cannot produce any type in Accept: {accept!r}; offered: {names}")
    return chosen


def quality(accept: str, media_type: str) -> float:
    """The q the ``Accept`` header gives ``media_type`` (most specific range wins)."""
    kind = media_type.split("/", maxsplit=1)[0]
    best_specificity, found = -1, 0.0
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        media_range = parts[0].lower()
        if media_range == media_type:
            specificity = 2
        elif media_range == f"{kind}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, found = specificity, _q(parts[1:])
    return found


def _q(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0
