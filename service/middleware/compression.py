"""gzip content coding, negotiated by ``Accept-Encoding``, streamed, with its own validators.

A pure ASGI middleware rather than Starlette's ``GZipMiddleware``: that one
leaves ``ETag`` alone, so a cache could hand a gzip body to a client that
validated the identity one (RFC 9110 8.8.3: a content coding is a different
representation and needs its own validator). Here a compressed response's
``ETag`` gets a ``-gzip`` suffix, and on the way in the suffix is taken off
``If-None-Match`` so that the endpoints' own 304 logic keeps working
unchanged; a tag of the other coding can then never match.

Streams stay streams: every body message is compressed and flushed
(``Z_SYNC_FLUSH``) as it passes, so a CSV export still starts at once and
never sits whole in memory. Large messages are compressed in a worker thread
(zlib releases the GIL), so one export does not stall the other requests.

Only gzip: brotli and zstd would need a compiled dependency (zstd is in the
standard library only from Python 3.14), and gzip is what every client
(curl ``--compressed``, pandas, browsers, Grafana) sends and reads.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GZIP = "gzip"
SUFFIX = "-gzip"
# Level 1 (nginx's default): on the CSV export 5.1x smaller at 1.7M rows/s a
# core, against 6.2x at 0.6M rows/s for level 5; the export's rendering
# (about 0.5M rows/s) stays the bottleneck, not the coding.
LEVEL = 1
# Below this a complete body (with no validator) is not worth the gzip frame.
MINIMUM_SIZE = 512
# Messages at least this big are compressed off the event loop.
THREAD_SIZE = 256 * 1024
_COMPRESSIBLE = (
    b"application/json",
    b"application/problem+json",
    b"application/x-ndjson",
    b"application/vnd.oai.openapi",
    b"application/javascript",  # the /docs page's Swagger UI
    b"text/",
)
_NEVER = b"\x00never-matches"
# Budget of the memo of coded bodies (identity plus gzip bytes).
MEMO_BYTES = 8 * 1024 * 1024


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` gives gzip (or ``*``) a non-zero q (RFC 9110 12.5.3)."""
    if not accept_encoding:
        return False
    gzip_q: float | None = None
    star_q: float | None = None
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        coding = coding.lower()
        if coding in (GZIP, "x-gzip"):
            gzip_q = _q(params)
        elif coding == "*":
            star_q = _q(params)
    quality = gzip_q if gzip_q is not None else star_q
    return quality is not None and quality > 0


