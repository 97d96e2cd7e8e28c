"""CORS for browser clients and the per-client rate limit, through the real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError

from service.middleware.ratelimit import Buckets, Policy
from tests.api.live import LiveServer, serving
from tests.harness.waiting import wait_for
from warehouse.settings import Settings

ORIGIN = "https://dashboards.example.org"
PAGE = "/api/yield?limit=5"


@pytest.fixture(scope="module")
def browser_api(loaded_url: str) -> Iterator[LiveServer]:
    with serving(loaded_url, {"CORS_ALLOW_ORIGINS": f"{ORIGIN}, http://localhost:3000"}) as s:
        yield s


@pytest.fixture
def limited_api(loaded_url: str) -> Iterator[LiveServer]:
    env = {
        "RATE_LIMIT_REQUESTS": "3",
        "RATE_LIMIT_WINDOW_S": "3600",
        "RATE_LIMIT_KEY_HEADER": "X-Api-Key",
        "CORS_ALLOW_ORIGINS": ORIGIN,
    }
    with serving(loaded_url, env) as server:
        yield server


def preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(
        url + PAGE,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )


def test_a_preflight_from_an_allowed_origin_is_answered(browser_api: LiveServer) -> None:
    response = preflight(browser_api.url, ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "GET" in response.headers["access-control-allow-methods"]
    assert "if-none-match" in response.headers["access-control-allow-headers"].lower()


def test_a_preflight_from_another_origin_is_refused(browser_api: LiveServer) -> None:
    response = preflight(browser_api.url, "https://elsewhere.example.com")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_a_browser_may_read_the_link_etag_and_rate_limit_headers(browser_api: LiveServer) -> None:
    response = httpx.get(browser_api.url + PAGE, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = response.headers["access-control-expose-headers"].lower().replace(" ", "").split(",")
    assert {"link", "etag", "ratelimit", "ratelimit-policy", "retry-after"} <= set(exposed)
    assert "origin" in response.headers["vary"].lower()


def test_no_origin_is_allowed_by_default(live: LiveServer) -> None:
    assert "access-control-allow-origin" not in preflight(live.url, ORIGIN).headers
    response = httpx.get(live.url + PAGE, headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


def test_an_origin_with_a_path_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(cors_allow_origins="https://example.org/app")  # type: ignore[arg-type]


def test_the_limit_is_off_by_default(live: LiveServer) -> None:
    response = httpx.get(live.url + PAGE)
    assert "ratelimit" not in response.headers


def test_each_answer_says_the_policy_and_what_is_left(limited_api: LiveServer) -> None:
    remaining = []
    for _ in range(3):
        response = httpx.get(limited_api.url + PAGE)
        assert response.status_code == 200
        assert response.headers["ratelimit-policy"] == '"per-client";q=3;w=3600'
        remaining.append(response.headers["ratelimit"].split(";")[1])
    assert remaining == ["r=2", "r=1", "r=0"]


def test_a_client_over_its_quota_gets_a_429_problem_with_retry_after(
    limited_api: LiveServer,
) -> None:
    for _ in range(3):
        httpx.get(limited_api.url + PAGE)
    response = httpx.get(limited_api.url + PAGE, headers={"Origin": ORIGIN})
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= 1200  # one token: window / quota
    assert response.headers["ratelimit"].startswith('"per-client";r=0;t=')
    assert "3 requests per 3600 s" in response.json()["detail"]
    # A browser page can read why it was refused.
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_clients_with_their_own_key_have_their_own_buckets(limited_api: LiveServer) -> None:
    for _ in range(3):
        assert httpx.get(limited_api.url + PAGE, headers={"X-Api-Key": "a"}).status_code == 200
    assert httpx.get(limited_api.url + PAGE, headers={"X-Api-Key": "a"}).status_code == 429
    assert httpx.get(limited_api.url + PAGE, headers={"X-Api-Key": "b"}).status_code == 200


def test_health_and_metrics_are_never_limited(limited_api: LiveServer) -> None:
    for _ in range(5):
        httpx.get(limited_api.url + PAGE)
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        response = httpx.get(limited_api.url + path)
        assert response.status_code == 200, path
        assert "ratelimit" not in response.headers


class Clock:
    """Time that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_quota_per_window() -> None:
    clock = Clock()
    buckets = Buckets(Policy(requests=10, window_s=10), clock=clock)
    assert [buckets.take("c").allowed for _ in range(11)] == [True] * 10 + [False]
    assert buckets.take("c").retry_after_s == 1
    clock.now = 3.0
    decision = buckets.take("c")
    assert decision.allowed
    assert decision.remaining == 2
    assert decision.full_in_s == 8


def test_buckets_forget_idle_clients_to_bound_memory() -> None:
    clock = Clock()
    buckets = Buckets(Policy(requests=2, window_s=1), clock=clock, max_clients=4)
    for client in "abcd":
        buckets.take(client)
    clock.now = 5.0  # every bucket is full again: nothing to remember
    buckets.take("e")
    assert buckets.take("a").remaining == 1
    assert len(buckets._buckets) <= 4


def test_the_openapi_document_names_the_429_and_the_rate_limit_headers(live: LiveServer) -> None:
    operation = httpx.get(live.url + "/openapi.json").json()["paths"]["/api/weather"]["get"]
    refused = operation["responses"]["429"]
    assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(refused["headers"])
    assert {"RateLimit", "RateLimit-Policy"} <= set(operation["responses"]["200"]["headers"])


def test_refusals_are_counted_but_not_logged_one_by_one(limited_api: LiveServer) -> None:
    for _ in range(6):
        httpx.get(limited_api.url + PAGE)
    # A 400 is logged: once its line is in, any 429 line would be too.
    httpx.get(limited_api.url + "/api/weather?limit=0", headers={"X-Api-Key": "other"})
    wait_for(lambda: any('"status": 400' in line for line in limited_api.log), "the 400's log line")
    assert not any('"status": 429' in line for line in limited_api.log)
    metrics = httpx.get(limited_api.url + "/metrics").text
    assert 'route="/api/yield",status="429"' in metrics


def test_every_header_of_a_limited_browser_answer_is_documented(limited_api: LiveServer) -> None:
    document = httpx.get(limited_api.url + "/openapi.json").json()
    responses = document["paths"]["/api/yield"]["get"]["responses"]
    framing = {"content-type", "content-length", "transfer-encoding", "date", "server"}
    for _ in range(4):  # 200, 200, 200, then 429
        response = httpx.get(limited_api.url + PAGE, headers={"Origin": ORIGIN})
        documented = {name.lower() for name in responses[str(response.status_code)]["headers"]}
        assert set(response.headers) - framing <= documented, response.status_code
    assert response.status_code == 429
