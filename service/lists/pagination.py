"""Opaque, signed keyset cursors.

A cursor carries the primary key of the last row a page returned, and an HMAC
over that key, the endpoint and its filters. A cursor that was edited, or
that belongs to another endpoint or other filters, fails the check and the
request is a 400, never a 500 or a silently different result set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson

from service.problems import ApiProblem, bad_parameter
from warehouse.settings import Settings

log = logging.getLogger("service")

KeyValue = str | int | date
_MAC_BYTES = 16


class Cursors:
    """Signs and verifies cursors with one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Cursors:
        """Use ``CURSOR_SECRET``; without it, a random key valid for this process only."""
        if settings.cursor_secret is not None:
            return cls(settings.cursor_secret.get_secret_value().encode())
        log.warning(
            "CURSOR_SECRET is not set: cursors are valid only until this process restarts "
            "and only on this replica"
        )
        return cls(secrets.token_bytes(32))

    def encode(self, scope: str, key: Sequence[KeyValue]) -> str:
        """A cursor that resumes after ``key`` for the query described by ``scope``."""
        payload = orjson.dumps([_plain(value) for value in key])
        mac = self._mac(scope, payload)
        return f"{_b64(payload)}.{_b64(mac)}"

    def decode(self, scope: str, cursor: str) -> list[Any]:
        """The key values in ``cursor``; a 400 if it was not made for ``scope``."""
        try:
            payload_text, mac_text = cursor.split(".")
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except ValueError:
            raise _invalid() from None
        if not hmac.compare_digest(mac, self._mac(scope, payload)):
            raise _invalid()
        try:
            values = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise _invalid() from None
        if not isinstance(values, list):
            raise _invalid()
        return values

    def _mac(self, scope: str, payload: bytes) -> bytes:
        message = scope.encode() + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def scope_of(endpoint: str, *filters: object) -> str:
    """The identity of a query: its endpoint and its filters, canonically."""
    return orjson.dumps([endpoint, *(_plain(f) for f in filters)]).decode()


def _plain(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def _invalid() -> ApiProblem:
    return bad_parameter(
        "cursor", "invalid or not made for this query; start again without a cursor"
    )
