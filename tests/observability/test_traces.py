"""Traces, end to end: the real API and ingest job send spans over OTLP to the real
collector running the chart's traces pipeline (awsxray replaced by a file exporter).

The tests read the spans the collector wrote and check their tree, names and
attributes, and that the trace id in the access log and in a 5xx problem body is
the trace's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from command.postgres_server import EmbeddedPostgres
from tests import cli
from tests.harness import otelcol, postgres, process
from tests.harness.http import get
from tests.harness.waiting import wait_for
from tests.observability.collector import Collector, Span, run, spans
from tests.observability.system import STATIONS, System
from warehouse.ports import free_port

SERVER, INTERNAL, CLIENT = 2, 1, 3
STATION = "USC00110072"


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    yield from run(tmp_path_factory.mktemp("traces"), api=None, pushgateway=None)


def tracing_env(
    collector: Collector, service: str, ratio: str = "1", per_second: str = "1"
) -> dict[str, str]:
    """What the chart sets on a pod with tracing on, pointed at the test collector."""
    return {
        "TRACING_ENABLED": "true",
        "OTEL_SERVICE_NAME": service,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.otlp_endpoint,
        "OTEL_TRACES_SAMPLER_ARG": ratio,
        "TRACING_TRACES_PER_SECOND": per_second,
        # Export every 100 ms instead of 5 s: the tests wait on the file, not a clock.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }


@dataclass(frozen=True)
class Api:
    url: str
    log: Path

    def logged(self, request_id: str) -> dict[str, object] | None:
        """The JSON access log line of the request with ``request_id``, once written."""
        for text in self.log.read_text(encoding="utf-8").splitlines():
            if text.startswith("{"):
                entry = json.loads(text)
                if (
                    entry.get("logger") == "service.access"
                    and entry.get("request_id") == request_id
                ):
                    return dict(entry)
        return None

    def access_line(self, request_id: str) -> dict[str, object]:
        """That line; the server writes it just after the response, so wait for it."""
        return wait_for(partial(self.logged, request_id), f"the access log line of {request_id}")


@contextmanager
def traced_api(database_url: str, env: dict[str, str], log: Path) -> Iterator[Api]:
    """The real API (``weather-warehouse serve``) with ``env``; stopped gracefully."""
    port = free_port()
    full_env = {"DATABASE_URL": database_url, "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG", **env}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "command", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=cli.command_env(full_env), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_until_up(url + "/healthz", server, "the traced API", timeout=60)
        yield Api(url, log)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def api(system: System, collector: Collector) -> Iterator[Api]:
    with traced_api(
        system.database_url, tracing_env(collector, "ww-api-test"), system.folder / "traced-api.log"
    ) as running:
        yield running


def _trace(collector: Collector, trace_id: str, root_name: str) -> list[Span] | None:
    found = [s for s in spans(otelcol.read_lines(collector.traces_file)) if s.trace_id == trace_id]
    ids = {s.span_id for s in found}
    roots = [s for s in found if s.parent_id not in ids]  # a caller's span is not exported here
    if roots and roots[0].name == root_name and _complete(found):
        return found
    return None


def _complete(trace: list[Span]) -> bool:
    """Every span's parent is in the trace (children may land in an earlier batch),
    except one root's, which may be the caller's."""
    ids = {s.span_id for s in trace}
    return len([s for s in trace if s.parent_id and s.parent_id not in ids]) <= 1


def request_trace(
    api: Api,
    collector: Collector,
    path: str,
    request_id: str,
    root: str,
    *,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, str, list[Span]]:
    """GET ``path``; its status, body, logged trace id and (once exported) spans."""
    reply = get(api.url + path, {"X-Request-ID": request_id, **(headers or {})})
    trace_id = str(api.access_line(request_id)["trace_id"])
    found = wait_for(partial(_trace, collector, trace_id, root), f"the spans of {path}")
    return reply.status, reply.body, trace_id, found


def _children(trace: list[Span], parent: Span) -> list[Span]:
    return [s for s in trace if s.parent_id == parent.span_id]


def test_a_request_is_one_server_span_with_the_pool_wait_and_each_sql_statement_below(
    api: Api, collector: Collector
) -> None:
    status, _, trace_id, trace = request_trace(
        api,
        collector,
        f"/api/weather?station_id={STATION}&limit=5",
        "trace-json",
        "GET /api/weather",
    )
    assert status == 200
    (root,) = [s for s in trace if not s.parent_id]
    assert root.kind == SERVER
    assert root.service == "ww-api-test"
    assert root.attributes["http.route"] == "/api/weather"
    assert root.trace_id == trace_id
    children = _children(trace, root)
    waits = [s for s in children if s.name == "db.pool.wait"]
    assert waits
    assert all(s.attributes["db.pool.name"] == "read" for s in waits)
    statements = [s for s in trace if s.attributes.get("db.system") == "postgresql"]
    assert all(s.kind == CLIENT for s in statements)
    # The queries hang off the request; the pool's liveness ping of an idle
    # connection (an empty statement) is part of the wait.
    queries = [s for s in statements if s.attributes["db.statement"].strip()]
    assert queries
    assert all(s.parent_id == root.span_id for s in queries)
    assert all(s.parent_id in {w.span_id for w in waits} for s in statements if s not in queries)
    assert any("FROM observation" in s.attributes["db.statement"] for s in queries)


def test_sql_spans_carry_the_statement_but_never_its_parameters(
    api: Api, collector: Collector
) -> None:
    _, _, _, trace = request_trace(
        api,
        collector,
        f"/api/weather?station_id={STATION}&limit=3",
        "trace-params",
        "GET /api/weather",
    )
    statements = [s for s in trace if "db.statement" in s.attributes]
    assert statements
    for span in statements:
        assert STATION not in json.dumps(span.attributes)
        assert not [key for key in span.attributes if "parameter" in key]


def test_a_csv_download_streams_inside_its_own_span(api: Api, collector: Collector) -> None:
    status, body, _, trace = request_trace(
        api, collector, f"/api/weather?station_id={STATION}&format=csv", "trace-csv",
        "GET /api/weather",
    )  # fmt: skip
    assert status == 200
    (root,) = [s for s in trace if not s.parent_id]
    (stream,) = [s for s in trace if s.name == "csv.stream"]
    assert stream.parent_id == root.span_id
    assert int(stream.attributes["csv.rows"]) == body.decode().count("\r\n") - 1


def test_the_access_log_trace_id_is_the_requests_trace(api: Api, collector: Collector) -> None:
    _, _, trace_id, trace = request_trace(
        api, collector, f"/api/stations/{STATION}", "trace-log", "GET /api/stations/{station_id}"
    )
    assert len(trace_id) == 32
    assert {s.trace_id for s in trace} == {trace_id}


def test_a_5xx_problem_body_carries_the_trace_id(collector: Collector, tmp_path: Path) -> None:
    # A real outage: the API's database does not listen.
    gone = f"postgresql://nobody@127.0.0.1:{free_port()}/weather"
    env = tracing_env(collector, "ww-api-outage")
    with traced_api(gone, env, tmp_path / "api.log") as api:
        status, body, trace_id, trace = request_trace(
            api, collector, "/api/weather", "trace-503", "GET /api/weather"
        )
    assert status == 503
    problem = json.loads(body)
    assert problem["trace_id"] == trace_id
    (root,) = [s for s in trace if not s.parent_id]
    assert root.attributes["http.status_code"] == "503"


def test_a_4xx_problem_body_has_no_trace_id(api: Api) -> None:
    reply = get(api.url + "/api/weather?limit=0")
    assert reply.status == 400
    assert "trace_id" not in json.loads(reply.body)


@pytest.fixture(scope="module")
def unsampled_api(system: System, collector: Collector) -> Iterator[Api]:
    """The API sampling no new trace: only a caller's sampled ``traceparent`` is traced."""
    env = tracing_env(collector, "ww-api-unsampled", ratio="0", per_second="0")
    with traced_api(system.database_url, env, system.folder / "unsampled-api.log") as running:
        yield running


