// The page's entry: a view for each address (#/, #/station/ID[/START/END],
// #/yield[/BBOX[/FIGURE]]), drawn into <main>; errors are shown, not swallowed.

import { renderMap } from "./map.js";
import { renderStation } from "./station.js";
import { renderYield } from "./yield.js";

const view = document.getElementById("view");
const status = document.getElementById("status");
const mapState = {};
let shown = 0;

async function route() {
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const turn = ++shown;
  status.textContent = "Loading…";
  view.setAttribute("aria-busy", "true");
  performance.clearMarks("explore-drawn");
  performance.clearMarks("explore-first-chart");
  try {
    if (parts[0] === "station" && parts[1]) {
      await renderStation(view, parts[1], parts.slice(2, 4).filter(Boolean));
      document.title = `${parts[1]}: Weather Warehouse`;
    } else if (parts[0] === "yield") {
      const bbox = parts[1] && parts[1] !== "all" ? parts[1].split(",").map(Number) : null;
      await renderYield(view, bbox, parts[2]);
      document.title = "Yield and weather: Weather Warehouse";
    } else {
      await renderMap(view, mapState);
      document.title = "Stations: Weather Warehouse";
    }
    if (turn !== shown) return;
    status.textContent = "";
    // Read by the browser tests and bench/explore.py: when the view's content is drawn.
    performance.mark("explore-drawn", { detail: parts[0] || "map" });
    view.dataset.drawn = parts[0] || "map";
  } catch (error) {
    if (turn !== shown) return;
    status.textContent = "";
    view.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: `Could not load this view: ${error.message}` }));
    view.dataset.drawn = "error";
  } finally {
    view.removeAttribute("aria-busy");
  }
}

window.addEventListener("hashchange", () => {
  delete view.dataset.drawn;
  route().then(() => view.focus({ preventScroll: true }));
});
route();
