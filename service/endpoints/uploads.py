"""``POST /api/uploads``: check a station or yield file and drop it where the next ingest run looks.

The endpoint exists only when an upload token is configured. The file comes
as the raw body (``curl --data-binary @f.txt``, name in ``?name=``) or as the
``file`` part of a ``multipart/form-data`` form (``curl -F file=@f.txt``,
name from the part's filename). The body is read whole up to the size cap,
then parsed (python-multipart, Starlette's own form parser) and validated in
a worker thread, so a large file never stalls the event loop. It never writes
to the database: it validates the whole file with the ingest job's own parser
(so a file accepted here loads there), stores the raw bytes under
``UPLOAD_S3_PREFIX`` in a folder of its own (uploads never overwrite each
other; keys sort by upload time, so a later upload of a station applies
later), and answers 202 with the object's location.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import orjson
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest_job import formats
from service.lists.listing import parse_query
from service.models import UploadAccepted
from service.openapi import Operation
from service.params import UploadQuery
from service.problems import RETRY_AFTER_S, ApiProblem, bad_parameter
from warehouse.errors import ConfigError, WarehouseError, read_secret_file
from warehouse.s3 import s3_client
from warehouse.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("service.uploads")

# Room for the boundaries and part headers around the file in a form.
FORM_OVERHEAD_BYTES = 16 * 1024
FILE_FIELD = "file"


@dataclass(frozen=True)
class UploadConfig:
    """The token, the destination and the size cap."""

    token_digest: bytes
    bucket: str
    prefix: str
    max_bytes: int
    settings: Settings

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadConfig | None:
        """``None`` when no token is configured (the endpoint then does not exist)."""
        token = _token(settings)
        if token is None:
            return None
        target = settings.upload_s3_prefix
        if not target or not target.startswith("s3://"):
            raise ConfigError("UPLOAD_S3_PREFIX must be s3://bucket/prefix/ when uploads are on")
        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        if not bucket:
            raise ConfigError("UPLOAD_S3_PREFIX has no bucket name (expected s3://bucket/prefix/)")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(_digest(token), bucket, prefix, settings.upload_max_bytes, settings)

    @cached_property
    def client(self) -> S3Client:
        """One S3 client for the process (boto3 clients are thread-safe and slow to make)."""
        return s3_client(self.settings)


def _token(settings: Settings) -> str | None:
    if settings.upload_token_file is not None:
        token = read_secret_file(settings.upload_token_file, "UPLOAD_TOKEN_FILE")
    elif settings.upload_token is not None:
        token = settings.upload_token.get_secret_value().strip()
    else:
        return None
    if len(token) < 16:
        raise ConfigError("the upload token must be at least 16 characters long")
    return token


def _digest(token: str) -> bytes:
    # Comparing fixed-length digests keeps the comparison constant-time
    # whatever the length of the presented token.
    return hashlib.sha256(token.encode()).digest()


def _authorize(request: Request, config: UploadConfig) -> None:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="uploads"'}
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiProblem(401, "a bearer token is required", headers=challenge)
    if not hmac.compare_digest(_digest(presented.strip()), config.token_digest):
        raise ApiProblem(403, "the bearer token is not valid for uploads")


async def _read_body(request: Request, max_bytes: int, overhead: int = 0) -> bytes:
    too_large = ApiProblem(413, f"the file is larger than the limit of {max_bytes} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + overhead:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes + overhead:
            raise too_large
    return bytes(body)


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)


def _form_parts(content_type: str, body: bytes) -> list[_Part]:
    """The parts of a ``multipart/form-data`` body; a 400 if it is not one."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiProblem(400, "body: multipart/form-data without a boundary")
    parts: list[_Part] = []
    name, value = bytearray(), bytearray()
    ended = []

    def header_end() -> None:
        parts[-1].headers[bytes(name).lower()] = bytes(value)
        name.clear()
        value.clear()

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": lambda: parts.append(_Part()),
            "on_header_field": lambda data, start, end: name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: value.extend(data[start:end]),
            "on_header_end": header_end,
            "on_part_data": lambda data, start, end: parts[-1].data.extend(data[start:end]),
            "on_end": lambda: ended.append(True),
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise ApiProblem(400, f"body: not valid multipart/form-data ({exc})") from None
    if not ended:
        raise ApiProblem(400, "body: the multipart/form-data body ends before its last boundary")
    return parts


