// The stations map: outlines shipped with the page, every station as a dot,
// pan and zoom (mouse, or the buttons from the keyboard), search by name or
// id, and the stations nearest a clicked point or typed coordinates.

import { apiUrl, asset, getAll, getJson } from "./api.js";
import { el, requestBox } from "./charts.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 960;
const HEIGHT = 560;
const NEAREST = 5;
const MAX_ZOOM = 64;

let basemap = null; // {countries, states} GeoJSON, read once
let stations = null; // every station, read once per page load

async function loadBasemap() {
  if (!basemap) {
    const [world, us] = await Promise.all([
      fetch(asset("vendor/world-atlas/countries-110m.json")).then((r) => r.json()),
      fetch(asset("vendor/us-atlas/states-10m.json")).then((r) => r.json()),
    ]);
    basemap = {
      countries: topojson.feature(world, world.objects.countries),
      states: topojson.mesh(us, us.objects.states, (a, b) => a !== b),
      nation: topojson.mesh(us, us.objects.nation),
    };
  }
  return basemap;
}

/** Every station (one request: the API serves up to 1000 a page). */
export async function allStations() {
  if (!stations) stations = await getAll("/api/stations");
  return stations;
}

function svgEl(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** The map view, rendered into ``view``; ``state`` keeps the zoom between visits. */
export async function renderMap(view, state) {
  const [outline, list] = await Promise.all([loadBasemap(), allStations()]);
  const placed = list.filter((s) => s.latitude !== null && s.longitude !== null);
  // The first view frames the stations that have data; the others (inventory rows
  // without observations, anywhere in the world) are drawn too, hollow.
  const framed = placed.filter((s) => s.observation_count > 0);
  const points = { type: "MultiPoint", coordinates: (framed.length ? framed : placed).map((s) => [s.longitude, s.latitude]) };
  const projection = d3.geoAlbers().rotate([96, 0]).fitExtent([[40, 40], [WIDTH - 40, HEIGHT - 40]], points);
  const path = d3.geoPath(projection);

  const svg = svgEl("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "map", role: "img",
    "aria-label": `Map of ${placed.length} stations; the list below names each one` });
  const layer = svgEl("g");
  svg.append(layer);
  layer.append(svgEl("path", { d: path(outline.countries), class: "country" }));
  layer.append(svgEl("path", { d: path(outline.states), class: "state" }));
  const dots = svgEl("g", { class: "stations" });
  for (const s of placed) {
    const [cx, cy] = projection([s.longitude, s.latitude]);
    const kind = s.observation_count > 0 ? "station" : "station empty";
    const dot = svgEl("circle", { cx, cy, r: 4, class: kind, "data-id": s.station_id });
    const title = svgEl("title");
    title.textContent = `${s.name ?? s.station_id} (${s.station_id})${s.observation_count ? "" : ": no data"}`;
    dot.append(title);
    dots.append(dot);
  }
  layer.append(dots);
  const marker = svgEl("circle", { r: 6, class: "clicked", visibility: "hidden" });
  layer.append(marker);

  const nearest = el("section", { id: "nearest", "aria-live": "polite" });
  const yieldLink = el("a", { id: "yield-for-view", href: "#/yield" }, "Yield against weather for the stations in view");
  const zoom = zoomer(svg, layer, state, () => {
    const box = viewBox(projection, state.zoom);
    yieldLink.href = `#/yield/${box.join(",")}`;
    yieldLink.textContent = `Yield against weather for the ${inView(placed, box).length} stations in view`;
  });

  svg.addEventListener("click", (event) => {
    const id = event.target.getAttribute("data-id");
    if (id) {
      window.location.hash = `#/station/${id}`;
      return;
    }
    if (zoom.dragged()) return;
    const [x, y] = zoom.toMap(event);
    const [lon, lat] = projection.invert([x, y]);
    marker.setAttribute("cx", x);
    marker.setAttribute("cy", y);
    marker.setAttribute("visibility", "visible");
    showNearest(nearest, lat, lon);
  });

  view.replaceChildren(
    el("h2", {}, "Stations"),
    searchForm(),
    el("div", { class: "map-wrap" }, svg, zoom.buttons),
    el("p", { class: "hint" }, "Drag to pan, scroll or use the buttons to zoom, click the map for the nearest stations, click a dot for its station."),
    yieldLink,
    nearestForm(nearest),
    nearest,
    stationList(list),
    requestBox([{ label: "The stations", url: apiUrl("/api/stations", { limit: 1000 }) }]),
  );
  zoom.apply();
}

