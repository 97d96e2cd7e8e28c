"""The sampler of new traces: a per-process token bucket (X-Ray's reservoir) plus a ratio.

The clock and the draw are injected: time passes by assignment, not by sleeping.
"""

from __future__ import annotations

import threading

from warehouse.sampling import RootSampler, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def takes(bucket: TokenBucket, attempts: int) -> int:
    return sum(bucket.take() for _ in range(attempts))


def test_a_fresh_bucket_grants_one_seconds_worth_at_once() -> None:
    assert takes(TokenBucket(3, clock=Clock()), 10) == 3


def test_a_bucket_under_one_a_second_still_grants_a_first_token() -> None:
    assert takes(TokenBucket(0.1, clock=Clock()), 10) == 1


def test_an_empty_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(2, clock=clock)
    takes(bucket, 10)
    clock.now += 0.5
    assert takes(bucket, 10) == 1


def test_a_long_pause_refills_no_more_than_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(2, clock=clock)
    takes(bucket, 10)
    clock.now += 3600
    assert takes(bucket, 10) == 2


def test_tokens_accrue_across_fractions_of_a_token() -> None:
    clock = Clock()
    bucket = TokenBucket(1, clock=clock)
    takes(bucket, 1)
    granted = 0
    for _ in range(10):
        clock.now += 0.25
        granted += takes(bucket, 1)
    assert granted == 2


def test_a_rate_of_zero_grants_nothing() -> None:
    assert takes(TokenBucket(0, clock=Clock()), 10) == 0


def test_threads_taking_at_once_share_the_tokens_without_overdrawing() -> None:
    bucket = TokenBucket(1000, clock=Clock())  # frozen clock: exactly 1000 tokens in all
    granted: list[int] = []
    workers = [
        threading.Thread(target=lambda: granted.append(takes(bucket, 500))) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(granted) == 1000


def test_the_default_sampler_keeps_one_new_trace_a_second_at_any_traffic() -> None:
    clock = Clock()
    sampler = RootSampler(1, 0, clock=clock)
    kept = 0
    for _ in range(10):  # ten seconds of 1,000 requests a second
        kept += sum(sampler() for _ in range(1000))
        clock.now += 1
    assert kept == 10


def test_beyond_the_reservoir_the_ratio_decides() -> None:
    draws = iter([0.05, 0.5, 0.09, 0.95])
    sampler = RootSampler(1, 0.1, clock=Clock(), draw=lambda: next(draws))
    assert [sampler() for _ in range(5)] == [True, True, False, True, False]


def test_the_reservoir_is_spent_before_the_ratio_is_drawn() -> None:
    def draw() -> float:
        raise AssertionError("drawn although a token was there")

    assert RootSampler(1, 0.5, clock=Clock(), draw=draw)()


def test_with_no_reservoir_and_no_ratio_nothing_new_is_traced() -> None:
    assert not any(RootSampler(0, 0, clock=Clock())() for _ in range(100))
