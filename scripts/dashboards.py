"""Grafana dashboards as code: write the chart's dashboard JSON from one Python source.

    .venv/bin/python scripts/dashboards.py            # rewrite the chart's files/dashboards/
    .venv/bin/python scripts/dashboards.py --out DIR  # write elsewhere (the tests compare)

Every panel queries the ``${datasource}`` Prometheus data source. API panels
select ``namespace="$namespace"`` (the label the ServiceMonitor scrape adds);
ingest panels select ``job="$ingest_job"`` (the Pushgateway job the CronJob
pushes under, ``PUSHGATEWAY_JOB``), because pushed series carry no pod namespace.
The metric names are the contract in docs/observability.md.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

OUT = Path(__file__).resolve().parent.parent / "helm" / "weather-warehouse" / "files" / "dashboards"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
API = 'namespace="$namespace"'
INGEST = 'job="$ingest_job"'
RATE = "[$__rate_interval]"
REQUESTS = f"weather_warehouse_http_requests_total{{{API}}}"
ERRORS = f'weather_warehouse_http_requests_total{{{API},status=~"5.."}}'
BUCKETS = f"weather_warehouse_http_request_duration_seconds_bucket{{{API}}}"

Target = tuple[str, str]  # (PromQL expression, legend)
PanelBuilder = dash.Panel | timeseries.Panel | stat.Panel


def query(expr: str, legend: str, ref: str) -> prometheus.Dataquery:
    """A range query for a time series panel."""
    return (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend)
        .ref_id(ref)
        .range()
        .datasource(DATASOURCE)
    )


def graph(
    title: str, description: str, unit: str, targets: Sequence[Target], width: int = 12
) -> timeseries.Panel:
    """A time series panel with one query per target."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .min(0)
        .span(width)
        .height(8)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.NEVER)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(
            common_builders.VizTooltipOptions()
            .mode(common.TooltipDisplayMode.MULTI)
            .sort(common.SortOrder.DESCENDING)
        )
    )
    for index, (expr, legend) in enumerate(targets):
        panel.with_target(query(expr, legend, chr(ord("A") + index)))
    return panel


def single(
    title: str,
    description: str,
    unit: str,
    expr: str,
    *,
    thresholds: Sequence[tuple[float | None, str]] = ((None, "green"),),
    mappings: Sequence[model.ValueMapping] = (),
) -> stat.Panel:
    """A stat panel showing the latest value of one instant query."""
    steps = [model.Threshold(value=value, color=color) for value, color in thresholds]
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(6)
        .height(5)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(dash.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(steps))
        .with_target(prometheus.Dataquery().expr(expr).ref_id("A").instant().datasource(DATASOURCE))
    )
    if mappings:
        panel.mappings(list(mappings))
    return panel


def datasource_variable() -> dash.DatasourceVariable:
    return dash.DatasourceVariable("datasource").label("Data source").type("prometheus")


def label_variable(name: str, label: str, metric: str, target_label: str) -> dash.QueryVariable:
    """A variable listing the values of ``target_label`` on ``metric``."""
    return (
        dash.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(f"label_values({metric}, {target_label})")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )


def alerts_annotation() -> dash.AnnotationQuery:
    """Grafana's built-in annotations and alerts (what Grafana adds to a new dashboard)."""
    return (
        dash.AnnotationQuery()
        .name("Annotations & Alerts")
        .datasource(model.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
        .enable(True)
        .hide(True)
        .icon_color("rgba(0, 211, 255, 1)")
        .type("dashboard")
    )


def ingest_runs_annotation() -> dash.AnnotationQuery:
    """A marker on every graph wherever an ingest run finished."""
    return (
        dash.AnnotationQuery()
        .name("Ingest runs")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("purple")
        .expr(f"changes(weather_warehouse_ingest_last_run_timestamp_seconds{{{INGEST}}}[2m]) > 0")
    )


def base(uid: str, title: str, description: str) -> dash.Dashboard:
    return (
        dash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["weather-warehouse"])
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("utc")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
        .annotation(alerts_annotation())
    )


