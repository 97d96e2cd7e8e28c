"""The Pushgateway harness itself: what is pushed can be read back, and a reset forgets it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from tests.harness import pushgateway


def test_pushed_gauge_reads_back_by_job_and_labels(pushgateway_url: str) -> None:
    registry = CollectorRegistry()
    Gauge("demo_rows", "rows", ["outcome"], registry=registry).labels("inserted").set(3)
    push_to_gateway(pushgateway_url, job="harness_check", registry=registry)
    assert (
        pushgateway.values(pushgateway_url, "harness_check")['demo_rows{outcome="inserted"}'] == 3
    )


def test_each_test_starts_with_an_empty_pushgateway(pushgateway_url: str) -> None:
    assert pushgateway.groups(pushgateway_url) == []