def _q(params: Sequence[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def gzip_tag(etag: bytes) -> bytes:
    """The validator of the gzip representation: ``W/"x"`` becomes ``W/"x-gzip"``."""
    return etag[:-1] + SUFFIX.encode() + b'"' if etag.endswith(b'"') else etag + SUFFIX.encode()


def identity_tags(if_none_match: bytes) -> bytes:
    """``If-None-Match`` as the endpoint must see it when gzip will be sent.

    Tags of the gzip representation lose their suffix; tags of the identity
    representation must not match it, so they are replaced by one that never
    does. ``*`` stays.
    """
    if if_none_match.strip() == b"*":
        return if_none_match
    tags = []
    suffix = SUFFIX.encode() + b'"'
    for raw in if_none_match.split(b","):
        tag = raw.strip()
        if tag.endswith(suffix):
            tags.append(tag[: -len(suffix)] + b'"')
    return b", ".join(tags) if tags else b'"' + _NEVER + b'"'


def _compressible(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media.startswith(_COMPRESSIBLE) or media.endswith(b"+json")


class Compression:
    """Sends 200 responses of text types gzip-coded to clients that accept it."""

    def __init__(self, app: ASGIApp, memo_bytes: int = MEMO_BYTES) -> None:
        self.app = app
        self.memo = Memo(memo_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        wanted = accepts_gzip(_header(headers, b"accept-encoding"))
        if wanted:
            # In place, not a copy: outer middleware reads what routing adds to the scope.
            scope["headers"] = [
                (name, identity_tags(value) if name == b"if-none-match" else value)
                for name, value in headers
            ]
        await self.app(scope, receive, _Responder(send, wanted, self.memo).send)


def _header(headers: Sequence[tuple[bytes, bytes]], wanted: bytes) -> str | None:
    for name, value in headers:
        if name == wanted:
            return value.decode("latin-1")
    return None


class _Responder:
    """One response's way out: decides at its start, then codes each body message."""

    def __init__(self, send: Send, wanted: bool, memo: Memo) -> None:
        self._send = send
        self._wanted = wanted
        self._memo = memo
        self._start: Message | None = None
        self._coding = False
        self._compressor: zlib._Compress | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            return
        if kind != "http.response.body":
            await self._send(message)
            return
        if self._start is None:
            await self._body(message)
            return
        start, self._start = self._start, None
        self._coding = self._decide(start, message)
        if self._coding and not message.get("more_body", False):
            await self._whole(start, message.get("body", b""))
            return
        await self._send(start)
        await self._body(message)

    async def _whole(self, start: Message, body: bytes) -> None:
        """A whole body, coded before the answer starts so that it keeps a Content-Length.

        Cacheable ones (with a validator) are remembered: a page answered from
        the response cache is coded once, not once per request.
        """
        cacheable = any(name == b"etag" for name, _ in start["headers"])
        coded = self._memo.get(body) if cacheable else None
        if coded is None:
            coded = await self._coded(body, more=False)
            if cacheable:
                self._memo.put(body, coded)
        start["headers"].append((b"content-length", str(len(coded)).encode()))
        await self._send(start)
        await self._send({"type": "http.response.body", "body": coded})

    def _decide(self, start: Message, first: Message) -> bool:
        """Whether to compress; rewrites ``start``'s headers to match."""
        raw: list[tuple[bytes, bytes]] = list(start.get("headers", ()))
        names = {name.lower(): value for name, value in raw}
        content_type = names.get(b"content-type", b"")
        status: int = start["status"]
        etag = names.get(b"etag")
        representation = _compressible(content_type) or (status == 304 and etag is not None)
        if representation:
            raw = _add_vary(raw)
        if not self._wanted or not representation or b"content-encoding" in names:
            start["headers"] = raw
            return False
        if b"no-transform" in names.get(b"cache-control", b"").lower():
            start["headers"] = raw
            return False
        if status == 304:
            # The 304 stands for the gzip 200 this request would have had.
            start["headers"] = _with_etag(raw, etag)
            return False
        small = not first.get("more_body", False) and len(first.get("body", b"")) < MINIMUM_SIZE
        if status != 200 or (small and etag is None):
            start["headers"] = raw
            return False
        raw = [(n, v) for n, v in _with_etag(raw, etag) if n.lower() != b"content-length"]
        raw.append((b"content-encoding", b"gzip"))
        start["headers"] = raw
        return True

    async def _body(self, message: Message) -> None:
        if not self._coding:
            await self._send(message)
            return
        more: bool = message.get("more_body", False)
        coded = await self._coded(message.get("body", b""), more=more)
        await self._send({"type": "http.response.body", "body": coded, "more_body": more})

    async def _coded(self, body: bytes, *, more: bool) -> bytes:
        compressor = self._compressor
        if compressor is None:
            compressor = self._compressor = zlib.compressobj(
                LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS
            )
        if len(body) >= THREAD_SIZE:
            return await run_in_threadpool(_code, compressor, body, more)
        return _code(compressor, body, more)


class Memo:
    """gzip of whole bodies, by content: a pure function's results, least recently used first out.

    A body answered from :mod:`service.lists.response_cache` is the same ``bytes``
    object every time, so its hash is computed once and the lookup is O(1).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._coded: OrderedDict[bytes, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, body: bytes) -> bytes | None:
        """The gzip of ``body``, if remembered."""
        coded = self._coded.get(body)
        if coded is not None:
            self._coded.move_to_end(body)
        return coded

    def put(self, body: bytes, coded: bytes) -> None:
        """Remember ``coded`` as the gzip of ``body`` if it fits the budget."""
        size = len(body) + len(coded)
        if size > self.max_bytes // 16 or body in self._coded:
            return
        self._coded[body] = coded
        self._bytes += size
        while self._bytes > self.max_bytes:
            old, old_coded = self._coded.popitem(last=False)
            self._bytes -= len(old) + len(old_coded)


def _code(compressor: zlib._Compress, body: bytes, more: bool) -> bytes:
    flush = zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH
    return compressor.compress(body) + compressor.flush(flush)


def _with_etag(raw: list[tuple[bytes, bytes]], etag: bytes | None) -> list[tuple[bytes, bytes]]:
    if etag is None:
        return raw
    return [(n, gzip_tag(v) if n.lower() == b"etag" else v) for n, v in raw]


def _add_vary(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    for index, (name, value) in enumerate(raw):
        if name.lower() == b"vary":
            if b"accept-encoding" in value.lower():
                return raw
            raw = list(raw)
            raw[index] = (name, value + b", Accept-Encoding")
            return raw
    return [*raw, (b"vary", b"Accept-Encoding")]