def api_dashboard() -> dash.Dashboard:
    """Traffic, errors and latency by route, and the database connection pools."""
    board = base(
        "weather-warehouse-api",
        "Weather Warehouse / API",
        "The HTTP API: request rate, errors and latency by route, database pools.",
    ).with_variable(
        label_variable(
            "namespace", "Namespace", "weather_warehouse_http_requests_total", "namespace"
        )
    )
    board.with_row(dash.Row("Traffic and errors"))
    board.with_panel(
        graph(
            "Requests per second by route",
            "Rate of finished requests, by route template.",
            "reqps",
            [(f"sum by (route) (rate({REQUESTS}{RATE}))", "{{route}}")],
        )
    )
    board.with_panel(
        graph(
            "Server error ratio (5xx)",
            "Share of requests answered with a 5xx status. The ApiHighErrorRatio alert "
            "fires above its threshold.",
            "percentunit",
            [
                (
                    f"sum(rate({ERRORS}{RATE})) / sum(rate({REQUESTS}{RATE}))",
                    "5xx ratio",
                )
            ],
        )
    )
    board.with_panel(
        graph(
            "Responses by status",
            "Rate of responses by HTTP status code.",
            "reqps",
            [(f"sum by (status) (rate({REQUESTS}{RATE}))", "{{status}}")],
        )
    )
    board.with_panel(
        graph(
            "Requests in flight",
            "Requests being served right now, summed over pods.",
            "short",
            [(f"sum(weather_warehouse_http_requests_in_flight{{{API}}})", "in flight")],
        )
    )
    board.with_row(dash.Row("Latency"))
    board.with_panel(
        graph(
            "Latency quantiles",
            "p50, p90 and p99 of request duration over all routes.",
            "s",
            [
                (f"histogram_quantile({q}, sum by (le) (rate({BUCKETS}{RATE})))", f"p{p}")
                for q, p in (("0.5", "50"), ("0.9", "90"), ("0.99", "99"))
            ],
        )
    )
    board.with_panel(
        graph(
            "p99 latency by route",
            "99th percentile of request duration, by route template.",
            "s",
            [
                (
                    f"histogram_quantile(0.99, sum by (route, le) (rate({BUCKETS}{RATE})))",
                    "{{route}}",
                )
            ],
        )
    )
    board.with_row(dash.Row("Database pool"))
    board.with_panel(
        graph(
            "Connections in use",
            "Connections checked out of each pool (read, primary) against the pool size.",
            "short",
            [
                (
                    f"sum by (pool) (weather_warehouse_db_pool_connections_in_use{{{API}}})",
                    "{{pool}} in use",
                ),
                (f"sum by (pool) (weather_warehouse_db_pool_size{{{API}}})", "{{pool}} size"),
            ],
        )
    )
    board.with_panel(
        graph(
            "Requests waiting for a connection",
            "Requests queued for a pooled connection: above zero for long means the pool "
            "is too small or queries are slow.",
            "short",
            [
                (
                    f"sum by (pool) (weather_warehouse_db_pool_requests_waiting{{{API}}})",
                    "{{pool}}",
                )
            ],
        )
    )
    return board


def _success_mapping() -> model.ValueMap:
    return model.ValueMap(
        options={
            "0": model.ValueMappingResult(text="failed", color="red", index=0),
            "1": model.ValueMappingResult(text="succeeded", color="green", index=1),
        }
    )


