"""gzip through the real server: negotiated, streamed, with validators of its own."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from service.middleware.compression import Memo, accepts_gzip, identity_tags
from tests.api.live import LiveServer
from tests.api.loaded import STATIONS

PAGE = f"/api/weather?station_id={STATIONS[0]}&limit=200"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def raw_get(live: LiveServer, path: str, headers: dict[str, str]) -> httpx.Response:
    """A GET whose body is left as sent (httpx would otherwise decode gzip)."""
    with (
        httpx.Client(base_url=live.url, timeout=30) as client,
        client.stream("GET", path, headers=headers) as response,
    ):
        response._content = b"".join(response.iter_raw())
        return response


def test_json_is_gzip_coded_when_the_client_accepts_it(live: LiveServer) -> None:
    plain = raw_get(live, PAGE, IDENTITY)
    coded = raw_get(live, PAGE, GZIP)
    assert coded.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(coded.content) == plain.content
    assert len(coded.content) < len(plain.content) / 4
    # A whole body keeps its length; only streams go chunked.
    assert int(coded.headers["content-length"]) == len(coded.content)


def test_every_data_response_varies_by_accept_encoding(live: LiveServer) -> None:
    for headers in (GZIP, IDENTITY):
        vary = raw_get(live, PAGE, headers).headers["vary"]
        assert [v.strip() for v in vary.split(",")] == ["Accept", "Accept-Encoding"]


def test_gzip_refused_with_q_zero_is_not_sent(live: LiveServer) -> None:
    response = raw_get(live, PAGE, {"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in response.headers


def test_the_gzip_representation_has_its_own_etag(live: LiveServer) -> None:
    plain = raw_get(live, PAGE, IDENTITY).headers["etag"]
    coded = raw_get(live, PAGE, GZIP).headers["etag"]
    assert coded != plain
    assert coded == plain[:-1] + '-gzip"'


def test_a_gzip_etag_revalidates_the_gzip_representation(live: LiveServer) -> None:
    etag = raw_get(live, PAGE, GZIP).headers["etag"]
    again = raw_get(live, PAGE, {**GZIP, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""


def test_an_etag_of_one_coding_never_validates_the_other(live: LiveServer) -> None:
    plain_tag = raw_get(live, PAGE, IDENTITY).headers["etag"]
    gzip_tag = raw_get(live, PAGE, GZIP).headers["etag"]
    coded = raw_get(live, PAGE, {**GZIP, "If-None-Match": plain_tag})
    assert coded.status_code == 200
    assert coded.headers["content-encoding"] == "gzip"
    plain = raw_get(live, PAGE, {**IDENTITY, "If-None-Match": gzip_tag})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers


def test_csv_and_ndjson_exports_are_gzip_coded_too(live: LiveServer) -> None:
    for fmt in ("csv", "ndjson"):
        path = f"/api/weather?station_id={STATIONS[2]}&format={fmt}"
        plain = raw_get(live, path, IDENTITY)
        coded = raw_get(live, path, GZIP)
        assert coded.headers["content-encoding"] == "gzip"
        assert gzip.decompress(coded.content) == plain.content


def test_a_gzip_export_streams_its_first_rows_before_the_last_are_read(live: LiveServer) -> None:
    # Two stations are more than one chunk of the export (20,000 rows): what
    # came first must decode on its own, before the rest is read, so nothing
    # buffers the whole stream.
    path = f"/api/weather?station_id={STATIONS[0]}&station_id={STATIONS[1]}&format=csv"
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with (
        httpx.Client(base_url=live.url, timeout=60) as client,
        client.stream("GET", path, headers=GZIP) as response,
    ):
        assert response.headers["content-encoding"] == "gzip"
        assert "content-length" not in response.headers
        chunks = response.iter_raw()
        first = inflate.decompress(next(chunks))
        rest = b"".join(chunks)
    # The header line is a message of its own, flushed before any row is read.
    assert first == b"station_id,date,max_temp_c,min_temp_c,precip_mm\r\n"
    assert len(rest) > 0
    total = first + inflate.decompress(rest) + inflate.flush()
    assert total.count(b"\n") > 20_000


def test_small_problem_documents_stay_uncoded(live: LiveServer) -> None:
    response = raw_get(live, "/api/weather?limit=0", GZIP)
    assert response.status_code == 400
    assert "content-encoding" not in response.headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("deflate, br", False),
        ("*;q=0.5, gzip;q=0", False),
        ("", False),
    ],
)
def test_accept_encoding_is_weighed_by_q(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_if_none_match_keeps_only_gzip_tags_without_their_suffix() -> None:
    assert identity_tags(b'W/"1-a-json-gzip", W/"1-a-json"') == b'W/"1-a-json"'
    assert identity_tags(b"*") == b"*"
    assert identity_tags(b'W/"1-a-json"') not in (b'W/"1-a-json"', b"")


def test_the_openapi_document_and_the_metrics_are_coded_too(live: LiveServer) -> None:
    for path in ("/openapi.json", "/metrics"):
        response = raw_get(live, path, GZIP)
        assert response.headers["content-encoding"] == "gzip", path
        assert gzip.decompress(response.content)


def test_the_memo_codes_a_body_once_and_keeps_to_its_budget() -> None:
    memo = Memo(max_bytes=16 * 200)
    body = b"x" * 100
    assert memo.get(body) is None
    memo.put(body, b"coded")
    assert memo.get(bytes(body)) == b"coded"  # by content, not by object
    for n in range(40):
        memo.put(bytes([n]) * 100, b"c" * 50)
    assert memo.get(body) is None  # the least recently used went first
    memo.put(b"y" * 300, b"too big for a sixteenth of the budget")
    assert memo.get(b"y" * 300) is None
