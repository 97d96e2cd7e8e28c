// A station's page: its days over a chosen range (temperatures and
// precipitation, zoomable), its yearly and monthly statistics, each chart
// with its table and the API request behind it.

import { apiUrl, getAll, getJson } from "./api.js";
import { el, epoch, figure, timeChart } from "./charts.js";
import { indicesSection, stationIndices } from "./indices.js";

const TMAX = { label: "Maximum temperature", color: "#c0392b", unit: "°C" };
const TMIN = { label: "Minimum temperature", color: "#2a6fb0", unit: "°C" };
const RAIN = { color: "#3c8d5a", bars: true, scale: "rain" };

/**
 * The station page for ``id``; ``range`` is [start, end] ISO days or empty for the
 * station's last year of data. Resolves once every chart is drawn.
 */
export async function renderStation(view, id, range) {
  const years = { station_id: id };
  // What needs no range is asked at once, beside the station (the range needs its
  // last day); each figure is drawn as soon as its data are in, in page order.
  const [station, yearlyAsked, indicesAsked] = await settled([
    getJson(apiUrl(`/api/stations/${encodeURIComponent(id)}`)),
    getAll("/api/weather/stats", years),
    stationIndices(id),
  ]);
  const [start, end] = range.length === 2 ? range : lastYear(station);
  const firstYear = Number(start.slice(0, 4));
  const lastYearOf = Number(end.slice(0, 4));
  const daily = { station_id: id, start_date: start, end_date: end };
  const months = { station_id: id, start_year: firstYear, end_year: lastYearOf };
  const monthlyAsked = getAll("/api/weather/stats/monthly", months);
  monthlyAsked.catch(() => {}); // awaited below, after the days
  const days = await getAll("/api/weather", daily);

  const figures = el("div", { class: "figures" });
  view.replaceChildren(heading(station), rangeForm(station, start, end), figures);

  const x = days.map((d) => epoch(d.date));
  const dailyCols = [
    { key: "date", label: "Date" }, { key: "max_temp_c", label: "Maximum (°C)" },
    { key: "min_temp_c", label: "Minimum (°C)" }, { key: "precip_mm", label: "Precipitation (mm)" }];
  const dailyRequest = [{ label: "Daily values", url: apiUrl("/api/weather", { ...daily, limit: 1000 }) }];
  draw(figures, { id: "daily-temperature", title: `Daily temperatures, ${start} to ${end}`, requests: dailyRequest, columns: dailyCols, rows: days },
    (slot) => timeChart(slot, { x, rows: days, series: [{ ...TMAX, key: "max_temp_c" }, { ...TMIN, key: "min_temp_c" }] }));
  draw(figures, { id: "daily-precipitation", title: `Daily precipitation, ${start} to ${end}`, requests: dailyRequest, columns: dailyCols, rows: days },
    (slot) => timeChart(slot, { x, rows: days, height: 180, series: [{ ...RAIN, label: "Precipitation", key: "precip_mm", unit: "mm", scale: "y" }] }));

  // The first meaningful paint: the station's days are on screen (bench/explore.py reads it).
  performance.mark("explore-first-chart");
  const yearly = await yearlyAsked;
  const statCols = (first) => [...first,
    { key: "avg_max_temp_c", label: "Mean maximum (°C)" }, { key: "avg_min_temp_c", label: "Mean minimum (°C)" },
    { key: "total_precip_cm", label: "Total precipitation (cm)" }, { key: "precip_days", label: "Days with precipitation data" }];
  const statSeries = [
    { ...TMAX, label: "Mean maximum", key: "avg_max_temp_c" },
    { ...TMIN, label: "Mean minimum", key: "avg_min_temp_c" },
    { ...RAIN, label: "Total precipitation", key: "total_precip_cm", unit: "cm" }];
  draw(figures, {
    id: "yearly-stats", title: "Yearly statistics, every year",
    requests: [{ label: "Yearly statistics", url: apiUrl("/api/weather/stats", { ...years, limit: 1000 }) }],
    columns: statCols([{ key: "year", label: "Year" }]), rows: yearly,
  }, (slot) => timeChart(slot, { x: yearly.map((r) => epoch(`${r.year}-07-01`)), rows: yearly, series: statSeries }));
  const monthly = await monthlyAsked;
  const monthRows = monthly.map((r) => ({ ...r, month_of: `${r.year}-${String(r.month).padStart(2, "0")}` }));
  draw(figures, {
    id: "monthly-stats", title: `Monthly statistics, ${firstYear} to ${lastYearOf}`,
    requests: [{ label: "Monthly statistics", url: apiUrl("/api/weather/stats/monthly", { ...months, limit: 1000 }) }],
    columns: statCols([{ key: "month_of", label: "Month" }]), rows: monthRows,
  }, (slot) => timeChart(slot, { x: monthRows.map((r) => epoch(`${r.month_of}-15`)), rows: monthRows, series: statSeries }));
  indicesSection(figures, id, await indicesAsked);
}

/**
 * The first value and the promises after it, once the first has settled. The others
 * get a handler at once, so that one failing while the first is awaited is not
 * reported as unhandled; whoever awaits them later still sees its error.
 */
async function settled([first, ...rest]) {
  for (const promise of rest) promise.catch(() => {});
  return [await first, ...rest];
}

function draw(container, spec, plot) {
  const { box, chart } = figure(spec);
  container.append(box);
  plot(chart);
}

function lastYear(station) {
  const end = station.last_date ?? new Date().toISOString().slice(0, 10);
  const start = `${end.slice(0, 4)}-01-01`;
  return [station.first_date && station.first_date > start ? station.first_date : start, end];
}

function heading(s) {
  const place = [s.name, s.state].filter(Boolean).join(", ");
  const facts = [
    s.latitude !== null ? `${s.latitude}, ${s.longitude}` : "position unknown",
    s.elevation_m !== null ? `${s.elevation_m} m` : null,
    s.first_date ? `data ${s.first_date} to ${s.last_date}` : "no observations",
    `${s.observation_count.toLocaleString("en")} days`,
  ].filter(Boolean);
  return el("header", { class: "station" },
    el("p", {}, el("a", { href: "#/" }, "← All stations")),
    el("h2", { id: "station-name" }, `${place || s.station_id} (${s.station_id})`),
    el("p", {}, facts.join(" · ")));
}

function rangeForm(s, start, end) {
  const from = el("input", { id: "range-start", type: "date", value: start, min: s.first_date, max: s.last_date, required: "" });
  const to = el("input", { id: "range-end", type: "date", value: end, min: s.first_date, max: s.last_date, required: "" });
  const form = el("form", { class: "inline", "aria-label": "Range of the daily charts" },
    el("label", { for: "range-start" }, "From "), from,
    el("label", { for: "range-end" }, " to "), to,
    el("button", { type: "submit" }, "Show these days"),
    el("span", { class: "hint" }, " Drag across a chart to zoom in, double-click to zoom out."));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.location.hash = `#/station/${s.station_id}/${from.value}/${to.value}`;
  });
  return form;
}
