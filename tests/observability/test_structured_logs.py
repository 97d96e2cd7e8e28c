"""Structured logs: JSON lines with request id, route, status and duration; one summary
per ingest run; never a password, whatever fails."""

from __future__ import annotations

import json
from typing import Any

from tests import cli
from tests.harness import http
from tests.harness.http import get
from tests.harness.waiting import wait_for
from tests.observability.system import PASSWORD, ROLE, System, send_traffic
from warehouse.ports import free_port


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed as JSON (fails on the first line that is not)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def api_log(system: System) -> list[dict[str, Any]]:
    """The API's log lines so far (a line being written is left for later)."""
    text = system.api_log.read_text(encoding="utf-8")
    return json_lines(text[: text.rfind("\n") + 1])


def access_line(system: System, request_id: str) -> dict[str, Any]:
    """The one access log line of a request (logged just after the response is sent)."""

    def lines() -> list[dict[str, Any]] | None:
        found = [
            line
            for line in api_log(system)
            if line["logger"] == "service.access" and line.get("request_id") == request_id
        ]
        assert len(found) <= 1
        return found or None

    (line,) = wait_for(lines, f"the access log line of request {request_id}", timeout=10)
    return line


def test_every_api_log_line_is_json_with_time_level_logger_message(system: System) -> None:
    lines = api_log(system)
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)


def test_access_log_line_has_request_id_route_status_and_duration(system: System) -> None:
    reply = get(system.api + "/api/stations/USC00110072", {"X-Request-ID": "obs-test-0001"})
    assert reply.status == 200
    assert reply.headers["x-request-id"] == "obs-test-0001"
    line = access_line(system, "obs-test-0001")
    assert line["route"] == "/api/stations/{station_id}"
    assert line["path"] == "/api/stations/USC00110072"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int)
    assert line["duration_ms"] >= 0


def test_access_log_gets_a_fresh_request_id_when_the_caller_sends_none(system: System) -> None:
    reply = get(system.api + "/no/such/page")
    assert reply.status == 404
    line = access_line(system, reply.headers["x-request-id"])
    assert line["route"] == "unmatched"
    assert line["status"] == 404
    assert line["level"] == "info"


def test_ingest_logs_json_lines_ending_in_one_run_summary(system: System) -> None:
    lines = json_lines(system.ingest.stderr)
    summaries = [line for line in lines if "run_id" in line and "exit_code" in line]
    assert len(summaries) == 1
    (summary,) = summaries
    assert summary is lines[-1]
    assert summary["message"] == "ingest run finished"
    assert summary["status"] == "succeeded"
    assert summary["exit_code"] == 0
    assert summary["files_loaded"] == 3
    assert summary["rows_inserted"] > 0


def test_password_never_appears_in_the_api_log_metrics_or_responses(system: System) -> None:
    send_traffic(system.api)
    assert f"{ROLE}:{PASSWORD}@" in system.database_url
    bodies = [get(system.api + path).body for path in ("/metrics", "/readyz", "/openapi.json")]
    assert all(PASSWORD.encode() not in body for body in bodies)
    assert PASSWORD not in system.api_log.read_text(encoding="utf-8")


def test_password_never_appears_in_the_ingest_output(system: System) -> None:
    assert PASSWORD not in system.ingest.stdout
    assert PASSWORD not in system.ingest.stderr


def test_failed_database_connection_does_not_echo_the_password(system: System) -> None:
    # Same role and password, a database that does not exist: the job must
    # say what failed (exit 2) without repeating the URL's secret.
    missing = system.database_url.rsplit("/", 1)[0] + "/no_such_database"
    result = cli.run("ingest", "--source", str(system.folder), env={"DATABASE_URL": missing})
    assert result.returncode == 2
    assert result.stderr.strip()
    assert PASSWORD not in result.stdout + result.stderr


def test_api_with_its_database_missing_does_not_echo_the_password(system: System) -> None:
    # The API starts and reports not ready; neither /readyz nor the log may
    # repeat the URL's secret while it fails to connect.
    missing = system.database_url.rsplit("/", 1)[0] + "/no_such_database"
    port = free_port()
    server = cli.start("serve", "--host", "127.0.0.1", "--port", str(port),
                       env={"DATABASE_URL": missing})  # fmt: skip
    try:

        def not_ready() -> bytes | None:
            if server.poll() is not None:
                return b"exited"
            reply = http.answers(f"http://127.0.0.1:{port}/readyz")
            return reply.body if reply is not None and reply.status == 503 else None

        body = wait_for(not_ready, "the API to answer /readyz", timeout=60)
        assert body != b"exited"
        assert PASSWORD.encode() not in body
    finally:
        server.terminate()
        stdout, stderr = server.communicate(timeout=30)
    assert "no_such_database" in stderr or b"no_such_database" in body
    assert PASSWORD not in stdout + stderr
