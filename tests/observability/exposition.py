"""What the running system exposes: metric names and their label names."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def samples(url: str, *, job: str | None = None, families: bool = False) -> dict[str, set[str]]:
    """Sample name -> label names, from the text exposition at ``url``.

    With ``families``, family names too (``..._duration_seconds`` for its
    ``_bucket`` samples, a counter without ``_total``): the names an
    OpenTelemetry collector gives the metrics. With ``job``, only samples
    labelled with it (a Pushgateway holds every pushed group).
    """
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if job is not None and sample.labels.get("job") != job:
                continue
            found.setdefault(sample.name, set()).update(sample.labels)
            if families:
                found.setdefault(family.name, set()).update(sample.labels)
    return found
