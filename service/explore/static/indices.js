// The climate indices of issue 22 (/api/weather/indices): not served by this
// API yet, so the station page says so instead of drawing them.

import { el } from "./charts.js";

/** The indices of station ``id`` as a table and small multiples (waiting for the endpoint). */
export async function indicesSection(container, id) {
  container.append(el("section", { id: "indices", class: "figure" },
    el("h3", {}, "Climate indices"),
    el("p", {}, `The yearly climate indices of ${id} (frost days, summer days, growing degree days, …) appear here once the API serves /api/weather/indices.`)));
}
