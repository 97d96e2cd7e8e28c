// The climate indices (issue 22: /api/weather/indices and /api/yield/indices):
// a table and small multiples on the station page, and the season figures of
// the yield view. Where the API does not serve them yet, the page says so.

import { apiUrl, getAll, getJson } from "./api.js";
import { el, epoch, figure, timeChart } from "./charts.js";

/** Every index of a row, with its label and unit (docs/indices.md of the API). */
export const INDICES = [
  ["fd", "Frost days (TN < 0 °C)", "days"], ["su", "Summer days (TX > 25 °C)", "days"],
  ["id", "Icing days (TX < 0 °C)", "days"], ["tr", "Tropical nights (TN > 20 °C)", "days"],
  ["txx", "Highest maximum (TXx)", "°C"], ["txn", "Lowest maximum (TXn)", "°C"],
  ["tnx", "Highest minimum (TNx)", "°C"], ["tnn", "Lowest minimum (TNn)", "°C"],
  ["dtr", "Daily temperature range (DTR)", "°C"], ["rx1day", "Wettest day (Rx1day)", "mm"],
  ["rx5day", "Wettest 5 days (Rx5day)", "mm"], ["sdii", "Wet-day intensity (SDII)", "mm/day"],
  ["r10mm", "Days with ≥ 10 mm", "days"], ["r20mm", "Days with ≥ 20 mm", "days"],
  ["cdd", "Longest dry spell (CDD)", "days"], ["cwd", "Longest wet spell (CWD)", "days"],
  ["prcptot", "Wet-day precipitation (PRCPTOT)", "mm"],
  ["gdd", "Corn growing degree days, May–September", "°C·days"],
  ["season_prcp", "Season precipitation, May–September", "mm"],
].map(([key, label, unit]) => ({ key, label, unit }));
const DATES = [
  { key: "last_spring_frost", label: "Last spring frost" },
  { key: "first_autumn_frost", label: "First autumn frost" },
];

let served = null;

/** Whether this API serves the indices: its JSON index links them (one small request). */
export async function indicesServed() {
  if (served === null) {
    const index = await getJson(apiUrl("/api"));
    served = index.links.some((link) => new URL(link.href, window.location.href).pathname.endsWith("/api/weather/indices"));
  }
  return served;
}

/** The indices of station ``id``, every year; null when the API does not serve them. */
export async function stationIndices(id) {
  return (await indicesServed()) ? getAll("/api/weather/indices", { station_id: id }) : null;
}

/** The indices ``rows`` of station ``id``: small multiples and their table. */
export function indicesSection(container, id, rows) {
  const section = el("section", { id: "indices", class: "figure", "aria-labelledby": "indices-title" },
    el("h3", { id: "indices-title" }, "Climate indices, every year"));
  container.append(section);
  if (rows === null) {
    section.append(el("p", {}, "This API does not serve the climate indices (/api/weather/indices) yet."));
    return;
  }
  const params = { station_id: id };
  const { box } = figure({
    id: "indices-table", title: "The indices, year by year",
    requests: [{ label: "Climate indices", url: apiUrl("/api/weather/indices", { ...params, limit: 1000 }) }],
    columns: [{ key: "year", label: "Year" }, ...INDICES.map((i) => ({ key: i.key, label: `${i.label} (${i.unit})` })), ...DATES],
    rows,
  });
  box.querySelector(".chart").remove(); // the small multiples below are its charts
  box.querySelector("details").open = true;
  const multiples = el("div", { class: "multiples" });
  section.append(multiples, box);
  const x = rows.map((r) => epoch(`${r.year}-07-01`));
  for (const index of INDICES) {
    const slot = el("div", { class: "chart small", id: `index-${index.key}-chart`, role: "img", "aria-label": `${index.label} by year; the table below holds its values` });
    multiples.append(el("figure", { class: "small-multiple" }, el("figcaption", {}, `${index.label} (${index.unit})`), slot));
    timeChart(slot, { x, rows, height: 140, width: 260, legend: false, series: [{ key: index.key, label: index.label, color: "#2a6fb0", unit: index.unit }] });
  }
}