def ingest_dashboard() -> dash.Dashboard:
    """The ingest job's last runs and how fresh the served data is."""
    board = (
        base(
            "weather-warehouse-ingest",
            "Weather Warehouse / Ingest and data freshness",
            "The ingest CronJob's runs (pushed to the Pushgateway) and the age of the data "
            "the API serves.",
        )
        .with_variable(
            label_variable(
                "ingest_job",
                "Ingest job (Pushgateway)",
                "weather_warehouse_ingest_last_run_timestamp_seconds",
                "job",
            )
        )
        .with_variable(
            label_variable(
                "namespace",
                "API namespace",
                "weather_warehouse_latest_observation_timestamp_seconds",
                "namespace",
            )
        )
    )
    board.annotation(ingest_runs_annotation())
    board.with_row(dash.Row("Last run"))
    board.with_panel(
        single(
            "Last run",
            "Outcome of the most recent ingest run: failed if any shard's last run failed.",
            "none",
            f"min(weather_warehouse_ingest_success{{{INGEST}}})",
            thresholds=((None, "red"), (1, "green")),
            mappings=(_success_mapping(),),
        )
    )
    board.with_panel(
        single(
            "Since last successful run",
            "Time since the last ingest run that succeeded (pushed by the job); with shards, "
            "the shard whose last success is oldest.",
            "s",
            f"time() - min(weather_warehouse_ingest_last_success_timestamp_seconds{{{INGEST}}})",
            thresholds=((None, "green"), (129600, "orange"), (172800, "red")),
        )
    )
    board.with_panel(
        single(
            "Since last successful run (database)",
            "Time since the finish of the latest succeeded ingest run recorded in the "
            "database, as the API reports it.",
            "s",
            f"time() - (max(weather_warehouse_last_ingest_success_timestamp_seconds{{{API}}}) > 0)",
            thresholds=((None, "green"), (129600, "orange"), (172800, "red")),
        )
    )
    board.with_panel(
        single(
            "Last run duration",
            "Wall-clock duration of the most recent run (with shards, its slowest shard).",
            "s",
            f"max(weather_warehouse_ingest_duration_seconds{{{INGEST}}})",
        )
    )
    board.with_row(dash.Row("Runs"))
    board.with_panel(
        graph(
            "Rows by outcome",
            "Observation and yield rows of the last run: inserted, updated, rejected.",
            "short",
            [(f"sum by (outcome) (weather_warehouse_ingest_rows{{{INGEST}}})", "{{outcome}}")],
        )
    )
    board.with_panel(
        graph(
            "Files by outcome",
            "Files of the last run: loaded, skipped (already loaded), rejected, failed.",
            "short",
            [(f"sum by (outcome) (weather_warehouse_ingest_files{{{INGEST}}})", "{{outcome}}")],
        )
    )
    board.with_panel(
        graph(
            "Values rejected by quality control",
            "Values of the last run set aside as missing or implausible (-9999, out of range).",
            "short",
            [(f"sum(weather_warehouse_ingest_values_rejected_qc{{{INGEST}}})", "rejected")],
        )
    )
    board.with_panel(
        graph(
            "Run duration",
            "Wall-clock duration of each run.",
            "s",
            [(f"max(weather_warehouse_ingest_duration_seconds{{{INGEST}}})", "duration")],
        )
    )
    board.with_row(dash.Row("Shards"))
    board.with_panel(
        graph(
            "Run duration by shard",
            "Wall-clock duration of each shard's runs (ingest.shards > 1: an Indexed Job, one "
            "pod per shard). A shard far slower than the others holds the big stations.",
            "s",
            [
                (
                    f"max by (shard) (weather_warehouse_ingest_duration_seconds{{{INGEST}}})",
                    "shard {{shard}}",
                )
            ],
        )
    )
    board.with_panel(
        graph(
            "Rows inserted by shard",
            "Observation rows each shard's last run inserted.",
            "short",
            [
                (
                    "sum by (shard) "
                    f'(weather_warehouse_ingest_rows{{{INGEST},outcome="inserted"}})',
                    "shard {{shard}}",
                )
            ],
        )
    )
    board.with_panel(
        graph(
            "Since last success by shard",
            "Time since each shard's last successful run. A shard left from an earlier, larger "
            "ingest.shards keeps its old figures in the Pushgateway until its group is deleted.",
            "s",
            [
                (
                    f"time() - max by (shard) "
                    f"(weather_warehouse_ingest_last_success_timestamp_seconds{{{INGEST}}})",
                    "shard {{shard}}",
                )
            ],
        )
    )
    board.with_row(dash.Row("Data freshness"))
    board.with_panel(
        single(
            "Age of the newest observation",
            "Time since the newest observation date (midnight UTC) the API can serve.",
            "s",
            f"time() - (max(weather_warehouse_latest_observation_timestamp_seconds{{{API}}}) > 0)",
            thresholds=((None, "green"), (864000, "orange"), (2592000, "red")),
        )
    )
    board.with_panel(
        single(
            "Newest observation date",
            "The newest observation date in the database.",
            "dateTimeAsIsoNoDateIfToday",
            f"max(weather_warehouse_latest_observation_timestamp_seconds{{{API}}}) * 1000",
        )
    )
    return board


DASHBOARDS: dict[str, Callable[[], dash.Dashboard]] = {
    "api.json": api_dashboard,
    "ingest.json": ingest_dashboard,
}


def render(builder: Callable[[], dash.Dashboard]) -> str:
    """The dashboard as stable, reviewable JSON (sorted keys, two-space indent)."""
    board = builder().build()
    # Grafana needs distinct panel ids; the builders leave them unset.
    for number, panel in enumerate(board.panels or [], start=1):
        panel.id_val = number
    return json.dumps(board, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write (default {OUT})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, builder in DASHBOARDS.items():
        (args.out / name).write_text(render(builder), encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
