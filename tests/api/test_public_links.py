"""Absolute links never follow a header a client can set; proxies and prefixes work.

Issue 12 item 7 and issue 13's proxies: ``next`` links and the ``Link``
header come from ``PUBLIC_URL``, or from an allowed host (others are refused
with 421), with scheme, host and prefix from trusted proxies only; the docs
page works under a prefix. Each configuration is a real server.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.live import LiveServer, serving
from tests.api.test_errors import assert_problem

YIELD = "/api/yield?limit=1"


def get(server: LiveServer, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers=headers, timeout=30)


def next_link(response: httpx.Response) -> str:
    """The body's ``next``, checked to equal the ``Link`` header's."""
    assert response.status_code == 200, response.text
    url: str = response.json()["next"]
    assert response.headers["link"] == f'<{url}>; rel="next"'
    return url


@pytest.fixture(scope="module")
def default(loaded_url: str) -> Iterator[LiveServer]:
    """No settings: localhost hosts allowed, the loopback proxy trusted."""
    with serving(loaded_url) as server:
        yield server


@pytest.fixture(scope="module")
def allow_listed(loaded_url: str) -> Iterator[LiveServer]:
    env = {"ALLOWED_HOSTS": "api.example.com,*.example.org", "FORWARDED_ALLOW_IPS": "10.0.0.1"}
    with serving(loaded_url, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def public(loaded_url: str) -> Iterator[LiveServer]:
    with serving(loaded_url, env={"PUBLIC_URL": "https://weather.example.com/wx/"}) as server:
        yield server


@pytest.fixture(scope="module")
def prefixed(loaded_url: str) -> Iterator[LiveServer]:
    with serving(loaded_url, env={"ROOT_PATH": "/weather"}) as server:
        yield server


# The request's host ------------------------------------------------------


def test_a_host_that_is_not_allowed_is_refused_and_never_linked(default: LiveServer) -> None:
    response = get(default, YIELD, {"Host": "attacker.example"})
    body = assert_problem(response, 421)
    assert "attacker.example" in body["detail"]
    assert "link" not in response.headers


def test_links_use_the_allowed_host_the_request_named(default: LiveServer) -> None:
    assert next_link(get(default, YIELD)).startswith(f"{default.url}/api/yield?limit=1&cursor=")
    port = default.url.rsplit(":", 1)[1]
    link = next_link(get(default, YIELD, {"Host": f"localhost:{port}"}))
    assert link.startswith(f"http://localhost:{port}/api/yield?")


def test_probes_and_scrapes_by_pod_address_are_not_refused(default: LiveServer) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert get(default, path, {"Host": "10.1.2.3:8000"}).status_code == 200, path


def test_an_allow_list_with_a_wildcard(allow_listed: LiveServer) -> None:
    link = next_link(get(allow_listed, YIELD, {"Host": "api.example.com:8443"}))
    assert link.startswith("http://api.example.com:8443/api/yield?")
    assert next_link(get(allow_listed, YIELD, {"Host": "eu.example.org"})).startswith(
        "http://eu.example.org/api/yield?"
    )
    for host in ("example.org", "attacker.example", "api.example.com.attacker.example"):
        assert_problem(get(allow_listed, YIELD, {"Host": host}), 421)


def test_a_malformed_host_is_a_400(default: LiveServer) -> None:
    assert_problem(get(default, YIELD, {"Host": "user@localhost"}), 400)


# A configured public URL -------------------------------------------------


def test_a_public_url_makes_every_link(public: LiveServer) -> None:
    headers = {"Host": "weather.example.com"}
    link = next_link(get(public, YIELD, headers))
    assert link.startswith("https://weather.example.com/wx/api/yield?limit=1&cursor=")
    # Whether or not the proxy strips the prefix, the same resource and link.
    assert next_link(get(public, f"/wx{YIELD}", headers)) == link
    # Forwarding headers cannot move it.
    forwarded = {**headers, "X-Forwarded-Proto": "http", "X-Forwarded-Prefix": "/other"}
    assert next_link(get(public, YIELD, forwarded)) == link


def test_a_public_url_still_refuses_other_hosts(public: LiveServer) -> None:
    assert_problem(get(public, YIELD, {"Host": "attacker.example"}), 421)


def test_following_next_through_the_prefix_gives_the_next_page(public: LiveServer) -> None:
    headers = {"Host": "weather.example.com"}
    first = get(public, YIELD, headers)
    path = next_link(first).removeprefix("https://weather.example.com")
    second = get(public, path, headers)  # the proxy forwards /wx/... unchanged
    assert second.status_code == 200
    assert second.json()["data"] != first.json()["data"]


# Trusted and untrusted proxies -------------------------------------------


def test_a_trusted_proxy_sets_scheme_host_and_prefix(default: LiveServer) -> None:
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "localhost",
        "X-Forwarded-Prefix": "/weather/",
        "X-Forwarded-For": "203.0.113.7",
    }
    link = next_link(get(default, YIELD, headers))
    assert link.startswith("https://localhost/weather/api/yield?limit=1&cursor=")


def test_a_trusted_proxy_cannot_forward_a_host_that_is_not_allowed(default: LiveServer) -> None:
    response = get(default, YIELD, {"X-Forwarded-Host": "attacker.example"})
    assert_problem(response, 421)


def test_a_bad_forwarded_prefix_is_a_400(default: LiveServer) -> None:
    assert_problem(get(default, YIELD, {"X-Forwarded-Prefix": "/a/../b"}), 400)


def test_an_untrusted_peer_cannot_forward_anything(allow_listed: LiveServer) -> None:
    headers = {
        "Host": "api.example.com",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "eu.example.org",
        "X-Forwarded-Prefix": "/elsewhere",
    }
    assert next_link(get(allow_listed, YIELD, headers)).startswith(
        "http://api.example.com/api/yield?"
    )


# A configured prefix, and the docs page under a prefix --------------------


def test_a_configured_prefix_is_in_links_and_routes_either_way(prefixed: LiveServer) -> None:
    link = next_link(get(prefixed, YIELD))
    assert link.startswith(f"{prefixed.url}/weather/api/yield?limit=1&cursor=")
    assert next_link(get(prefixed, f"/weather{YIELD}")) == link


def docs_work_under(server: LiveServer, prefix: str, headers: dict[str, str]) -> None:
    """The page, its script, its assets and its document, all under ``prefix``."""
    page = get(server, f"{prefix}/docs", headers)
    assert page.status_code == 200
    assert f'src="{prefix}/docs/assets/swagger-ui-bundle.js"' in page.text
    assert f'href="{prefix}/docs/assets/swagger-ui.css"' in page.text
    init = get(server, f"{prefix}/docs/init.js", headers)
    assert f'url: "{prefix}/openapi.json"' in init.text
    bundle = get(server, f"{prefix}/docs/assets/swagger-ui-bundle.js", headers)
    assert bundle.status_code == 200
    assert "SwaggerUIBundle" in bundle.text
    document = get(server, f"{prefix}/openapi.json", headers).json()
    assert document["servers"] == [{"url": prefix}]


def test_docs_work_under_a_configured_prefix(prefixed: LiveServer) -> None:
    docs_work_under(prefixed, "/weather", {})


def test_docs_work_under_a_forwarded_prefix(default: LiveServer) -> None:
    docs_work_under(default, "/wx", {"X-Forwarded-Prefix": "/wx"})


def test_without_a_prefix_the_document_names_no_server(default: LiveServer) -> None:
    assert "servers" not in get(default, "/openapi.json").json()
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in get(default, "/docs").text