def _form_file(content_type: str, body: bytes, max_bytes: int) -> tuple[str | None, bytes]:
    """The filename and content of the form's ``file`` part."""
    files = []
    for part in _form_parts(content_type, body):
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        field_name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if field_name != FILE_FIELD:
            raise ApiProblem(
                400,
                f"body: unexpected form field {field_name!r}; send the file as {FILE_FIELD!r}",
                errors=[("body", f"unexpected form field {field_name!r}")],
            )
        raw_name = disposition.get(b"filename")
        files.append((raw_name.decode("utf-8", "replace") if raw_name else None, part.data))
    if len(files) != 1:
        raise ApiProblem(400, f"body: the form needs exactly one {FILE_FIELD!r} part")
    filename, data = files[0]
    if len(data) > max_bytes:
        raise ApiProblem(413, f"the file is larger than the limit of {max_bytes} bytes")
    # Browsers send a bare name; some clients send a path: keep its last part.
    base = filename.replace("\\", "/").rsplit("/", 1)[-1] if filename else None
    return base, bytes(data)


def _is_form(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def _file_name(given: str | None, from_form: str | None) -> str:
    """``?name=`` wins; else the form's filename, checked like the parameter."""
    if given is not None:
        return given
    if from_form is None:
        raise bad_parameter("name", "required (or send a multipart form whose file has a name)")
    name = parse_query(UploadQuery, QueryParams({"name": from_form})).name
    assert name is not None
    return name


def _check(name: str, data: bytes) -> formats.Validation:
    try:
        result = formats.validate(name, data)
    except WarehouseError as exc:  # UnrecognisedFile: neither a station nor a yield file
        raise ApiProblem(415, exc.message) from None
    if result.format not in formats.UPLOAD_FORMATS:
        raise ApiProblem(415, f"{name}: uploads take station and yield .txt files only")
    if not result.ok:
        more = result.lines_rejected - len(result.errors)
        detail = f"{name}: {result.lines_rejected} line(s) cannot be read"
        if more > 0:
            detail += f" (the first {len(result.errors)} are listed)"
        raise ApiProblem(422, detail, errors=[("body", str(error)) for error in result.errors])
    if result.rows == 0:
        raise ApiProblem(422, f"{name}: the file holds no rows")
    return result


def _key(config: UploadConfig, name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{config.prefix}{stamp}-{secrets.token_hex(4)}/{name}"


async def upload(request: Request) -> Response:
    """Authorize, validate, store, answer 202 with the location."""
    config: UploadConfig = request.app.state.uploads
    _authorize(request, config)
    given = parse_query(UploadQuery, request.query_params).name
    content_type = request.headers.get("content-type", "")
    if _is_form(content_type):
        form = await _read_body(request, config.max_bytes, FORM_OVERHEAD_BYTES)
        from_form, data = await asyncio.to_thread(_form_file, content_type, form, config.max_bytes)
        name = _file_name(given, from_form)
    else:
        data = await _read_body(request, config.max_bytes)
        name = _file_name(given, None)
    result = await asyncio.to_thread(_check, name, data)
    key = _key(config, name)
    await asyncio.to_thread(_put, config, key, data)
    location = f"s3://{config.bucket}/{key}"
    log.info(
        "upload stored",
        extra={"location": location, "size_bytes": len(data), "rows": result.rows},
    )
    body = UploadAccepted(location=location, name=name, size_bytes=len(data), rows=result.rows)
    return Response(
        orjson.dumps(body.model_dump()),
        202,
        {"Location": location, "Cache-Control": "no-store"},
        media_type="application/json",
    )


def _put(config: UploadConfig, key: str, data: bytes) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        config.client.put_object(Bucket=config.bucket, Key=key, Body=data, ContentType="text/plain")
    except (BotoCoreError, ClientError) as exc:
        log.warning("upload storage failed", extra={"error": str(exc), "bucket": config.bucket})
        raise ApiProblem(
            503,
            "the upload store is unavailable; try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from None


ROUTES = [Route("/api/uploads", upload, methods=["POST"])]

_FILE_BODY = {
    "required": True,
    "description": (
        "A station file (`<STATION_ID>.txt`) or a yield file: the raw body (name in `name`), "
        "or the `file` part of a form (name from its filename unless `name` is given)."
    ),
    "content": {
        "text/plain": {"schema": {"type": "string"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {FILE_FIELD: {"type": "string", "format": "binary"}},
                "required": [FILE_FIELD],
            }
        },
    },
}

OPERATIONS = [
    Operation(
        path="/api/uploads",
        method="post",
        status=202,
        summary="Upload a station or yield file",
        description=(
            "Validates the whole file with the ingest job's parser and stores it under the "
            "configured S3 prefix; the next ingest run loads it. Needs the upload bearer "
            "token. 413 above the size limit, 415 for a file that is neither a station nor a "
            "yield file, 422 listing `file:line: reason` for unreadable lines."
        ),
        tag="uploads",
        ok=(UploadAccepted,),
        query=UploadQuery,
        problems=(400, 401, 403, 413, 415, 422, 503),
        request_body=_FILE_BODY,
        secured=True,
        headers=("Location",),
        cached=False,
    )
]
