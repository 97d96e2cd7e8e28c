// The yield view: each year's US corn yield against a weather figure averaged
// over the stations of the map's view, as a scatter with the year on each point.

import { apiUrl, getAll } from "./api.js";
import { el, figure, scatter } from "./charts.js";
import { allStations } from "./map.js";

// The API's station filter takes at most this many ids per request.
const IDS_PER_REQUEST = 100;
// The figures the yearly statistics give; the season indices of issue 22 join them once served.
const CHOICES = [
  { key: "total_precip_cm", label: "Yearly precipitation (cm), station mean" },
  { key: "avg_max_temp_c", label: "Mean daily maximum temperature (°C), station mean" },
  { key: "avg_min_temp_c", label: "Mean daily minimum temperature (°C), station mean" },
];

/** The yield view for the stations in ``bbox`` (west,south,east,north), or every station. */
export async function renderYield(view, bbox, chosen) {
  const stations = bbox
    ? await getAll("/api/stations/search", { bbox: bbox.join(",") })
    : await allStations();
  const ids = stations.filter((s) => s.observation_count > 0).map((s) => s.station_id);
  // Up to the filter's limit the request names the stations; beyond it one request
  // reads every station's statistics (a few pages) and the page keeps those in view.
  const filter = ids.length <= IDS_PER_REQUEST ? { station_id: ids } : {};
  const wanted = new Set(ids);
  const [yields, all] = await Promise.all([getAll("/api/yield"), ids.length ? getAll("/api/weather/stats", filter) : []]);
  const stats = all.filter((row) => wanted.has(row.station_id));
  const choice = CHOICES.find((c) => c.key === chosen) ?? CHOICES[0];
  const means = yearlyMeans(stats, choice.key);
  const rows = yields.filter((y) => means.has(y.year) && y.corn_yield_kt !== null)
    .map((y) => ({ year: y.year, index: round(means.get(y.year).mean), stations: means.get(y.year).count, corn_yield_kt: y.corn_yield_kt }));

  const where = bbox ? `the ${ids.length} stations with data in ${bbox.join(", ")} (west, south, east, north)` : `all ${ids.length} stations with data`;
  const { box, chart } = figure({
    id: "yield-scatter",
    title: `Corn yield against ${choice.label.toLowerCase()}, ${where}`,
    requests: [
      { label: "Corn yield", url: apiUrl("/api/yield", { limit: 1000 }) },
      { label: "Yearly statistics", url: apiUrl("/api/weather/stats", { ...filter, limit: 1000 }) },
    ],
    columns: [{ key: "year", label: "Year" }, { key: "index", label: choice.label }, { key: "stations", label: "Stations averaged" }, { key: "corn_yield_kt", label: "Corn yield (thousand t)" }],
    rows,
  });
  view.replaceChildren(
    el("h2", {}, "Corn yield and the weather"),
    el("p", {}, "The US corn-grain yield of each year beside a figure of that year's weather, averaged over the stations of the map's view (choose the view on the ",
      el("a", { href: "#/" }, "map"), ")."),
    choiceForm(bbox, choice),
    box);
  scatter(chart, { points: rows.map((r) => ({ x: r.index, y: r.corn_yield_kt, label: String(r.year) })), xLabel: choice.label, yLabel: "Corn yield (thousand metric tons)" });
}

function yearlyMeans(stats, key) {
  const sums = new Map();
  for (const row of stats) {
    const value = row[key];
    if (value === null || value === undefined) continue;
    const entry = sums.get(row.year) ?? { sum: 0, count: 0 };
    entry.sum += value;
    entry.count += 1;
    sums.set(row.year, entry);
  }
  return new Map([...sums].map(([year, { sum, count }]) => [year, { mean: sum / count, count }]));
}

function round(value) {
  return Math.round(value * 100) / 100;
}

function choiceForm(bbox, choice) {
  const select = el("select", { id: "yield-index" },
    ...CHOICES.map((c) => {
      const option = el("option", { value: c.key }, c.label);
      option.selected = c.key === choice.key;
      return option;
    }));
  select.addEventListener("change", () => {
    window.location.hash = `#/yield/${bbox ? bbox.join(",") : "all"}/${select.value}`;
  });
  return el("form", { class: "inline" }, el("label", { for: "yield-index" }, "Weather figure "), select);
}
