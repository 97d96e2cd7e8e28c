"""Where clients reach the API: the origin and path prefix of its absolute links.

Responses are cacheable by shared caches, so a link must never come from a
header any client can set. Links therefore start with ``PUBLIC_URL`` when it
is configured; otherwise with the request's scheme, host and path prefix,
where the host must be one of ``ALLOWED_HOSTS`` (any other is refused with a
421 problem) and the scheme, host, prefix and client address may come from
``X-Forwarded-Proto``/``-Host``/``-Prefix``/``-For`` only when the peer is
a trusted proxy (``FORWARDED_ALLOW_IPS``). The prefix (``ROOT_PATH``, the
path of ``PUBLIC_URL``, or ``X-Forwarded-Prefix``) becomes the ASGI
``root_path``, so routing works whether or not the proxy strips it, and the
docs page and the OpenAPI ``servers`` point under it.

This replaces uvicorn's own proxy-header handling, which rewrites the client
address before the app could tell whether the peer was trusted.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service import problems
from warehouse.settings import PATH_PATTERN, Settings

# Probes and scrapers call these by the pod's address; they build no links.
UNCHECKED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_HOST = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")
STATE_KEY = "public_base"


class TrustedProxies:
    """Peers whose forwarding headers are believed: addresses, networks, or ``*``."""

    def __init__(self, entries: tuple[str, ...]) -> None:
        self.any = "*" in entries
        self.networks = [
            ipaddress.ip_network(entry, strict=False) for entry in entries if entry != "*"
        ]

    def __contains__(self, host: str | None) -> bool:
        if self.any:
            return True
        if host is None:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class Refusal(Exception):
    """A request whose origin cannot be served."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Forwarded:
    """ASGI middleware: check the host, apply trusted forwarding headers, note the link base."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.public_url = settings.public_url
        public = urlsplit(settings.public_url) if settings.public_url else None
        self.root_path = public.path.rstrip("/") if public else settings.root_path
        self.allowed = settings.allowed_hosts
        if public is not None and public.hostname is not None:
            self.allowed = (*self.allowed, _name(public.netloc))
        try:
            self.trusted = TrustedProxies(settings.forwarded_allow_ips)
        except ValueError as exc:
            raise ValueError(f"FORWARDED_ALLOW_IPS: {exc}") from None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._apply(scope)
        except Refusal as refusal:
            response = problems.response(Request(scope), refusal.status, refusal.detail)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _apply(self, scope: Scope) -> None:
        # In place, as uvicorn's proxy middleware does: the outer middleware
        # reads what the router adds to this very scope (the route template).
        headers = _headers(scope)
        client = scope.get("client")
        trusted = client is not None and client[0] in self.trusted
        forwarded = headers if trusted else {}
        prefix = self.root_path
        if "x-forwarded-prefix" in forwarded and not self.public_url:
            prefix = _prefix(_first(forwarded["x-forwarded-prefix"]))
        scope.update(_under(scope, prefix))
        scheme = _first(forwarded.get("x-forwarded-proto", ""))
        if scheme in ("http", "https"):
            scope["scheme"] = scheme
        if "x-forwarded-for" in forwarded:
            scope["client"] = (self._client(forwarded["x-forwarded-for"]), 0)
        host = _first(forwarded.get("x-forwarded-host", "")) or headers.get("host", "")
        if not host and scope.get("server"):
            host = "{}:{}".format(*scope["server"])
        route = scope["path"][len(prefix) :] or "/"
        if route not in UNCHECKED_PATHS:
            self._check(host)
        base = self.public_url or f"{scope['scheme']}://{host.lower()}{prefix}"
        scope.setdefault("state", {})[STATE_KEY] = base

    def _check(self, host: str) -> None:
        if not _HOST.match(host):
            raise Refusal(400, f"the request's host {host[:100]!r} is not a valid host name")
        name = _name(host)
        if not any(_allows(pattern, name) for pattern in self.allowed):
            raise Refusal(
                421,
                f"this server does not serve the host {name!r}; "
                "the hosts it serves are set by ALLOWED_HOSTS or PUBLIC_URL",
            )

    def _client(self, value: str) -> str:
        # The nearest address that is not a trusted proxy is the client
        # (uvicorn's rule); all trusted: the farthest one.
        hops = [hop.strip() for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in self.trusted:
                return hop
        return hops[0] if hops else ""


def link(request: Request, query: str) -> str:
    """The absolute URL of this request's resource with ``query``, from the link base."""
    scope = request.scope
    base = scope.get("state", {}).get(STATE_KEY)
    if base is None:  # an app without this middleware (never in ``create_app``)
        base = f"{scope['scheme']}://{request.headers.get('host', 'localhost')}"
    root = scope.get("root_path", "")
    path = scope["path"]
    route = path[len(root) :] if root and path.startswith(root) else path
    return f"{base}{quote(route, safe='/')}?{query}"


def _headers(scope: Scope) -> dict[str, str]:
    wanted = (b"host", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host")
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in wanted or name == b"x-forwarded-prefix":
            key = name.decode()
            text = value.decode("latin-1")
            found[key] = f"{found[key]}, {text}" if key in found else text
    return found


def _first(value: str) -> str:
    return value.split(",", 1)[0].strip()


def _prefix(value: str) -> str:
    value = value.rstrip("/")
    if not PATH_PATTERN.match(value):
        raise Refusal(400, "X-Forwarded-Prefix must be a path such as /weather")
    return value


def _under(scope: Scope, prefix: str) -> dict[str, object]:
    """``root_path`` set to ``prefix``, and ``path`` under it as ASGI wants, stripped or not."""
    path: str = scope["path"]
    if not prefix:
        return {"root_path": ""}
    if path == prefix or path.startswith(prefix + "/"):
        return {"root_path": prefix}
    raw = scope.get("raw_path") or path.encode()
    return {"root_path": prefix, "path": prefix + path, "raw_path": prefix.encode() + raw}


def _name(host: str) -> str:
    """The host name without its port, lower case."""
    if host.startswith("["):
        return host[: host.find("]") + 1].lower()
    return host.rsplit(":", 1)[0].lower() if ":" in host else host.lower()


def _allows(pattern: str, name: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return name == pattern
