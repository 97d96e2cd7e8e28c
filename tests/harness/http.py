"""One plain HTTP GET for the tests: the status, headers and body, error statuses included."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """What a GET returned."""

    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 10) -> Reply:
    """GET ``url``; a 4xx or 5xx is a reply like any other, not an exception."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, _lower(exc.headers.items()), exc.read())


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def answers(url: str, timeout: float = 2) -> Reply | None:
    """The reply of ``url``, or None while nothing accepts the connection."""
    try:
        return get(url, timeout=timeout)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def answers_ok(url: str, timeout: float = 2) -> bool:
    """Whether ``url`` answers 200 right now."""
    reply = answers(url, timeout)
    return reply is not None and reply.status == 200
