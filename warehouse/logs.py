"""The one logging setup: JSON lines in containers, readable lines in a terminal.

Fields passed with ``extra={...}`` become JSON keys (or ``key=value`` in a
terminal). A filter scrubs anything shaped like a password from every record,
as a second line of defence behind code that never logs secrets.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

# Attributes every LogRecord has; anything else came from ``extra``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# uvicorn adds an ANSI-coloured copy of each message: noise in both formats.
_STANDARD.add("color_message")

_SECRETS = (
    # scheme://user:password@host
    (
        re.compile(r"(?P<pre>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+(?P<post>@)", re.I),
        r"\g<pre>***\g<post>",
    ),
    # password=... in a libpq connection string or a query string
    (re.compile(r"(?P<pre>\bpassword\s*=\s*)('[^']*'|\S+)", re.I), r"\g<pre>***"),
)


def redact(text: str) -> str:
    """Replace passwords in URLs and ``password=`` pairs with ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Scrub secrets from the message and from string ``extra`` fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``12:00:00 info  logger: message key=value``, for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{when} {record.levelname.lower():<7} {record.name}: {record.getMessage()}"
        line = f"{line} {fields}" if fields else line
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


def wants_json(log_format: str, stream: TextIO) -> bool:
    """JSON unless asked for text, or ``auto`` and the stream is a terminal."""
    if log_format == "auto":
        return not stream.isatty()
    return log_format == "json"


def configure(log_format: str = "auto", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Install the one handler on the root logger (idempotent)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if wants_json(log_format, stream) else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries log connection strings at DEBUG; keep them quiet unless asked.
    for noisy in ("psycopg", "botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
