// The yield view: each year's US corn yield against a weather figure averaged
// over the stations of the map's view, as a scatter with the year on each point.
// The season figures come from /api/yield/indices (one request: the API averages),
// the yearly means and totals from /api/weather/stats (averaged here).

import { apiUrl, getAll } from "./api.js";
import { el, figure, scatter } from "./charts.js";
import { indicesServed } from "./indices.js";
import { allStations } from "./map.js";

// The API's station filter takes at most this many ids per request.
const IDS_PER_REQUEST = 100;
const SEASON = [
  { key: "gdd", label: "Season growing degree days (°C·days)" },
  { key: "season_prcp", label: "Season precipitation, May–September (mm)" },
  { key: "su", label: "Hot days: summer days, TX > 25 °C (days)" },
].map((c) => ({ ...c, source: "indices" }));
const YEARLY = [
  { key: "total_precip_cm", label: "Yearly precipitation (cm)" },
  { key: "avg_max_temp_c", label: "Mean daily maximum temperature (°C)" },
  { key: "avg_min_temp_c", label: "Mean daily minimum temperature (°C)" },
].map((c) => ({ ...c, source: "stats" }));

/** The yield view for the stations in ``bbox`` (west,south,east,north), or every station. */
export async function renderYield(view, bbox, chosen) {
  const [stations, withIndices] = await Promise.all([
    bbox ? getAll("/api/stations/search", { bbox: bbox.join(",") }) : allStations(),
    indicesServed(),
  ]);
  const choices = withIndices ? [...SEASON, ...YEARLY] : YEARLY;
  const choice = choices.find((c) => c.key === chosen) ?? choices[0];
  const ids = stations.filter((s) => s.observation_count > 0).map((s) => s.station_id);
  const { rows, requests } = choice.source === "indices"
    ? await fromIndices(ids, !bbox, choice.key)
    : await fromStats(ids, choice.key);

  const where = bbox ? `the ${ids.length} stations with data in ${bbox.join(", ")} (west, south, east, north)` : `all ${ids.length} stations with data`;
  const { box, chart } = figure({
    id: "yield-scatter",
    title: `Corn yield against ${lowerFirst(choice.label)}, mean of ${where}`,
    requests,
    columns: [{ key: "year", label: "Year" }, { key: "index", label: choice.label },
      { key: "stations", label: "Stations averaged" }, { key: "corn_yield_kt", label: "Corn yield (thousand t)" }],
    rows,
  });
  view.replaceChildren(
    el("h2", {}, "Corn yield and the weather"),
    el("p", {}, "The US corn-grain yield of each year beside a figure of that year's weather, averaged over the stations of the map's view (choose the view on the ",
      el("a", { href: "#/" }, "map"), ")."),
    withIndices ? "" : el("p", {}, "Season figures (growing degree days, season precipitation, hot days) appear once this API serves /api/yield/indices."),
    choiceForm(bbox, choices, choice),
    box);
  scatter(chart, { points: rows.map((r) => ({ x: r.index, y: r.corn_yield_kt, label: String(r.year) })), xLabel: `${choice.label}, station mean`, yLabel: "Corn yield (thousand metric tons)" });
}

/** Yield and the yearly statistics, averaged over the stations here. */
async function fromStats(ids, key) {
  // Up to the filter's limit the request names the stations; beyond it one request
  // reads every station's statistics (a few pages) and the page keeps those in view.
  const filter = ids.length <= IDS_PER_REQUEST ? { station_id: ids } : {};
  const wanted = new Set(ids);
  const [yields, all] = await Promise.all([getAll("/api/yield"), ids.length ? getAll("/api/weather/stats", filter) : []]);
  const sums = new Map();
  for (const row of all) {
    if (!wanted.has(row.station_id) || row[key] === null) continue;
    add(sums, row.year, row[key], 1);
  }
  const rows = yields.filter((y) => sums.has(y.year) && y.corn_yield_kt !== null)
    .map((y) => ({ year: y.year, corn_yield_kt: y.corn_yield_kt, ...mean(sums.get(y.year)) }));
  return {
    rows,
    requests: [
      { label: "Corn yield", url: apiUrl("/api/yield", { limit: 1000 }) },
      { label: "Yearly statistics", url: apiUrl("/api/weather/stats", { ...filter, limit: 1000 }) },
    ],
  };
}

/** Yield beside the mean of one index, from the API's own averages. */
async function fromIndices(ids, everyStation, key) {
  const groups = [];
  if (everyStation) groups.push({});
  else for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) groups.push({ station_id: ids.slice(i, i + IDS_PER_REQUEST) });
  const answers = await Promise.all(groups.map((g) => getAll("/api/yield/indices", { ...g, index: key })));
  // Over more than one request: the groups' means weighted by how many stations each averaged.
  const sums = new Map();
  const yields = new Map();
  for (const row of answers.flat()) {
    yields.set(row.year, row.corn_yield_kt);
    if (row[key] !== null && row.stations > 0) add(sums, row.year, row[key] * row.stations, row.stations);
  }
  const rows = [...sums.keys()].sort().filter((year) => yields.get(year) !== null)
    .map((year) => ({ year, corn_yield_kt: yields.get(year), ...mean(sums.get(year)) }));
  return {
    rows,
    requests: groups.map((g, i) => ({
      label: groups.length > 1 ? `Yield and index, stations ${i * IDS_PER_REQUEST + 1}–${i * IDS_PER_REQUEST + g.station_id.length}` : "Yield and index",
      url: apiUrl("/api/yield/indices", { ...g, index: key, limit: 1000 }),
    })),
  };
}

function add(sums, year, value, count) {
  const entry = sums.get(year) ?? { sum: 0, count: 0 };
  entry.sum += value;
  entry.count += count;
  sums.set(year, entry);
}

function mean({ sum, count }) {
  return { index: Math.round((sum / count) * 100) / 100, stations: count };
}

function lowerFirst(text) {
  return text[0].toLowerCase() + text.slice(1);
}

function choiceForm(bbox, choices, choice) {
  const select = el("select", { id: "yield-index" },
    ...choices.map((c) => {
      const option = el("option", { value: c.key }, c.label);
      option.selected = c.key === choice.key;
      return option;
    }));
  select.addEventListener("change", () => {
    window.location.hash = `#/yield/${bbox ? bbox.join(",") : "all"}/${select.value}`;
  });
  return el("form", { class: "inline" }, el("label", { for: "yield-index" }, "Weather figure "), select);
}