def _exported_by(collector: Collector, service: str) -> list[Span]:
    return [s for s in spans(otelcol.read_lines(collector.traces_file)) if s.service == service]


def test_an_unsampled_request_exports_no_span_at_all_and_logs_no_trace_id(
    unsampled_api: Api, collector: Collector
) -> None:
    # A listing, a CSV stream and a probe: pool waits, SQL and the stream each
    # used to be able to start a trace of their own when their request had none.
    paths = ("/api/stations", f"/api/weather?station_id={STATION}&format=csv", "/readyz")
    for number, path in enumerate(paths):
        reply = get(unsampled_api.url + path, {"X-Request-ID": f"unsampled-{number}"})
        assert reply.status == 200
        assert "trace_id" not in unsampled_api.access_line(f"unsampled-{number}")
    # A sampled request sent last: once its spans are out, the earlier ones would be too.
    request_trace(
        unsampled_api, collector, "/api/stations", "sampled-marker", "GET /api/stations",
        headers={"traceparent": f"00-{'a1' * 16}-{'b2' * 8}-01"},
    )  # fmt: skip
    exported = _exported_by(collector, "ww-api-unsampled")
    assert {s.trace_id for s in exported} == {"a1" * 16}


def test_a_callers_sampled_traceparent_is_continued_whatever_the_ratio(
    unsampled_api: Api, collector: Collector
) -> None:
    caller_trace, caller_span = "c3" * 16, "d4" * 8
    _, _, trace_id, trace = request_trace(
        unsampled_api, collector, f"/api/stations/{STATION}", "continued",
        "GET /api/stations/{station_id}",
        headers={"traceparent": f"00-{caller_trace}-{caller_span}-01"},
    )  # fmt: skip
    assert trace_id == caller_trace
    (root,) = [s for s in trace if s.parent_id == caller_span]
    assert root.kind == SERVER