function inView(placed, [west, south, east, north]) {
  return placed.filter((s) => s.longitude >= west && s.longitude <= east && s.latitude >= south && s.latitude <= north);
}

/** The bounding box (west, south, east, north) of what the map shows at ``zoom``. */
function viewBox(projection, { k, x, y }) {
  const corners = [[0, 0], [WIDTH, 0], [0, HEIGHT], [WIDTH, HEIGHT], [WIDTH / 2, 0], [WIDTH / 2, HEIGHT]]
    .map(([px, py]) => projection.invert([(px - x) / k, (py - y) / k]));
  const lons = corners.map((c) => c[0]);
  const lats = corners.map((c) => c[1]);
  const round = (v) => Math.round(v * 1000) / 1000;
  return [round(Math.max(-180, Math.min(...lons))), round(Math.max(-90, Math.min(...lats))),
    round(Math.min(180, Math.max(...lons))), round(Math.min(90, Math.max(...lats)))];
}

/** Pan and zoom by a transform on ``layer``: wheel, drag, and buttons for the keyboard. */
function zoomer(svg, layer, state, changed) {
  state.zoom ??= { k: 1, x: 0, y: 0 };
  let start = null;
  let moved = false;
  const toMap = (event) => {
    const m = svg.getScreenCTM().inverse();
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(m);
    return [(p.x - state.zoom.x) / state.zoom.k, (p.y - state.zoom.y) / state.zoom.k];
  };
  const apply = () => {
    const { k, x, y } = state.zoom;
    layer.setAttribute("transform", `translate(${x},${y}) scale(${k})`);
    svg.style.setProperty("--k", k);
    changed();
  };
  const zoomAt = (factor, cx = WIDTH / 2, cy = HEIGHT / 2) => {
    const { k, x, y } = state.zoom;
    const next = Math.min(MAX_ZOOM, Math.max(1, k * factor));
    state.zoom = { k: next, x: cx - ((cx - x) * next) / k, y: cy - ((cy - y) * next) / k };
    apply();
  };
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const m = svg.getScreenCTM().inverse();
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(m);
    zoomAt(event.deltaY < 0 ? 1.25 : 0.8, p.x, p.y);
  }, { passive: false });
  svg.addEventListener("pointerdown", (event) => {
    start = { cx: event.clientX, cy: event.clientY, ...state.zoom };
    moved = false;
  });
  svg.addEventListener("pointermove", (event) => {
    if (!start) return;
    const scale = WIDTH / svg.getBoundingClientRect().width;
    const dx = (event.clientX - start.cx) * scale;
    const dy = (event.clientY - start.cy) * scale;
    if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;
    if (moved) {
      state.zoom = { k: start.k, x: start.x + dx, y: start.y + dy };
      apply();
    }
  });
  for (const name of ["pointerup", "pointerleave"]) svg.addEventListener(name, () => { start = null; });
  const button = (label, text, action) => {
    const b = el("button", { type: "button", "aria-label": label }, text);
    b.addEventListener("click", action);
    return b;
  };
  const pan = (dx, dy) => () => { state.zoom = { ...state.zoom, x: state.zoom.x + dx, y: state.zoom.y + dy }; apply(); };
  const buttons = el("div", { class: "zoom", role: "group", "aria-label": "Map view" },
    button("Zoom in", "+", () => zoomAt(1.5)),
    button("Zoom out", "−", () => zoomAt(1 / 1.5)),
    button("Pan west", "←", pan(80, 0)),
    button("Pan east", "→", pan(-80, 0)),
    button("Pan north", "↑", pan(0, 80)),
    button("Pan south", "↓", pan(0, -80)),
    button("Show all stations", "All", () => { state.zoom = { k: 1, x: 0, y: 0 }; apply(); }));
  return { apply, toMap, buttons, dragged: () => moved };
}

