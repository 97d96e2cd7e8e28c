"""Fair use: a token bucket per client, and the IETF ``RateLimit`` headers that describe it.

Each client (its address, or the value of a configured key header) has a
bucket of ``RATE_LIMIT_REQUESTS`` tokens that refills evenly over
``RATE_LIMIT_WINDOW_S`` seconds; a request takes one token, and a request
that finds the bucket empty is answered ``429`` (problem+json) with
``Retry-After``. Bursts up to the quota pass, a steady rate above
quota/window does not.

Every answer under ``/api/`` carries the fields of
draft-ietf-httpapi-ratelimit-headers (structured-field lists)::

    RateLimit-Policy: "per-client";q=600;w=60
    RateLimit: "per-client";r=599;t=1

``r`` is what is left now; ``t`` the seconds until the bucket is full again.

Counting is in memory, hence **per replica**: with N replicas behind a load
balancer a client can make up to N times the quota. That is the point of a
cheap, dependency-free guard against one heavy caller; a global quota
belongs in the gateway in front. A small module rather than a library
(``limits``, ``slowapi``): a token bucket is twenty lines, and those
libraries count fixed or moving windows whose state is harder to turn into
these headers.

The client's address is ``scope["client"]``: uvicorn rewrites it from
``X-Forwarded-For`` only for proxies listed in ``FORWARDED_ALLOW_IPS``, so a
client cannot pick its own bucket by sending that header. A key header
(``RATE_LIMIT_KEY_HEADER``) should be configured only when a gateway in
front sets or checks it, since a caller could otherwise rotate its value.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import problems
from warehouse.settings import Settings

POLICY = "per-client"
PREFIX = "/api/"
MAX_CLIENTS = 100_000


@dataclass(frozen=True)
class Policy:
    """A quota of ``requests`` that refills over ``window_s`` seconds."""

    requests: int
    window_s: int

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self.requests / self.window_s

    def header(self) -> bytes:
        """The ``RateLimit-Policy`` field value."""
        return f'"{POLICY}";q={self.requests};w={self.window_s}'.encode()


@dataclass(frozen=True)
class Decision:
    """One request's outcome: allowed or not, what is left, when it refills."""

    allowed: bool
    remaining: int
    full_in_s: int
    retry_after_s: int

    def header(self) -> bytes:
        """The ``RateLimit`` field value."""
        return f'"{POLICY}";r={self.remaining};t={self.full_in_s}'.encode()


class Buckets:
    """Token buckets by client key; memory bounded by ``max_clients``."""

    def __init__(
        self,
        policy: Policy,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> Decision:
        """Take one token from ``key``'s bucket if there is one."""
        now = self._clock()
        tokens = self._tokens(key, now)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if key not in self._buckets and len(self._buckets) >= self._max_clients:
            self._evict(now)
        self._buckets[key] = (tokens, now)
        rate = self.policy.rate
        return Decision(
            allowed=allowed,
            remaining=int(tokens),
            full_in_s=math.ceil((self.policy.requests - tokens) / rate),
            retry_after_s=0 if allowed else max(1, math.ceil((1.0 - tokens) / rate)),
        )

    def _tokens(self, key: str, now: float) -> float:
        state = self._buckets.get(key)
        if state is None:
            return float(self.policy.requests)
        tokens, at = state
        return min(float(self.policy.requests), tokens + (now - at) * self.policy.rate)

    def _evict(self, now: float) -> None:
        """Forget full buckets (a new one starts full anyway); if none, the oldest half."""
        full = [key for key in self._buckets if self._tokens(key, now) >= self.policy.requests]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_clients:
            for key in list(self._buckets)[: self._max_clients // 2]:
                del self._buckets[key]


class RateLimit:
    """The ASGI middleware: limits ``/api/`` requests, adds the headers to their answers."""

    def __init__(self, app: ASGIApp, policy: Policy, key_header: str | None = None) -> None:
        self.app = app
        self.buckets = Buckets(policy)
        self._policy_header = policy.header()
        self._key_header = key_header.lower().encode() if key_header else None

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        """Whether the settings turn the limit on."""
        return settings.rate_limit_requests > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        decision = self.buckets.take(self._client(scope))
        fields = [(b"ratelimit-policy", self._policy_header), (b"ratelimit", decision.header())]
        if not decision.allowed:
            await self._refuse(scope, receive, send, decision, fields)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *fields]
            await send(message)

        await self.app(scope, receive, send_with_fields)

    def _client(self, scope: Scope) -> str:
        if self._key_header is not None:
            headers: list[tuple[bytes, bytes]] = scope["headers"]
            for name, value in headers:
                if name == self._key_header and value:
                    return "key:" + value.decode("latin-1")
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        return "addr:" + address

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        decision: Decision,
        fields: list[tuple[bytes, bytes]],
    ) -> None:
        policy = self.buckets.policy
        detail = (
            f"too many requests: this client may make {policy.requests} requests per "
            f"{policy.window_s} s; retry after {decision.retry_after_s} s"
        )
        _name_route(scope)
        headers = {"Retry-After": str(decision.retry_after_s)}
        headers.update((name.decode(), value.decode()) for name, value in fields)
        response = problems.response(Request(scope), 429, detail, headers=headers)
        await response(scope, receive, send)


def _name_route(scope: Scope) -> None:
    """Set the route a refused request would have reached, for the request metrics."""
    app = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            scope["route"] = route
            return