def test_with_the_default_sampler_a_fresh_api_traces_its_first_new_request(
    system: System, collector: Collector, tmp_path: Path
) -> None:
    # The defaults: one new trace a second, ratio 0. The bucket starts full and
    # the probes that saw the server up take no token, so this is deterministic.
    env = tracing_env(collector, "ww-api-default")
    del env["OTEL_TRACES_SAMPLER_ARG"], env["TRACING_TRACES_PER_SECOND"]
    with traced_api(system.database_url, env, tmp_path / "api.log") as api:
        _, _, trace_id, trace = request_trace(
            api, collector, "/api/stations", "default-first", "GET /api/stations"
        )
    assert {s.trace_id for s in trace} == {trace_id}


def test_a_callers_unsampled_traceparent_is_not_traced_at_ratio_one(
    api: Api, collector: Collector
) -> None:
    caller_trace = "e5" * 16
    reply = get(
        api.url + "/api/stations",
        {"X-Request-ID": "caller-unsampled", "traceparent": f"00-{caller_trace}-{'f6' * 8}-00"},
    )
    assert reply.status == 200
    assert "trace_id" not in api.access_line("caller-unsampled")
    # Ratio 1 traces the next request; once it is out, the one before would be too.
    request_trace(api, collector, "/api/stations", "after-unsampled", "GET /api/stations")
    assert not [s for s in _exported_by(collector, "ww-api-test") if s.trace_id == caller_trace]


def test_probes_and_scrapes_are_not_traced_not_even_their_sql(
    api: Api, collector: Collector
) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert get(api.url + path).status == 200
    # Ratio 1 traces the next request; once it is out, the probes' spans would be too.
    request_trace(api, collector, "/api/stations", "after-probes", "GET /api/stations")
    exported = _exported_by(collector, "ww-api-test")
    assert not [s for s in exported if not s.parent_id and s.kind != SERVER]
    assert not [s for s in exported if s.name.endswith(("/healthz", "/readyz", "/metrics"))]


@pytest.fixture(scope="module")
def ingest_trace(
    pg_server: EmbeddedPostgres, real_data: Path, collector: Collector
) -> Iterator[list[Span]]:
    """A real ingest run (two station files and the yield file) into an empty database."""
    name = postgres.new_database(pg_server)
    try:
        sources = [real_data / "wx_data" / s for s in STATIONS]
        sources.append(real_data / "yld_data" / "US_corn_grain_yield.txt")
        env = {"DATABASE_URL": pg_server.url(name), **tracing_env(collector, "ww-ingest-test")}
        result = cli.run("ingest", *[a for s in sources for a in ("--source", str(s))], env=env)
        assert result.returncode == 0, result.stderr

        def whole_run() -> list[Span] | None:
            found = [s for s in spans(otelcol.read_lines(collector.traces_file))
                     if s.service == "ww-ingest-test"]  # fmt: skip
            if any(s.name == "ingest.run" for s in found) and _complete(found):
                return found
            return None

        yield wait_for(whole_run, "the ingest run's spans")
    finally:
        postgres.drop_database(pg_server, name)


def test_an_ingest_run_is_one_trace_under_its_run_span(ingest_trace: list[Span]) -> None:
    (root,) = [s for s in ingest_trace if not s.parent_id]
    assert root.name == "ingest.run"
    assert {s.trace_id for s in ingest_trace} == {root.trace_id}
    assert root.attributes["ingest.exit_code"] == "0"
    assert root.attributes["ingest.files_loaded"] == "3"


def test_every_file_has_a_span_named_for_its_uri(ingest_trace: list[Span]) -> None:
    files = [s for s in ingest_trace if s.name == "ingest.file"]
    # A set: on a first load, a file the bulk COPY cannot take (the yield file)
    # is read and parsed again when it is merged on its own.
    uris = {Path(s.attributes["ingest.file.uri"]).name for s in files}
    assert uris == {*STATIONS, "US_corn_grain_yield.txt"}
    assert all(int(s.attributes["ingest.file.bytes"]) > 0 for s in files)


def test_copy_and_statistics_are_spans_of_the_run(ingest_trace: list[Span]) -> None:
    by_id = {s.span_id: s for s in ingest_trace}
    names = {s.name for s in ingest_trace}
    copies = [s for s in ingest_trace if s.name.startswith("COPY ")]
    assert copies
    assert all(s.attributes["db.operation.name"] == "COPY" for s in copies)
    assert "ingest.statistics" in names or any(s.name == "ingest.bulk_load" for s in ingest_trace)
    for span in ingest_trace:
        top = span
        while top.parent_id:
            top = by_id[top.parent_id]
        assert top.name == "ingest.run", span.name