function searchForm() {
  const input = el("input", { id: "search", type: "search", name: "q", autocomplete: "off", placeholder: "e.g. aledo or USC0011" });
  const results = el("ul", { id: "search-results", "aria-live": "polite" });
  const form = el("form", { role: "search", class: "inline" },
    el("label", { for: "search" }, "Find a station by name or id "), input, el("button", { type: "submit" }, "Search"), results);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    try {
      const body = await getJson(apiUrl("/api/stations/search", { q, limit: 20 }));
      highlight(body.data.map((s) => s.station_id));
      results.replaceChildren(...(body.data.length
        ? body.data.map((s) => el("li", {}, stationLink(s)))
        : [el("li", {}, `No station matches “${q}”.`)]));
    } catch (error) {
      results.replaceChildren(el("li", { class: "error" }, error.message));
    }
  });
  return form;
}

function highlight(ids) {
  const chosen = new Set(ids);
  for (const dot of document.querySelectorAll("circle.station")) {
    dot.classList.toggle("found", chosen.has(dot.getAttribute("data-id")));
  }
}

function stationLink(s) {
  const where = [s.name, s.state].filter(Boolean).join(", ");
  return el("a", { href: `#/station/${s.station_id}` }, `${where || s.station_id} (${s.station_id})`);
}

function nearestForm(nearest) {
  const lat = el("input", { id: "near-lat", type: "number", step: "any", min: "-90", max: "90", required: "" });
  const lon = el("input", { id: "near-lon", type: "number", step: "any", min: "-180", max: "180", required: "" });
  const form = el("form", { class: "inline", "aria-label": "Nearest stations to a point" },
    el("label", { for: "near-lat" }, "Latitude "), lat,
    el("label", { for: "near-lon" }, " Longitude "), lon,
    el("button", { type: "submit" }, "Nearest stations"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showNearest(nearest, Number(lat.value), Number(lon.value));
  });
  return form;
}

async function showNearest(section, lat, lon) {
  const url = apiUrl("/api/stations/nearest", { lat: lat.toFixed(4), lon: lon.toFixed(4), limit: NEAREST });
  try {
    const body = await getJson(url);
    highlight(body.data.map((s) => s.station_id));
    section.replaceChildren(
      el("h3", {}, `Nearest stations to ${lat.toFixed(3)}, ${lon.toFixed(3)}`),
      el("ol", {}, ...body.data.map((s) => el("li", {}, stationLink(s), ` ${s.distance_km} km`))),
      requestBox([{ label: "Nearest stations", url }]));
  } catch (error) {
    section.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

function stationList(list) {
  const rows = list.map((s) => el("tr", {},
    el("td", {}, el("a", { href: `#/station/${s.station_id}` }, s.station_id)),
    el("td", {}, s.name ?? "—"), el("td", {}, s.state ?? "—"),
    el("td", {}, String(s.latitude ?? "—")), el("td", {}, String(s.longitude ?? "—")),
    el("td", {}, `${s.first_date ?? "—"} – ${s.last_date ?? "—"}`)));
  const head = el("tr", {}, ...["Id", "Name", "State", "Latitude", "Longitude", "Data"].map((h) => el("th", { scope: "col" }, h)));
  return el("details", { class: "values", id: "station-list" },
    el("summary", {}, `All ${list.length} stations`),
    el("table", {}, el("caption", {}, "Every station"), el("thead", {}, head), el("tbody", {}, ...rows)));
}
