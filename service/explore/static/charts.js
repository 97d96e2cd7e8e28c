// What every chart of the page is made of: a titled figure, the chart, the
// table of its values (its text alternative), and the API requests behind it
// with a link, a copyable curl line and a CSV download in the API's own format.

import { absolute, csvUrl, curlLine } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";

/** A new element with attributes and children (strings become text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function svgEl(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** A figure: heading, a slot for the chart, the requests and the table (columns, rows). */
export function figure({ id, title, requests, columns, rows }) {
  const chart = el("div", { class: "chart", id: `${id}-chart`, role: "img", "aria-label": `${title}: chart; the table below holds its values` });
  const box = el("figure", { class: "figure", id, "aria-labelledby": `${id}-title` },
    el("h3", { id: `${id}-title` }, title),
    chart,
    requestBox(requests),
    tableOf(`${title}: values`, columns, rows));
  return { box, chart };
}

/** The API requests of a chart: for each, a link, its curl line with a copy button, a CSV link. */
export function requestBox(requests) {
  const list = el("ul", { class: "requests" });
  for (const { label, url } of requests) {
    const line = curlLine(url);
    const copy = el("button", { type: "button", "aria-label": `Copy the curl line of ${label}` }, "Copy curl");
    copy.addEventListener("click", () => copyText(line, copy));
    list.append(el("li", {},
      `${label}: `, el("a", { href: url, class: "api-link" }, absolute(url)), " ",
      el("code", { class: "curl" }, line), " ", copy, " ",
      el("a", { href: csvUrl(url), class: "csv-link", download: "" }, "CSV")));
  }
  return el("div", { class: "request-box" }, el("p", {}, "From the API:"), list);
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    // Without clipboard permission (an http origin other than localhost), select it instead.
    const range = document.createRange();
    range.selectNodeContents(button.previousElementSibling);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
}

/** The values of a chart as a table, folded away under a summary. */
export function tableOf(caption, columns, rows) {
  const head = el("tr", {}, ...columns.map((c) => el("th", { scope: "col" }, c.label)));
  const body = el("tbody");
  for (const row of rows) {
    body.append(el("tr", {}, ...columns.map((c) => el("td", {}, format(row[c.key])))));
  }
  const table = el("table", {}, el("caption", {}, caption), el("thead", {}, head), body);
  return el("details", { class: "values" }, el("summary", {}, `Table (${rows.length} rows)`), table);
}

function format(value) {
  if (value === null || value === undefined) return "—";
  // Means come with many decimals; two are plenty to read (the CSV keeps them all).
  return typeof value === "number" && !Number.isInteger(value) ? String(Math.round(value * 100) / 100) : String(value);
}

/** Seconds since the epoch (UTC midnight) of an ISO day. */
export function epoch(isoDay) {
  return Date.parse(`${isoDay}T00:00:00Z`) / 1000;
}

/**
 * A uPlot time-series chart in ``slot``: ``series`` is [{label, key, color, bars, scale}],
 * ``x`` the epoch seconds. Drag to zoom, double-click to zoom out (uPlot's own gestures).
 */
export function timeChart(slot, { x, rows, series, height = 260, width = null, legend = true }) {
  const data = [x, ...series.map((s) => rows.map((r) => r[s.key] ?? null))];
  const scales = new Set(series.map((s) => s.scale || "y"));
  const options = {
    width: width ?? Math.max(320, slot.clientWidth || 800),
    height,
    legend: { show: legend },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true } },
    series: [{ label: "Date" }, ...series.map((s) => ({
      label: s.label,
      stroke: s.color,
      fill: s.bars ? s.color : undefined,
      scale: s.scale || "y",
      width: 1.5,
      spanGaps: false,
      paths: s.bars ? uPlot.paths.bars({ size: [0.9, 20] }) : undefined,
      points: { show: false },
    }))],
    axes: [{}, ...[...scales].map((scale, i) => ({
      scale,
      side: i === 0 ? 3 : 1,
      label: series.find((s) => (s.scale || "y") === scale).unit,
      grid: { show: i === 0 },
    }))],
  };
  const plot = new uPlot(options, data, slot);
  // Kept on the element so that the browser tests read what the chart holds.
  slot.uplot = plot;
  if (width === null) {
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(320, slot.clientWidth), height }));
    resize.observe(slot);
  }
  return plot;
}

/**
 * A scatter of points {x, y, label} in ``slot`` as SVG, each point labelled (the year),
 * with axes named ``xLabel`` and ``yLabel``.
 */
export function scatter(slot, { points, xLabel, yLabel, width = 720, height = 440 }) {
  if (points.length === 0) {
    slot.replaceChildren(el("p", {}, "No year has both values for these stations."));
    return;
  }
  const margin = { top: 24, right: 48, bottom: 48, left: 72 };
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const xScale = linear(d3.extent(xs), [margin.left, width - margin.right]);
  const yScale = linear(d3.extent(ys), [height - margin.bottom, margin.top]);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, class: "scatter", "aria-hidden": "true" });
  axis(svg, xScale, "x", height - margin.bottom, xLabel, width, height, margin);
  axis(svg, yScale, "y", margin.left, yLabel, width, height, margin);
  for (const p of points) {
    const g = svgEl("g", { class: "point", transform: `translate(${xScale(p.x)},${yScale(p.y)})` });
    g.append(svgEl("circle", { r: 4 }));
    const text = svgEl("text", { x: 6, y: -6 });
    text.textContent = p.label;
    g.append(text);
    svg.append(g);
  }
  slot.replaceChildren(svg);
}

function linear([lo, hi], [a, b]) {
  const span = hi - lo || 1;
  const scale = (v) => a + ((v - lo) / span) * (b - a);
  scale.domain = [lo, hi];
  return scale;
}

function axis(svg, scale, which, at, label, width, height, margin) {
  for (const tick of d3.ticks(scale.domain[0], scale.domain[1], 6)) {
    const pos = scale(tick);
    const text = svgEl("text", which === "x"
      ? { x: pos, y: at + 18, "text-anchor": "middle" }
      : { x: at - 8, y: pos + 4, "text-anchor": "end" });
    text.textContent = String(tick);
    svg.append(svgEl("line", which === "x"
      ? { x1: pos, x2: pos, y1: margin.top, y2: at, class: "grid" }
      : { x1: at, x2: width - margin.right, y1: pos, y2: pos, class: "grid" }), text);
  }
  const name = svgEl("text", which === "x"
    ? { x: (margin.left + width - margin.right) / 2, y: height - 8, "text-anchor": "middle", class: "axis-label" }
    : { x: -(margin.top + height - margin.bottom) / 2, y: 16, transform: "rotate(-90)", "text-anchor": "middle", class: "axis-label" });
  name.textContent = label;
  svg.append(name);
}
